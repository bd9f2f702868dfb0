"""Show the exchange benchmark: a progress bar, one table, target lines and a plot.

Kept apart from :mod:`auctioneer.exchange.bench` so the measurements run and
test without a console, and matplotlib is imported only to plot.

Example:
    >>> _ratio(50_000.0, 100_000.0)
    '0.50x'
"""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.table import Table

from auctioneer.exchange.bench import (
    TARGET_P99_NS,
    TARGET_RATE,
    ExchangeBenchResult,
    run_exchange_bench,
)
from auctioneer.measure.benchmark import Benchmark
from auctioneer.measure.record import write_png
from auctioneer.measure.target import print_targets

__all__ = ["BENCHMARK", "print_report", "results_table",
           "write_plot"]


def _ratio(ours: float, theirs: float) -> str:
    return f"{ours / theirs:.2f}x"


def results_table(result: ExchangeBenchResult) -> Table:
    """One row per engine: orders/s, auctioneer's ratio to it, latency percentiles, volume."""
    config = result.config
    books = (f"three books, {config.mix} % resting all-or-none, {config.mix} % cross-market "
             "bids" if config.mix else "one book")
    table = Table(
        title=f"In-process matching: {config.orders:,} seeded limit orders, {books} "
        f"(median of {config.repeats} run{'s' if config.repeats > 1 else ''})",
        caption=f"auctioneer/engine = auctioneer's orders/s over the engine's. Latency per "
        f"order from perf_counter_ns, timer cost {result.timer_ns:.0f} ns included; GC on, the "
        "pre-built inputs frozen (gc.freeze). "
        "auctioneer (the Python engine, the reference) and auctioneer-native-engine (the "
        "same in C) also validate, settle money and capacity, emit events and keep the "
        "price index; auctioneer-native (the native matching core) and the others only "
        "match.",
        caption_justify="left",
        header_style="bold",
    )
    for header in ("Engine", "Version", "Orders/s", "auctioneer/engine", "p50 us", "p99 us",
                   "p99.9 us", "Matched", "Resting"):
        table.add_column(header, justify="left" if header in ("Engine", "Version") else "right")
    ours = result.run("auctioneer")
    for r in result.runs:
        table.add_row(
            r.engine, r.version, f"{r.rate:,.0f}",
            "-" if ours is None else _ratio(ours.rate, r.rate),
            *(f"{v / 1000:,.2f}" for v in r.latency.as_tuple()),
            "-" if r.volume < 0 else f"{r.volume:,}", "-" if r.resting < 0 else f"{r.resting:,}")
    return table


def print_report(result: ExchangeBenchResult, console: Console) -> None:
    """The environment line, the table and the target lines."""
    console.print(result.environment.header("bench exchange", f"seed {result.config.seed}",
                                             f"{result.elapsed_s:.1f} s"), highlight=False)
    console.print(results_table(result))
    for skipped in result.skipped:
        console.print(f"Skipped {skipped}", highlight=False)
    ours, native = result.run("auctioneer"), result.run("auctioneer-native-engine")
    if result.config.mix and native is not None:
        versus = "" if ours is None else f"{native.rate / ours.rate:.2f}x the Python engine, "
        console.print(f"Mixed stream: native engine {native.rate:,.0f} orders/s, {versus}"
                      f"{native.outside_c:,} of {native.orders:,} commands with the state "
                      "outside C", highlight=False)
    memory = result.memory
    if memory is not None:
        console.print(f"Memory: Python engine {memory.python_order:,.0f} bytes per resting "
                      f"order, {memory.python_market:,.0f} per market; native book "
                      f"{memory.native_order:,.0f} bytes per order of capacity, "
                      f"{memory.native_level:,.0f} per price level of capacity; native engine "
                      f"{memory.engine_order:,.0f} bytes per resting order, "
                      f"{memory.engine_market:,.0f} per market",
                      highlight=False)
    if result.decode:
        console.print("Journal decoding: " + ", ".join(
            f"{name} {rate:,.0f} commands/s" for name, rate in result.decode.items()),
            highlight=False)
    print_targets(console, result.targets)


def write_plot(result: ExchangeBenchResult, path: Path) -> None:
    """A PNG: orders/s per engine (log), and p50/p99/p99.9 latency per engine (log)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(13, 4.8), layout="constrained")
    rate_ax, lat_ax = fig.subplots(1, 2)
    names = [r.engine for r in result.runs]
    colours = ["tab:blue" if n == "auctioneer" else "tab:gray" for n in names]
    rate_ax.bar(names, [r.rate for r in result.runs], color=colours)
    rate_ax.axhline(TARGET_RATE, color="tab:red", linestyle=":",
                    label=f"target {TARGET_RATE:,} orders/s")
    rate_ax.set_yscale("log")
    rate_ax.set_ylabel("orders per second (log)")
    rate_ax.set_title("Throughput")
    rate_ax.legend(fontsize="small")
    width = 0.27
    for k, (label, pick) in enumerate((("p50", 0), ("p99", 1), ("p99.9", 2))):
        xs = [i + (k - 1) * width for i in range(len(names))]
        lat_ax.bar(xs, [r.latency.as_tuple()[pick] / 1000 for r in result.runs], width,
                   label=label)
    lat_ax.axhline(TARGET_P99_NS / 1000, color="tab:red", linestyle=":",
                   label=f"p99 target {TARGET_P99_NS // 1000} us")
    lat_ax.set_xticks(range(len(names)), names)
    lat_ax.set_yscale("log")
    lat_ax.set_ylabel("microseconds per order (log)")
    lat_ax.set_title("Latency per order")
    lat_ax.legend(fontsize="small")
    for ax in (rate_ax, lat_ax):
        ax.grid(True, axis="y", which="both", alpha=0.3)
        ax.tick_params(axis="x", labelrotation=15)
    write_png(fig, path, dpi=100)


BENCHMARK = Benchmark("bench exchange", 140, run_exchange_bench, print_report, write_plot)
