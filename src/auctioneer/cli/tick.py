"""``auctioneer bench tick``: the tick structures' latency benchmark."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from auctioneer.cli.app import bench_app, run_bench
from auctioneer.cli.options import JsonOption, int_in, parsed, user_errors

__all__ = ["bench_tick"]


@bench_app.command("tick")
def bench_tick(
    sizes: Annotated[
        str | None,
        typer.Option(
            help="Book sizes N, comma-separated. [default: 10,100,1000,10000; --quick: 10,1000]",
            show_default=False,
        ),
    ] = None,
    structures: Annotated[
        str,
        typer.Option(
            help="Structures, comma-separated, or all: TierBook, LazyHeap, TournamentTree, "
            "SampledTopK, IndexedHeap. The heapq and SortedList baselines always run."
        ),
    ] = "all",
    ops: Annotated[
        str | None,
        typer.Option(
            metavar="INT",
            help="Timed operations per measurement. [default: 100000; --quick: 2000]",
            show_default=False,
        ),
    ] = None,
    repeats: Annotated[
        str | None,
        typer.Option(
            metavar="INT",
            help="Repeats; each percentile reported is its median over them. "
            "[default: 5; --quick: 3]",
            show_default=False,
        ),
    ] = None,
    seed: Annotated[str, typer.Option(metavar="INT", help="Workload seed, 0..2**64-1.")] = "0",
    quick: Annotated[
        bool, typer.Option("--quick", help="A smoke run: small sizes, few ops, ~15 s.")
    ] = False,
    json_path: JsonOption = None,
    plot: Annotated[
        Path, typer.Option(help="Write the latency plot (PNG) here.", dir_okay=False)
    ] = Path("out/bench-tick.png"),
) -> None:
    """Latency of update, expire and one tick (update + winner + Vickrey price) per structure.

    Timed inside C (time stamp counter) and per call from Python, against
    heapq and SortedList baselines; memory per agent; the sampled book's
    miss rate. Prints a table and PASS/MISS lines for the targets.
    """

    try:
        from auctioneer.bench import tick as bench
        from auctioneer.bench import tick_report as report
    except ImportError as exc:
        # Most often the C core is not built yet; say so rather than dump a traceback.
        typer.echo(f"auctioneer: error: cannot load the tick benchmark: {exc} "
                   "(is the native core built? run make)", err=True)
        raise typer.Exit(1) from None

    config_sizes = None if sizes is None else parsed(bench.parse_sizes, sizes, "--sizes")
    config_structures = parsed(bench.parse_structures, structures, "--structures")
    with user_errors():
        config = bench.TickBenchConfig.build(
            sizes=config_sizes,
            structures=config_structures,
            ops=None if ops is None else int_in(ops, "--ops", 1),
            repeats=None if repeats is None else int_in(repeats, "--repeats", 1),
            seed=int_in(seed, "--seed", 0, 2**64 - 1),
            quick=quick,
        )
    run_bench(bench, report, config, json_path, plot)
