"""The simulator's command line: ``auctioneer simulate`` and ``auctioneer bench sim``.

Importing this module registers both on the main apps (:func:`register`
can do it on any app). A bad scenario file exits with status 2 and one line
naming the file, the field and the value.

Example:
    >>> import typer
    >>> app, bench = typer.Typer(), typer.Typer()
    >>> register(app, bench_app=bench)
    >>> [c.name for c in app.registered_commands], [c.name for c in bench.registered_commands]
    (['simulate'], ['sim'])
"""


from pathlib import Path
from typing import Annotated

import typer

from auctioneer.cli.app import app, bench_app
from auctioneer.cli.options import (
    JsonOption,
    bad,
    int_in,
    output_dir_option,
    plot_option,
    quick_default,
    quick_option,
)

__all__ = ["bench_sim", "register", "simulate_command"]


def register(app: typer.Typer, *, bench_app: typer.Typer) -> None:
    """Add ``simulate`` to ``app`` and ``sim`` to ``bench_app``."""
    app.command("simulate")(simulate_command)
    bench_app.command("sim")(bench_sim)


def simulate_command(
    scenario: Annotated[
        Path, typer.Argument(metavar="SCENARIO.yaml", help="A scenario file (docs/sim.md; "
                             "examples in examples/sim/).", dir_okay=False)
    ],
    out: Annotated[
        Path, output_dir_option(text="Write report.md, metrics.json and the PNG plots here.")
    ] = Path("out/sim"),
    seed: Annotated[
        str | None, typer.Option(metavar="INT", help="Seed, 0..2**64-1. [default: the "
                                 "scenario's]", show_default=False)
    ] = None,
) -> None:
    """Simulate a scenario: both planes, the thermal loop and the agents, event by event.

    Shows a progress bar over simulated time, prints the figures (efficiency
    against the offline optimum, revenue, Gini, temperatures, time above the
    limit, auction overhead) and writes the markdown report, metrics.json and
    plots of temperatures, multipliers, prices and allocations over time.
    """
    chosen = None if seed is None else int_in(seed, "--seed", 0, 2**64 - 1)

    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from auctioneer.measure.progress import wide_console
    from auctioneer.sim.report import write_outputs
    from auctioneer.sim.run import simulate
    from auctioneer.sim.scenario import ScenarioError, load_scenario

    try:
        loaded = load_scenario(scenario)
    except ScenarioError as exc:
        raise bad("SCENARIO.yaml", str(exc)) from None
    columns = (TextColumn("[progress.description]{task.description}"), BarColumn(),
               TextColumn("{task.percentage:>3.0f}%"), TimeElapsedColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(f"simulate {loaded.name}", total=loaded.duration_ns)

        def step(now: int, end: int) -> None:
            bar.update(task, completed=now,
                       description=f"simulate {loaded.name}: {now / 1e9:.2f} / {end / 1e9:g} s")

        result = simulate(loaded, chosen, step)
    console = wide_console(120)
    from auctioneer.sim.report import markdown

    console.print(markdown(result), markup=False, highlight=False)
    try:
        paths = write_outputs(result, out)
    except OSError as exc:
        raise bad("--out", f"cannot write {str(out)!r}: {exc.strerror or exc}") from None
    for path in paths:
        typer.echo(f"wrote {path}", err=True)


def bench_sim(
    scenario: Annotated[
        Path | None, typer.Option(help="Scenario to time. [default: examples/sim/steady.yaml,"
                                  " the target's 10 s at 10 kHz with N = 1000]",
                                  dir_okay=False, show_default=False)
    ] = None,
    repeats: Annotated[
        str | None, quick_default("Runs per engine and workload (median).", "3", "1")
    ] = None,
    seed: Annotated[
        str | None, typer.Option(metavar="INT", help="Seed. [default: the scenario's]",
                                 show_default=False)
    ] = None,
    quick: Annotated[bool, quick_option("the scenario's first second, once.")] = False,
    json_path: JsonOption = None,
    plot: Annotated[Path, plot_option("comparison plot")] = Path("out/bench-sim.png"),
) -> None:
    """The simulator against SimPy on the same events: wall time, events/s, ratio, target.

    Target: 10 s of host time at 10 kHz with N = 1000 agents in at most 10 s
    of wall time (faster than real time).
    """
    from auctioneer.measure.benchmark import run_benchmark
    from auctioneer.sim import bench as bench
    from auctioneer.sim import bench_report as report
    from auctioneer.sim.scenario import ScenarioError

    try:
        import simpy  # noqa: F401 - the baseline; a dev dependency
    except ImportError:
        raise bad("bench sim", "needs SimPy, its baseline: pip install simpy") from None
    n_repeats = None if repeats is None else int_in(repeats, "--repeats", 1, 1000)
    n_seed = None if seed is None else int_in(seed, "--seed", 0, 2**64 - 1)
    try:
        config = bench.SimBenchConfig.build(scenario, n_repeats, n_seed, quick)
    except ScenarioError as exc:
        raise bad("--scenario", str(exc)) from None
    run_benchmark(report.BENCHMARK, config, json_path, plot)


register(app, bench_app=bench_app)
