"""Show a cluster benchmark: a table of served runs against the baseline, failover and catch-up
lines, the target lines, and a two-panel plot.

Example:
    >>> _ms(1.23456)
    '1.2'
"""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.table import Table

from auctioneer.measure.benchmark import Benchmark
from auctioneer.measure.target import print_targets
from auctioneer.service.clusterbench import (
    FAILOVER_TARGET_S,
    ClusterBenchResult,
    run_cluster_bench,
)

__all__ = ["BENCHMARK", "print_report", "write_plot"]


def _ms(value: float) -> str:
    return f"{value:.1f}"


def print_report(result: ClusterBenchResult, console: Console) -> None:
    """The served runs against the single process, failover, catch-up and the targets."""
    cfg = result.config
    console.print(result.environment.header(
        "bench cluster", f"{cfg.clients} closed-loop HTTP clients x {cfg.duration_s:g} s per "
        f"run, lease {cfg.lease_ttl_s:g} s"))
    table = Table(title="Orders acknowledged through the whole served path "
                  "(baseline: one serve process, same clients)")
    for name in ("setup", "orders", "orders/s", "/ baseline", "p50 ms", "p99 ms",
                 "p99.9 ms", "503s retried"):
        table.add_column(name, justify="right")
    base = result.baseline.rate
    for r in (result.baseline, *result.runs):
        table.add_row(r.label, f"{r.orders:,}", f"{r.rate:,.0f}", f"{r.rate / base:.2f}x",
                      _ms(r.latency_ms.p50), _ms(r.latency_ms.p99), _ms(r.latency_ms.p999),
                      f"{r.refused:,}")
    console.print(table)
    times = ", ".join(f"{t:.2f}" for t in result.failover_s)
    console.print(f"failover (kill -9 the leader -> a batch under a new term), "
                  f"{len(result.failover_s)} times: p50 {result.failover.p50:.2f} s, "
                  f"p99 {result.failover.p99:.2f} s  [{times}]")
    c = result.catchup
    console.print(f"catch-up: a fresh replica read {c.commands:,} commands in "
                  f"{c.seconds:.2f} s ({c.rate:,.0f} commands/s, process start included)")
    print_targets(console, result.targets)


def write_plot(result: ClusterBenchResult, path: Path) -> None:
    """A PNG: orders/s per setup with p99 latency, and the failover times."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(11, 4.6), layout="constrained")
    left, right = fig.subplots(1, 2)
    runs = [result.baseline, *result.runs]
    xs = list(range(len(runs)))
    left.bar(xs, [r.rate for r in runs], color="tab:blue")
    left.set_xticks(xs, [r.label for r in runs], fontsize="small")
    left.set_ylabel("orders acknowledged per second")
    left.set_title("Served path throughput (p99 latency above each bar)")
    for x, r in zip(xs, runs, strict=True):
        left.annotate(f"p99 {r.latency_ms.p99:.0f} ms", (x, r.rate), ha="center",
                      va="bottom", fontsize="small")
    left.grid(True, axis="y", alpha=0.3)
    repeats = list(range(1, len(result.failover_s) + 1))
    right.plot(repeats, result.failover_s, "o-", color="tab:orange", label="kill -9 -> new term")
    right.axhline(result.config.lease_ttl_s, color="tab:gray", linestyle=":",
                  label=f"lease TTL {result.config.lease_ttl_s:g} s")
    right.axhline(FAILOVER_TARGET_S, color="tab:red", linestyle="--",
                  label=f"target p99 {FAILOVER_TARGET_S:g} s")
    right.set_xlabel("repeat")
    right.set_ylabel("failover time (s)")
    right.set_ylim(bottom=0)
    right.set_title(f"Leader failover: p50 {result.failover.p50:.2f} s, "
                    f"p99 {result.failover.p99:.2f} s")
    right.grid(True, alpha=0.3)
    right.legend(fontsize="small")
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100, format="png")


BENCHMARK = Benchmark("bench cluster", 120, run_cluster_bench, print_report, write_plot)
