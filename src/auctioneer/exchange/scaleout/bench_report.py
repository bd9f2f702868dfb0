"""Show a stream benchmark: a progress bar while it runs, then a table, target lines, a plot.

Kept apart from :mod:`auctioneer.exchange.scaleout.bench` so the measurements
can run without a console, and so matplotlib is imported only to plot.

Example:
    >>> _rate(12_345.6)
    '12,346'
"""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.table import Table

from auctioneer.exchange.scaleout.bench import (
    REPLAY_TARGET,
    StreamBenchResult,
    run_stream_bench,
)
from auctioneer.measure.benchmark import Benchmark
from auctioneer.measure.record import write_png
from auctioneer.measure.target import print_targets

__all__ = ["BENCHMARK", "print_report", "write_plot"]


def _rate(value: float) -> str:
    return f"{value:,.0f}"


def print_report(result: StreamBenchResult, console: Console) -> None:
    """The per-partition table, publish and latency lines, and the target lines."""
    cfg = result.config
    console.print(result.environment.header(
        "bench stream", f"{cfg.orders:,} orders, {cfg.partitions} partitions, seed {cfg.seed}"))
    table = Table(title="Commands per second, per partition (baseline: decode + apply "
                  "in-process, no NATS)")
    for name in ("partition", "commands", "baseline /s", "replay /s", "replay / baseline",
                 "replica /s", "replicas agree", "= baseline"):
        table.add_column(name, justify="right")
    for r in result.runs:
        table.add_row(str(r.partition), f"{r.commands:,}", _rate(r.baseline_rate),
                      _rate(r.replay_rate), f"{r.replay_rate / r.baseline_rate:.2f}x",
                      _rate(r.commands / r.replica_s), "yes" if r.replicas_agree else "NO",
                      "yes" if r.matches_baseline else "NO")
    console.print(table)
    console.print(f"publish (pipelined, every message acknowledged): {result.messages:,} "
                  f"messages in {result.publish_s:.2f} s = {_rate(result.publish_rate)}/s")
    for name, pct in (("publish -> ack", result.ack_ns), ("publish -> applied",
                                                          result.applied_ns)):
        console.print(f"{name}, one at a time: p50 {pct.p50 / 1e6:.3f} ms, p99 "
                      f"{pct.p99 / 1e6:.3f} ms, p99.9 {pct.p999 / 1e6:.3f} ms")
    print_targets(console, result.targets)


def write_plot(result: StreamBenchResult, path: Path) -> None:
    """A PNG: commands/s per partition (baseline, replay, replica) and the publish rate."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(9, 4.8), layout="constrained")
    ax = fig.subplots()
    width = 0.27
    xs = list(range(len(result.runs)))
    series = (("in-process baseline", [r.baseline_rate for r in result.runs]),
              ("replay from JetStream", [r.replay_rate for r in result.runs]),
              ("second replica", [r.commands / r.replica_s for r in result.runs]))
    for i, (label, values) in enumerate(series):
        ax.bar([x + (i - 1) * width for x in xs], values, width, label=label)
    ax.axhline(result.publish_rate, color="tab:purple", linestyle="--",
               label=f"publish, all partitions ({_rate(result.publish_rate)}/s)")
    ax.axhline(REPLAY_TARGET, color="tab:red", linestyle=":",
               label=f"target {REPLAY_TARGET:,}/s per partition")
    ax.set_xticks(xs, [f"partition {r.partition}" for r in result.runs])
    ax.set_ylabel("commands per second")
    ax.set_title(f"Commands through JetStream ({result.config.orders:,} orders)")
    ax.grid(True, axis="y", alpha=0.3)
    ax.legend(fontsize="small")
    write_png(fig, path, dpi=100)


BENCHMARK = Benchmark("bench stream", 120, run_stream_bench, print_report, write_plot)
