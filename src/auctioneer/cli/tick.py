"""``auctioneer bench tick``: the tick structures' latency benchmark."""


from pathlib import Path
from typing import Annotated

import typer

from auctioneer.cli import options
from auctioneer.cli.app import bench_app
from auctioneer.cli.options import (
    JsonOption,
    PercentileRepeatsOption,
    plot_option,
    quick_default,
    quick_option,
    seed_option,
)

__all__ = ["bench_tick"]


@bench_app.command("tick")
def bench_tick(
    sizes: Annotated[
        str | None,
        quick_default("Book sizes N, comma-separated.", "10,100,1000,10000", "10,1000",
                      metavar=None),
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
        quick_default("Timed operations per measurement.", "100000", "2000"),
    ] = None,
    repeats: PercentileRepeatsOption = None,
    seed: Annotated[str, seed_option("Workload")] = "0",
    quick: Annotated[bool, quick_option("small sizes, few ops, about 2 s.")] = False,
    json_path: JsonOption = None,
    plot: Annotated[Path, plot_option("latency plot")] = Path("out/bench-tick.png"),
) -> None:
    """Latency of update, expire and one tick (update + winner + Vickrey price) per structure.

    Timed inside C (time stamp counter) and per call from Python, against
    heapq and SortedList baselines; memory per agent; the sampled book's
    miss rate. Prints a table and PASS/MISS lines for the targets.
    """

    with options.native_bench("tick"):
        from auctioneer.measure.benchmark import run_benchmark
        from auctioneer.tick import bench as bench
        from auctioneer.tick import bench_report as report

    config_sizes = None if sizes is None else options.parsed(bench.parse_sizes, sizes, "--sizes")
    config_structures = options.parsed(bench.parse_structures, structures, "--structures")
    with options.user_errors():
        config = bench.TickBenchConfig.build(
            sizes=config_sizes,
            structures=config_structures,
            ops=None if ops is None else options.int_in(ops, "--ops", 1),
            repeats=None if repeats is None else options.int_in(repeats, "--repeats", 1),
            seed=options.int_in(seed, "--seed", 0, 2**64 - 1),
            quick=quick,
        )
    run_benchmark(report.BENCHMARK, config, json_path, plot)
