"""``auctioneer bench exchange``: the matching engine against PyPI engines, in process."""


from pathlib import Path
from typing import Annotated

import typer

from auctioneer.cli.app import bench_app
from auctioneer.cli.options import JsonOption, int_in, parsed, plot_option, user_errors

__all__ = ["bench_exchange"]


@bench_app.command("exchange")
def bench_exchange(
    orders: Annotated[
        str | None,
        typer.Option(metavar="INT", help="Orders in the seeded stream. "
                     "[default: 200000; --quick: 20000]", show_default=False),
    ] = None,
    repeats: Annotated[
        str | None,
        typer.Option(metavar="INT", help="Runs per engine; each figure is the median. "
                     "[default: 3; --quick: 1]", show_default=False),
    ] = None,
    engines: Annotated[
        str,
        typer.Option(help="Engines, comma-separated, or all: auctioneer, "
                     "auctioneer-native-engine, auctioneer-native, lightmatchingengine, "
                     "pyorderbook, liquibook."),
    ] = "all",
    seed: Annotated[str, typer.Option(metavar="INT", help="Stream seed, 0..2**64-1.")] = "0",
    quick: Annotated[
        bool, typer.Option("--quick", help="A smoke run: 20,000 orders once, a few seconds.")
    ] = False,
    json_path: JsonOption = None,
    plot: Annotated[
        Path, plot_option("throughput and latency plot")
    ] = Path("out/bench-exchange.png"),
) -> None:
    """In-process matching: orders/s and p50/p99/p99.9 latency per order, the Python engine,
    the native engine and the native matching core side by side with lightmatchingengine,
    pyorderbook and liquibook on one seeded stream; journal replay by both engines; memory.

    Prints a table, ratios and a PASS/MISS line per target.
    """
    from auctioneer.exchange import bench as bench
    from auctioneer.exchange import bench_report as report
    from auctioneer.measure.benchmark import run_benchmark

    chosen = parsed(bench.parse_engines, engines, "--engines")
    with user_errors():
        config = bench.ExchangeBenchConfig.build(
            orders=None if orders is None else int_in(orders, "--orders", 1, 10_000_000),
            repeats=None if repeats is None else int_in(repeats, "--repeats", 1, 1000),
            engines=chosen,
            seed=int_in(seed, "--seed", 0, 2**64 - 1),
            quick=quick,
        )
    run_benchmark(report.BENCHMARK, config, json_path, plot)
