"""Show a ring benchmark: a progress bar while it runs, then tables, ratios, targets and a plot.

The measuring is :mod:`auctioneer.tick.ring_bench`, apart from this for the reason
:mod:`auctioneer.measure.benchmark` gives.
"""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.table import Table

from auctioneer.measure.benchmark import Benchmark
from auctioneer.measure.latency_plot import label_percentile_axis, plot_percentiles
from auctioneer.measure.record import write_png
from auctioneer.measure.target import print_targets
from auctioneer.measure.timing import Percentiles
from auctioneer.tick.ring_bench import (
    SUBMIT_TARGET_NS,
    RingBenchResult,
    run_ring_bench,
)

__all__ = [
    "BENCHMARK",
    "latency_table",
    "print_report",
    "throughput_table",
    "write_plot",
]


def _fmt(ns: float) -> str:
    return f"{ns:.1f}" if ns < 100 else f"{ns:,.0f}"


def _triple(p: Percentiles) -> list[str]:
    return [_fmt(v) for v in p.as_tuple()]


def latency_table(result: RingBenchResult) -> Table:
    """One row per operation: where it ran and its p50 / p99 / p99.9."""
    table = Table(
        title=f"Latency, ns (median of {result.config.repeats} repeats x "
        f"{result.config.ops:,} ops)",
        caption=(
            "Raw numbers, nothing subtracted: an empty C timer interval costs "
            f"{' / '.join(_triple(result.timer_c))} ns, an empty perf_counter_ns pair "
            f"{' / '.join(_triple(result.timer_python))} ns (p50 / p99 / p99.9)."
        ),
        caption_justify="left",
        header_style="bold",
    )
    for header, justify in (("operation", "left"), ("where", "left"), ("p50", "right"),
                            ("p99", "right"), ("p99.9", "right")):
        table.add_column(header, justify=justify)  # type: ignore[arg-type]
    for row in (*result.native, *result.python):
        table.add_row(row.name, row.where, *_triple(row.latency))
    return table


def throughput_table(result: RingBenchResult) -> Table:
    """Bids per second from producers to the consumer."""
    table = Table(title="Throughput, producers -> one consumer", header_style="bold")
    for header in ("transport", "where", "producers", "bids", "M bids/s", "full / bid",
                   "pinned"):
        table.add_column(header, justify="left" if header in ("transport", "where") else "right")
    for t in result.throughput:
        table.add_row(t.name, t.where, str(t.producers), f"{t.bids:,}",
                      f"{t.per_second / 1e6:.3f}", f"{t.full_per_bid:.2f}",
                      "yes" if t.pinned else "no")
    return table


def print_report(result: RingBenchResult, console: Console) -> None:
    """The environment line, the tables, the ratios and the target lines."""
    console.print(result.environment.header("bench ring",
                                             f"timer {result.timer_hz / 1e9:.3f} GHz",
                                             f"{result.elapsed_s:.1f} s"))
    console.print(latency_table(result))
    console.print(throughput_table(result))
    for key, ratio in result.ratios().items():
        console.print(f"ratio  {key}: {ratio:,.2f}", highlight=False)
    print_targets(console, result.targets)


def write_plot(result: RingBenchResult, path: Path) -> None:
    """A PNG: submit latency by percentile in C and from Python, and throughput bars."""
    from matplotlib import colormaps
    from matplotlib.figure import Figure

    fig = Figure(figsize=(18, 5.5), layout="constrained")
    axes = fig.subplots(1, 3)
    palette = colormaps["tab10"]
    panels = (
        ("in C (rdtsc)", [r.name for r in result.native if "push" in r.name],
         result.timer_c.p50),
        ("from Python (perf_counter_ns)", [r.name for r in result.python],
         result.timer_python.p50),
    )
    for ax, (label, names, empty) in zip(axes[:2], panels, strict=True):
        for i, name in enumerate(names):
            data = result.samples.get(name)
            if data is None or data.size == 0:
                continue
            plot_percentiles(ax, data, label=name, color=palette(i % palette.N))
        ax.axhline(empty, color="grey", linestyle=":", label="empty timer interval (p50)")
        if label.startswith("in C"):
            ax.axhline(SUBMIT_TARGET_NS, color="red", linestyle="--", label="target 100 ns")
        longest = max((d.size for n in names if (d := result.samples.get(n)) is not None),
                      default=1)
        label_percentile_axis(ax, longest, "latency, ns (log)",
                              f"Submit / read latency {label}, repeats pooled")
        ax.legend(fontsize="x-small")

    ax = axes[2]
    labels = [f"{t.name}\n{t.where}, x{t.producers}" for t in result.throughput]
    rates = [t.per_second for t in result.throughput]
    ax.barh(range(len(rates)), rates, color=[palette(i % palette.N) for i in range(len(rates))])
    ax.set_yticks(range(len(rates)), labels, fontsize="x-small")
    ax.set_xscale("log")
    ax.set_xlabel("bids per second (log)")
    ax.set_title("Throughput, producers -> one consumer")
    ax.grid(True, which="both", axis="x", alpha=0.3)

    write_png(fig, path)


BENCHMARK = Benchmark("bench ring", 140, run_ring_bench, print_report, write_plot)
