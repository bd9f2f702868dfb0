"""Show a clearing benchmark: a progress bar while it runs, then a table, target lines, a plot.

The measuring is :mod:`auctioneer.clearing.bench`, apart from this for the reason
:mod:`auctioneer.measure.benchmark` gives.
"""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.table import Table

from auctioneer.clearing.bench import (
    CELL_BUDGET_S,
    ClearingBenchResult,
    MethodRun,
    run_clearing_bench,
)
from auctioneer.clearing.estimate import format_bytes as clearing_format_bytes
from auctioneer.measure.benchmark import Benchmark
from auctioneer.measure.latency_plot import label_log_axes
from auctioneer.measure.record import write_png
from auctioneer.measure.target import print_targets

__all__ = [
    "BENCHMARK",
    "METHOD_LABELS",
    "format_bytes",
    "auto_table",
    "print_report",
    "results_table",
    "write_plot",
]

METHOD_LABELS = {"dp": "DP", "milp": "MILP", "bnb": "B&B"}


def format_bytes(n: int | None) -> str:
    """``1536`` -> ``'1.5 KiB'``; ``None`` (nothing measured) -> ``'-'``.

    The DP estimate's own format, so a predicted size and a measured peak read alike.
    """
    return "-" if n is None else clearing_format_bytes(n)


def _time_cell(run: MethodRun | None, limit: float) -> str:
    if run is None:
        return "-"
    if run.status == "skipped":
        return "[dim]skipped[/dim]"
    if run.status == "too-large":
        return "[yellow]too large[/yellow]"
    median = run.median_s
    text = "-" if median is None else _ms(median)
    if run.status == "time-limit":
        return f"[yellow]>{limit:g} s[/yellow]"
    if run.status != "optimal":
        return f"[red]{run.status}[/red] {text}"
    return f"{text} [dim]({len(run.seconds)})[/dim]"


def _ms(seconds: float) -> str:
    ms = seconds * 1000
    if ms < 10:
        return f"{ms:.2f}"
    if ms < 1000:
        return f"{ms:.1f}"
    return f"{ms:,.0f}"


def _money(micros: int | None) -> str:
    if micros is None:
        return "-"
    return f"{micros / 1_000_000:,.0f}" if micros % 1_000_000 == 0 else f"{micros:,}u"


def results_table(result: ClearingBenchResult) -> Table:
    """One row per instance: each method's median time, the optimum, VCG ratio, peak memory."""
    config = result.config
    methods = config.methods
    table = Table(
        title=(f"Clearing time, ms: median of up to {config.repeats} repeats (count in "
               f"brackets); {config.bundles} bundles per bid; time limit {config.time_limit:g} s "
               "per solve"),
        caption=(
            "easy = uncorrelated, hard = strongly correlated prices (Pisinger's classes, "
            "auctioneer.clearing.generate); 2 resources of capacity "
            f"{config.capacity}, 3r = 3 resources of capacity {config.capacity_3d}. Repeats "
            f"stop after {CELL_BUDGET_S:g} s per cell; a method that fails to finish is "
            "skipped at larger sizes. revenue = the optimum all finished methods agree on "
            "(currency units). VCG/DP = vcg_payments (clearing included) / one DP clearing, "
            "median ratio. Peak = tracemalloc peak of one solve (HiGHS's C++ memory is not "
            "seen)."
        ),
        caption_justify="left",
        header_style="bold",
    )
    table.add_column("Series")
    table.add_column("Bids", justify="right")
    for m in methods:
        table.add_column(f"{METHOD_LABELS[m]} ms", justify="right")
    table.add_column("Revenue", justify="right")
    table.add_column("Exact", justify="center")
    table.add_column("VCG/DP", justify="right")
    for m in methods:
        table.add_column(f"Peak {METHOD_LABELS[m]}", justify="right")
    last = None
    for cell in result.cells:
        if last is not None and cell.series != last:
            table.add_section()
        last = cell.series
        vcg = cell.vcg
        if vcg is None:
            vcg_text = "-"
        elif vcg.ratio is None:
            vcg_text = f"[yellow]{vcg.how}[/yellow]"
        else:
            vcg_text = f"{vcg.ratio:.2f}x"
        table.add_row(
            cell.series,
            f"{cell.bids:,}",
            *(_time_cell(cell.methods.get(m), config.time_limit) for m in methods),
            _money(cell.optimum),
            "[green]yes[/green]" if cell.agree else "[bold red]NO[/bold red]",
            vcg_text,
            *(format_bytes(r.peak_bytes if (r := cell.methods.get(m)) else None)
              for m in methods),
        )
    return table


def print_report(result: ClearingBenchResult, console: Console) -> None:
    """The environment line, the table, any disagreements (loudly) and the target lines."""
    console.print(result.environment.header("bench clearing", f"{result.elapsed_s:.1f} s"))
    console.print(results_table(result))
    if result.auto:
        console.print(auto_table(result))
    for problem in result.disagreements:
        console.print(f"!! {problem}", style="bold red", highlight=False, soft_wrap=True)
    print_targets(console, result.targets)


def auto_table(result: ClearingBenchResult) -> Table:
    """auto against DP and MILP on the MMKP family, one row per instance."""
    table = Table(title="auto on the MMKP family (every bid must win; median of up to 3 runs)",
                  header_style="bold")
    for header in ("Seed", "Bids x res x bundles", "Cap", "Status", "DP", "DP predicted",
                   "MILP", "auto", "auto / faster", "auto chose"):
        table.add_column(header, justify="left" if header == "auto chose" else "right")
    for r in result.auto:
        table.add_row(str(r.seed), f"{r.bids} x {r.resources} x {r.bundles}", str(r.capacity),
                      r.status, "-" if r.dp_s is None else _ms(r.dp_s), _ms(r.dp_predicted_s),
                      "-" if r.milp_s is None else _ms(r.milp_s), _ms(r.auto_s),
                      "-" if r.ratio is None else f"{r.ratio:.2f}x", r.auto_choice[:48])
    return table


_STYLES = {"dp": ("tab:blue", "o"), "milp": ("tab:orange", "s"), "bnb": ("tab:green", "^")}


def write_plot(result: ClearingBenchResult, path: Path) -> None:
    """A PNG: median time against bids per method, easy and hard panels (log y), and memory."""
    from matplotlib.figure import Figure

    config = result.config
    fig = Figure(figsize=(17, 5.5), layout="constrained")
    axes = fig.subplots(1, 3)
    limit_ms = config.time_limit * 1000
    for ax, hard in zip(axes[:2], (False, True), strict=True):
        for series in config.series:
            if series.hard != hard:
                continue
            dashed = series.resources != 2
            cells = [c for c in result.cells if c.series == series.name]
            for method in config.methods:
                color, marker = _STYLES[method]
                label = f"{METHOD_LABELS[method]} ({series.resources} resources)"
                done = [(c.bids, r.median_s * 1000) for c in cells
                        if (r := c.methods.get(method)) and r.finished and r.median_s]
                if done:
                    xs, ys = zip(*done, strict=True)
                    ax.plot(xs, ys, marker=marker, color=color, label=label,
                            linestyle="--" if dashed else "-")
                stopped = [c.bids for c in cells
                           if (r := c.methods.get(method)) and r.status == "time-limit"]
                if stopped:
                    ax.scatter(stopped, [limit_ms] * len(stopped), marker="x", color=color, s=60,
                               label=f"{METHOD_LABELS[method]} stopped at the limit"
                               f" ({series.resources} resources)")
        ax.axhline(limit_ms, color="grey", linestyle=":", label="time limit")
        kind = "hard: strongly correlated" if hard else "easy: uncorrelated"
        label_log_axes(ax, "bids (log)", "median clearing time, ms (log)",
                       f"{kind} ({config.bundles} bundles per bid)")
        ax.legend(fontsize="x-small", loc="best", framealpha=0.8)

    ax = axes[2]
    for series in config.series:
        cells = [c for c in result.cells if c.series == series.name]
        for method in config.methods:
            color, marker = _STYLES[method]
            points = [(c.bids, r.peak_bytes / 1024) for c in cells
                      if (r := c.methods.get(method)) and r.peak_bytes]
            if points:
                xs, ys = zip(*points, strict=True)
                ax.plot(xs, ys, marker=marker, color=color,
                        linestyle="-" if series.resources == 2 else "--",
                        alpha=1.0 if series.hard else 0.5,
                        label=f"{METHOD_LABELS[method]} {series.name}")
    label_log_axes(ax, "bids (log)", "tracemalloc peak per solve, KiB (log)",
                   "Peak memory (dashed: 3 resources; faint: easy)")
    ax.legend(fontsize="x-small", loc="upper left", bbox_to_anchor=(1.01, 1.0))

    write_png(fig, path)


BENCHMARK = Benchmark("bench clearing", 180, run_clearing_bench, print_report, write_plot)
