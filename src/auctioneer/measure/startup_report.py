"""Show the start-up benchmark: one table, the target lines and a bar chart.

Example:
    >>> from auctioneer.measure.startup import CaseResult
    >>> _ratio(CaseResult("a", (), False, (30.0,), (20.0,)), 10.0)
    '3.0x'
"""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.table import Table

from auctioneer.measure.benchmark import Benchmark
from auctioneer.measure.startup import (
    TARGETS_MS,
    CaseResult,
    StartupConfig,
    StartupResult,
    run_startup_bench,
    targets,
)
from auctioneer.measure.target import print_targets

__all__ = ["BENCHMARK", "print_report", "write_plot"]


def _ratio(case: CaseResult, bare_ms: float) -> str:
    return f"{case.wall_median / bare_ms:.1f}x"


def print_report(result: StartupResult, console: Console) -> None:
    """The table (one row per command) and PASS/MISS per target."""
    bare = result.cases[0].wall_median
    table = Table(
        title=f"Whole-process start-up: median of {result.config.repeats} interleaved rounds",
        caption=f"x bare = wall time over `{result.cases[0].name}` in the same rounds. "
        f"Load average {result.load_average[0]:.2f} while measuring: on a shared machine "
        "wall time grows with load, CPU time much less.",
        caption_justify="left", header_style="bold")
    for header in ("Command", "wall ms", "min ms", "max ms", "CPU ms", "x bare", "target"):
        table.add_column(header, justify="left" if header == "Command" else "right")
    for case in result.cases:
        limit = TARGETS_MS.get(case.name)
        table.add_row(
            case.name + (" (baseline)" if case.baseline else ""),
            f"{case.wall_median:.0f}", f"{min(case.wall_ms):.0f}", f"{max(case.wall_ms):.0f}",
            f"{case.cpu_median:.0f}", _ratio(case, bare),
            "" if limit is None else f"<= {limit:g}")
    console.print(table)
    print_targets(console, targets(result))


def write_plot(result: StartupResult, path: Path) -> None:
    """Median wall and CPU time per command (horizontal bars), with the targets marked."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cases = result.cases[::-1]
    rows = range(len(cases))
    fig, ax = plt.subplots(figsize=(9, 0.5 * len(cases) + 1.8))
    ax.barh(rows, [c.wall_median for c in cases], color=["#9aa5b1" if c.baseline else "#4c78a8"
                                                          for c in cases],
            label="wall time (median)")
    ax.scatter([c.cpu_median for c in cases], rows, color="black", marker="|", s=200,
               zorder=3, label="CPU time, user + system (median)")
    for name, limit in TARGETS_MS.items():
        row = next(i for i, c in enumerate(cases) if c.name == name)
        ax.plot([limit, limit], [row - 0.45, row + 0.45], color="#e45756", linewidth=2)
        ax.annotate(f"target {limit:g} ms", (limit, row + 0.45), xytext=(3, -2),
                    textcoords="offset points", color="#e45756", fontsize=8, va="top")
    ax.set_yticks(list(rows), [c.name for c in cases])
    ax.set_xlabel(f"milliseconds per process (median of {result.config.repeats} rounds)")
    ax.set_title(f"auctioneer start-up as whole processes (load average "
                 f"{result.load_average[0]:.2f})")
    ax.grid(axis="x", alpha=0.3)
    ax.legend(loc="upper right", fontsize=8)  # the baselines at the top are the short bars
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)


BENCHMARK: Benchmark[StartupConfig, StartupResult] = Benchmark(
    "bench startup", 110, run_startup_bench, print_report, write_plot)
"""Start-up, described for :func:`~auctioneer.measure.benchmark.run_benchmark`."""
