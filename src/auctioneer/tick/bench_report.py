"""Show a tick benchmark: a progress bar while it runs, then a table, target lines and a plot.

The measuring is :mod:`auctioneer.tick.bench`, apart from this for the reason
:mod:`auctioneer.measure.benchmark` gives.
"""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.table import Table

from auctioneer.measure.benchmark import Benchmark
from auctioneer.measure.latency_plot import label_log_axes, label_percentile_axis, plot_percentiles
from auctioneer.measure.record import write_png
from auctioneer.measure.target import print_targets
from auctioneer.measure.timing import Percentiles
from auctioneer.tick.bench import (
    SampledAccuracy,
    TickBenchResult,
    run_tick_bench,
)

__all__ = [
    "BENCHMARK",
    "accuracy_table",
    "adversarial_table",
    "print_report",
    "results_table",
    "write_plot",
]

"""Columns the results table needs to show every cell on one line."""


def _triple(p: Percentiles | None) -> str:
    if p is None:
        return "-"
    return " / ".join(_fmt(v) for v in p.as_tuple())


def _fmt(ns: float) -> str:
    if ns < 100:
        return f"{ns:.1f}"
    if ns < 100_000:
        return f"{ns:,.0f}"
    return f"{ns / 1000:,.0f}k"


def results_table(result: TickBenchResult) -> Table:
    """One row per book and size: latencies in C and from Python, memory, speed-ups."""
    timer = result.timer
    table = Table(
        title="Tick latency, ns: p50 / p99 / p99.9 (median of "
        f"{result.config.repeats} repeats x {result.config.ops:,} ops)",
        caption=(
            f"tick = update + select({2}) (winner + Vickrey price). Raw numbers, nothing "
            f"subtracted: an empty C interval costs {_triple(timer.native)} ns, an empty "
            f"perf_counter_ns pair {_triple(timer.python)} ns. x heapq = heapq's Python tick "
            "time / this one's (p50, p99). Py/C = Python tick p50 / C tick p50."
        ),
        caption_justify="left",
        header_style="bold",
    )
    table.add_column("Structure")
    table.add_column("N", justify="right")
    for header in ("C tick", "C update", "C expire", "Py tick", "Py update", "Py expire"):
        table.add_column(header, justify="right")
    table.add_column("B/agent", justify="right")
    table.add_column("x heapq p50", justify="right")
    table.add_column("x heapq p99", justify="right")
    table.add_column("Py/C", justify="right")
    last_n = None
    for row in sorted(result.rows, key=lambda r: (r.n, not r.native)):
        if last_n is not None and row.n != last_n:
            table.add_section()
        last_n = row.n
        speedup = result.speedup_vs_heapq(row)
        in_c = row.in_c
        table.add_row(
            row.name if row.native else f"[italic]{row.name}[/italic]",
            f"{row.n:,}",
            _triple(in_c.tick if in_c else None),
            _triple(in_c.update if in_c else None),
            _triple(in_c.expire if in_c else None),
            _triple(row.from_python.tick),
            _triple(row.from_python.update),
            _triple(row.from_python.expire),
            f"{row.bytes_per_agent:.1f}" + ("" if row.native else "*"),
            "-" if speedup is None else f"{speedup[0]:.2f}",
            "-" if speedup is None else f"{speedup[1]:.2f}",
            "-" if in_c is None else f"{row.from_python.tick.p50 / in_c.tick.p50:.1f}",
        )
    return table


def accuracy_table(accuracy: tuple[SampledAccuracy, ...]) -> Table:
    """The sampled book against an exact one: winner miss rate and Vickrey price error."""
    table = Table(
        title="SampledTopK vs exact IndexedHeap on the same ticks",
        header_style="bold",
    )
    for header in ("N", "samples", "ticks", "winner miss rate", "price miss rate",
                   "mean rel. price error"):
        table.add_column(header, justify="right")
    for acc in accuracy:
        table.add_row(
            f"{acc.n:,}",
            f"{acc.samples}" + (" (exact)" if acc.exact else ""),
            f"{acc.ticks:,}",
            f"{acc.miss_rate:.2%}",
            f"{acc.price_miss_rate:.2%}",
            f"{acc.mean_rel_price_error:.3%}",
        )
    return table


def adversarial_table(result: TickBenchResult) -> Table:
    """Native ticks in C under the adversarial workloads, and LazyHeap's rescans."""
    table = Table(title="Adversarial workloads: tick in C (ns), p50 / p99 / p99.9",
                  caption="rescan: one agent on top re-bids every tick; crowded: every bid "
                          "in one tier. Rescans: LazyHeap cache recomputes per tick.",
                  caption_justify="left")
    for header in ("Workload", "Structure", "N", "tick p50/p99/p99.9", "rescans/tick"):
        table.add_column(header, justify="left" if header in ("Workload", "Structure")
                         else "right")
    for a in result.adversarial:
        table.add_row(a.workload, a.name, f"{a.n:,}", _triple(a.tick),
                      "" if a.rescans_per_tick is None else f"{a.rescans_per_tick:.3f}")
    return table


def print_report(result: TickBenchResult, console: Console) -> None:
    """The environment line, the tables and the target lines."""
    env, timer = result.environment, result.timer
    console.print(env.header("bench tick", f"timer {timer.native_hz / 1e9:.3f} GHz",
                             f"{result.elapsed_s:.1f} s"))
    console.print(results_table(result))
    console.print("* baselines: bytes allocated to build the book (tracemalloc) / N; "
                  "native: the core block's nbytes / capacity.")
    if result.accuracy:
        console.print(accuracy_table(result.accuracy))
    if result.adversarial:
        console.print(adversarial_table(result))
    print_targets(console, result.targets)


def write_plot(result: TickBenchResult, path: Path) -> None:
    """A PNG: tick latency by percentile (in C, from Python) at one N, and p99 against N."""
    # The object API with no pyplot: no global figure state, no GUI backend.
    from matplotlib import colormaps
    from matplotlib.figure import Figure

    samples = result.samples
    fig = Figure(figsize=(20, 5.5), layout="constrained")
    axes = fig.subplots(1, 3)
    palette = colormaps["tab10"]
    colors = {name: palette(i % palette.N) for i, name in enumerate(result.config.books)}
    panels = (("in C", samples.in_c, result.timer.native),
              ("from Python", samples.from_python, result.timer.python))
    for ax, (label, dists, empty) in zip(axes[:2], panels, strict=True):
        longest = max((d.size for d in dists.values()), default=1)
        for name, data in dists.items():
            if data.size == 0:
                continue
            plot_percentiles(ax, data, label=name, color=colors[name],
                             linestyle="-" if name in samples.in_c else "--")
        ax.axhline(empty.p50, color="grey", linestyle=":", label="empty timer interval (p50)")
        label_percentile_axis(ax, longest, "tick latency, ns (log)",
                              f"Tick latency {label}, N={samples.n:,}, repeats pooled")
        ax.legend(fontsize="small")

    ax = axes[2]
    for name in result.config.books:
        rows = sorted((r for r in result.rows if r.name == name), key=lambda r: r.n)
        sizes = [r.n for r in rows]
        in_c = [r.in_c.tick.p99 for r in rows if r.in_c is not None]
        if in_c:
            ax.plot(sizes, in_c, marker="o", color=colors[name], label=f"{name} in C")
        ax.plot(sizes, [r.from_python.tick.p99 for r in rows], marker="s", linestyle="--",
                color=colors[name], label=f"{name} from Python")
    label_log_axes(ax, "agents N (log)", "tick p99, ns (log)",
                   "Tick p99 against N (solid: in C, dashed: from Python)")
    ax.legend(fontsize="x-small", loc="upper left", bbox_to_anchor=(1.01, 1.0))

    write_png(fig, path)


BENCHMARK = Benchmark("bench tick", 200, run_tick_bench, print_report, write_plot)
