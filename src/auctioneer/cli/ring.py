"""``auctioneer bench ring``: bid submission and price-page latency and throughput."""


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
)

__all__ = ["bench_ring"]


@bench_app.command("ring")
def bench_ring(
    ops: Annotated[
        str | None,
        quick_default("Timed operations per latency measurement.", "200000", "20000"),
    ] = None,
    repeats: PercentileRepeatsOption = None,
    pair_bids: Annotated[
        str | None,
        quick_default("Bids per producer thread in the native throughput runs.", "500000",
                      "100000"),
    ] = None,
    python_bids: Annotated[
        str | None,
        quick_default("Bids the producer process sends in the Python throughput runs.",
                      "100000", "20000"),
    ] = None,
    producers: Annotated[
        str, typer.Option(help="Producer thread counts of the native throughput runs.")
    ] = "1,2,4",
    quick: Annotated[bool, quick_option("fewer operations, about 10 s.")] = False,
    json_path: JsonOption = None,
    plot: Annotated[
        Path, plot_option("latency and throughput plot")
    ] = Path("out/bench-ring.png"),
) -> None:
    """Submit latency (p50/p99/p99.9) and throughput of the SPSC and MPSC bid rings.

    Timed in C with the time stamp counter (one core, and with the consumer
    on another core) and per call from Python, against multiprocessing.Queue
    in the same run; the price page's publish and read. Prints tables,
    ratios and PASS/MISS lines for submit < 100 ns natively.
    """
    with options.native_bench("ring"):
        from auctioneer.measure.benchmark import run_benchmark
        from auctioneer.tick import ring_bench as bench
        from auctioneer.tick import ring_bench_report as report

    counts = options.parsed(bench.parse_producers, producers, "--producers")
    with options.user_errors():
        config = bench.RingBenchConfig.build(
            ops=None if ops is None else options.int_in(ops, "--ops", 1),
            repeats=None if repeats is None else options.int_in(repeats, "--repeats", 1),
            pair_bids=(None if pair_bids is None
                       else options.int_in(pair_bids, "--pair-bids", 1, 2**32 - 1)),
            python_bids=(None if python_bids is None
                         else options.int_in(python_bids, "--python-bids", 1)),
            producers=counts,
            quick=quick,
        )
    run_benchmark(report.BENCHMARK, config, json_path, plot)
