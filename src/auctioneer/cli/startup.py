"""``auctioneer bench startup``: the command line's own start-up, as whole processes."""


from pathlib import Path
from typing import Annotated

from auctioneer.cli.app import bench_app
from auctioneer.cli.options import (
    JsonOption,
    int_in,
    plot_option,
    quick_default,
    quick_option,
    user_errors,
)

__all__ = ["bench_startup"]


@bench_app.command("startup")
def bench_startup(
    repeats: Annotated[
        str | None, quick_default("Timed rounds; each runs every command once.", "20", "5")
    ] = None,
    quick: Annotated[bool, quick_option("5 rounds, about 7 s on an idle machine.")] = False,
    json_path: JsonOption = None,
    plot: Annotated[Path, plot_option("start-up bar chart")] = Path("out/bench-startup.png"),
) -> None:
    """Start-up of `auctioneer --help`, `clear` on a 10-bid file and others, per process.

    Each command runs as its own process, interleaved with a bare `python -c
    pass` and `import typer` as baselines; medians of wall and CPU time over
    the rounds, and PASS/MISS for --help <= 150 ms and clear <= 250 ms.
    """
    from auctioneer.measure.benchmark import run_benchmark
    from auctioneer.measure.startup import StartupConfig
    from auctioneer.measure.startup_report import BENCHMARK

    with user_errors():
        config = StartupConfig.build(
            None if repeats is None else int_in(repeats, "--repeats", 1, 10_000), quick)
    run_benchmark(BENCHMARK, config, json_path, plot)
