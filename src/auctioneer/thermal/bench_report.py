"""Show the thermal benchmark: progress, two tables, target lines and a PNG.

Example:
    >>> BENCHMARK.console().width >= 80
    True
"""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.table import Table

from auctioneer.measure.benchmark import Benchmark
from auctioneer.measure.record import write_png
from auctioneer.measure.target import print_targets
from auctioneer.thermal.bench import (
    GPU_BUDGET_NS,
    ThermalBenchResult,
    run_thermal_bench,
)

__all__ = ["BENCHMARK", "print_report", "write_plot"]


def print_report(result: ThermalBenchResult, console: Console) -> None:
    """The operations table, the dispatch table and the target lines."""
    ops = Table(title="Thermal hot paths (ns per call)")
    for col in ("operation", "p50", "p99", "baseline", "speed-up (p50)"):
        ops.add_column(col, justify="left" if col in ("operation", "baseline") else "right")
    for r in result.ops:
        ops.add_row(r.name, f"{r.p50_ns:,.0f}", f"{r.p99_ns:,.0f}", r.baseline or "",
                    f"{r.speedup:.1f}x" if r.speedup else "")
    console.print(ops)
    gpu = Table(title=f"GPU dispatch (us per dispatch; budget {GPU_BUDGET_NS // 1000} us)")
    for col in ("path", "bids", "bundles / bid", "winners", "p50", "p99", "p99.9",
                "p99 on-CPU", "preempted", "p99 / budget", "budget"):
        gpu.add_column(col, justify="left" if col == "path" else "right")
    for d in result.dispatch:
        gpu.add_row(d.path, str(d.bids), str(d.bundles_per_bid), str(d.winners), _us(d.p50_ns),
                    _us(d.p99_ns), _us(d.p999_ns), _us(d.cpu_p99_ns),
                    "" if d.preempted is None else f"{d.preempted} ({d.scheduler})",
                    f"{d.p99_ns / GPU_BUDGET_NS:.2f}",
                    "PASS" if d.p99_ns <= GPU_BUDGET_NS else "MISS")
    console.print(gpu)
    same = Table(title="Bundle dispatch, same batches: the clearing baseline (whole dispatch) "
                 "and the pure-Python reference solver alone (us)")
    for col in ("bids", "bundles / bid", "nodes", "bundles p99", "clearing p50",
                "clearing p99", "speed-up (p99)", "reference p50", "reference p99"):
        same.add_column(col, justify="right")
    for d in result.dispatch:
        if d.baseline is not None:
            same.add_row(str(d.bids), str(d.bundles_per_bid),
                         "" if d.search_nodes is None else f"{d.search_nodes:,}", _us(d.p99_ns),
                         _us(d.baseline_p50_ns), _us(d.baseline_p99_ns),
                         "" if d.speedup is None else f"{d.speedup:.1f}x",
                         _us(d.reference_p50_ns), _us(d.reference_p99_ns))
    console.print(same)
    sizes = result.table_bytes
    console.print(f"coupling tables: CPU {sizes['cpu']:,} B, GPU {sizes['gpu']:,} B (uint32)")
    print_targets(console, result.targets)


def _us(ns: float | None) -> str:
    return "" if ns is None else f"{ns / 1000:,.1f}"


def write_plot(result: ThermalBenchResult, path: Path) -> None:
    """A PNG: per-call latency of each operation, and dispatch latency against batch size."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(14, 4.8), layout="constrained")
    ops_ax, gpu_ax = fig.subplots(1, 2)
    names = [r.name for r in result.ops]
    xs = range(len(names))
    ops_ax.bar([x - 0.2 for x in xs], [r.p50_ns for r in result.ops], 0.4, label="p50")
    ops_ax.bar([x + 0.2 for x in xs], [r.p99_ns for r in result.ops], 0.4, label="p99")
    ops_ax.set_xticks(list(xs), names, rotation=25, ha="right")
    ops_ax.set_yscale("log")
    ops_ax.set_ylabel("ns per call (log)")
    ops_ax.set_title("Thermal hot paths")
    lines = sorted({(d.path, d.bundles_per_bid) for d in result.dispatch})
    for path_name, per_bid in lines:
        rows = sorted((d for d in result.dispatch
                       if (d.path, d.bundles_per_bid) == (path_name, per_bid)),
                      key=lambda d: d.bids)
        unit = path_name.startswith("vickrey")
        label = path_name if unit else f"{path_name} x{per_bid}"
        xs_n = [d.bids for d in rows]
        gpu_ax.plot(xs_n, [d.p50_ns / 1000 for d in rows], marker="o", label=f"{label} p50")
        gpu_ax.plot(xs_n, [d.p99_ns / 1000 for d in rows], marker="x", linestyle="--",
                    label=f"{label} p99")
        if rows[0].reference_p50_ns is not None:
            gpu_ax.plot(xs_n, [(d.reference_p50_ns or 0) / 1000 for d in rows], marker="s",
                        linestyle=":", label=f"Python reference x{per_bid} p50")
    gpu_ax.axhline(GPU_BUDGET_NS / 1000, color="tab:red", linestyle=":", label="100 us budget")
    gpu_ax.set_xscale("log")
    gpu_ax.set_yscale("log")
    gpu_ax.set_xlabel("bids per dispatch (log)")
    gpu_ax.set_ylabel("us per dispatch (log)")
    gpu_ax.set_title("GPU plane dispatch")
    for ax in (ops_ax, gpu_ax):
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize="small")
    write_png(fig, path, dpi=100)


BENCHMARK = Benchmark("bench thermal", 120, run_thermal_bench, print_report, write_plot)
