"""Show the simulator benchmark: a progress bar, the table, the target line and a plot.

The measuring is :mod:`auctioneer.sim.bench`, apart from this for the reason
:mod:`auctioneer.measure.benchmark` gives.
"""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.table import Table

from auctioneer.measure.benchmark import Benchmark
from auctioneer.measure.record import write_png
from auctioneer.measure.target import print_targets
from auctioneer.sim.bench import SimBenchResult, run_sim_bench

__all__ = ["BENCHMARK", "print_report", "results_table",
           "write_plot"]


def results_table(result: SimBenchResult) -> Table:
    """One row per engine and workload: wall time, events, events/s, speed, ratio."""
    sc = result.config.scenario
    table = Table(
        title=f"Simulator: {sc.name!r}, {sc.duration_s:g} s of host time, {sc.cpu.tick_hz:,} Hz "
        f"tick, N = {sc.agents.count:,} (median of {result.config.repeats})",
        caption="model = the whole simulation (wall: agents drawn + loop + offline metrics); "
        "pattern = the same events with no-op handlers (the scheduler alone). CPU = process "
        "time. Baseline: SimPy driving the same handlers at the same priorities; the ratio "
        "compares the loops' CPU time.",
        caption_justify="left", header_style="bold")
    for header in ("Workload", "Engine", "Wall s", "CPU s", "Loop wall s", "Loop CPU s",
                   "Events", "Events/CPU s", "x real time", "SimPy / ours"):
        table.add_column(header, justify="left" if header in ("Workload", "Engine") else "right")
    for r in result.rows:
        ratio = f"{result.ratio(r.workload):.2f}x" if r.engine == "EventLoop" else ""
        table.add_row(r.workload, r.engine, f"{r.wall_s:.3f}", f"{r.cpu_s:.3f}",
                      f"{r.loop_s:.3f}", f"{r.loop_cpu_s:.3f}",
                      f"{r.events:,}", f"{r.events_per_s:,.0f}",
                      f"{sc.duration_s / r.wall_s:.1f}" if r.workload == "model" else "",
                      ratio)
    return table


def print_report(result: SimBenchResult, console: Console) -> None:
    """The environment line, the table, the trace check and the target line."""
    console.print(result.environment.header("bench sim", f"{result.elapsed_s:.1f} s"))
    console.print(results_table(result))
    same = "[green]yes[/green]" if result.same_trace else "[red]NO[/red]"
    console.print(f"Same trace hash from both engines (same events in the same order): {same}",
                  highlight=False)
    print_targets(console, result.targets)


def write_plot(result: SimBenchResult, path: Path) -> None:
    """A PNG: wall time and events per second for each engine and workload."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    workloads = ("model", "pattern")
    width = 0.38
    for i, engine in enumerate(("EventLoop", "SimPy")):
        rows = [result.row(engine, w) for w in workloads]
        xs = [j + (i - 0.5) * width for j in range(len(workloads))]
        left.bar(xs, [r.wall_s for r in rows], width, label=engine)
        right.bar(xs, [r.events_per_s for r in rows], width, label=engine)
    sc = result.config.scenario
    left.axhline(sc.duration_s, color="red", linestyle="--", linewidth=1,
                 label=f"real time ({sc.duration_s:g} s)")
    for ax, title in ((left, "wall time (s)"), (right, "events per CPU second of the loop")):
        ax.set_xticks(range(len(workloads)), workloads)
        ax.set_title(title)
        ax.legend()
    fig.suptitle(f"auctioneer bench sim: {sc.name}, {sc.duration_s:g} s at {sc.cpu.tick_hz:,} Hz, "
                 f"N = {sc.agents.count:,}")
    fig.tight_layout()
    write_png(fig, path)
    plt.close(fig)


BENCHMARK = Benchmark("bench sim", 140, run_sim_bench, print_report, write_plot)
