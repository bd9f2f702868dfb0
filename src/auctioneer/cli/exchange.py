"""``auctioneer bench exchange``: the matching engine against PyPI engines, in process."""


from pathlib import Path
from typing import Annotated

import typer

from auctioneer.cli.app import bench_app
from auctioneer.cli.options import JsonOption, int_in, parsed, plot_option, user_errors

__all__ = ["bench_exchange", "bench_refusals"]


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
    mix: Annotated[
        str, typer.Option(metavar="PCT", help="Make about PCT % of the orders resting "
                          "all-or-none and PCT % cross-market bids over 2-3 markets, 0..50; "
                          "only the Python and native engines run, the others are skipped.")
    ] = "0",
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
            mix=int_in(mix, "--mix", 0, 50),
        )
    run_benchmark(report.BENCHMARK, config, json_path, plot)


@bench_app.command("refusals")
def bench_refusals(
    resting: Annotated[
        str, typer.Option(metavar="INT,...", help="Book sizes: resting orders, comma-separated.")
    ] = "1000,20000,100000",
    rounds: Annotated[
        str, typer.Option(metavar="INT", help="Refused commands per run.")
    ] = "50",
    repeats: Annotated[
        str, typer.Option(metavar="INT", help="Runs per engine and size; each figure is the "
                          "median.")
    ] = "3",
    json_path: JsonOption = None,
    plot: Annotated[Path, plot_option("refusal cost plot")] = Path("out/bench-refusals.png"),
) -> None:
    """What a refused command costs with many orders resting, the Python engine and the
    native engine side by side: a refusal must not cost O(open orders).

    Prints a table and a PASS/MISS line.
    """
    from auctioneer.exchange import bench_refusal as bench
    from auctioneer.measure.benchmark import run_benchmark

    sizes = [part.strip() for part in resting.split(",")]
    with user_errors():
        config = bench.RefusalBenchConfig(
            resting=tuple(int_in(s, "--resting", 1, 1_000_000) for s in sizes),
            rounds=int_in(rounds, "--rounds", 1, 100_000),
            repeats=int_in(repeats, "--repeats", 1, 1000),
        )
    run_benchmark(bench.BENCHMARK, config, json_path, plot)
