"""Combinatorial clearing commands: ``generate clearing``, ``clear``, ``bench clearing``."""


import sys
from pathlib import Path
from typing import Annotated

import typer

from auctioneer.cli.app import app, bench_app, generate_app
from auctioneer.cli.options import (
    JsonOption,
    JsonOutputFlag,
    float_in,
    int_in,
    one_of,
    output_option,
    parsed,
    plot_option,
    quick_default,
    quick_option,
    seed_option,
    user_errors,
    write_or_print,
)

__all__ = ["EXIT_NOT_OPTIMAL", "bench_clearing", "clear_command", "generate_clearing"]

EXIT_NOT_OPTIMAL = 1
"""``auctioneer clear``'s status when the clearing is not proven optimal (infeasible,
too large for the method, stopped at the time limit). Bad input is 2, as everywhere."""

_KIND_CHOICES = ("uncorrelated", "weakly", "strongly", "mmkp", "compute")


@generate_app.command("clearing")
def generate_clearing(
    kind: Annotated[
        str,
        typer.Option(
            metavar="KIND",
            help="uncorrelated (easy), weakly, strongly (hard: price = size + R/10), mmkp "
            "(6 resources, every bid must win), or compute "
            "(vCPU, GiB, GPU with cloud prices per hour)."
        ),
    ] = "uncorrelated",
    bids: Annotated[str, typer.Option(metavar="INT", help="Number of bids.")] = "20",
    bundles: Annotated[str, typer.Option(metavar="INT", help="Bundles per bid (XOR).")] = "3",
    resources: Annotated[
        str | None,
        typer.Option(metavar="INT", help="Resource types. [default: 2; mmkp: 6; compute: 3 "
                     "(2: no GPU)]",
                     show_default=False),
    ] = None,
    capacity: Annotated[
        str, typer.Option(metavar="INT", help="Units of each resource (compute: vCPUs).")
    ] = "100",
    seed: Annotated[str, seed_option("Generator")] = "0",
    max_quantity: Annotated[
        str | None,
        typer.Option(metavar="INT", help="Largest quantity R of a resource in a bundle "
                     "(knapsack kinds). [default: capacity/4]", show_default=False),
    ] = None,
    reserves: Annotated[
        bool, typer.Option("--reserves", help="Add per-unit reserve prices.")
    ] = False,
    sellers: Annotated[
        str, typer.Option(metavar="SHARE", help="Share of bids that sell (two-sided), 0..1.")
    ] = "0",
    output: Annotated[
        Path | None,
        output_option("--output", "-o", text="Write the JSON here instead of stdout."),
    ] = None,
) -> None:
    """Write a random auction as JSON (docs/clearing-format.md): same seed, same file."""
    from auctioneer.clearing.generate import generate
    from auctioneer.clearing.io import dumps_auction

    chosen = one_of(kind, "--kind", _KIND_CHOICES)
    with user_errors():
        auction = generate(
            chosen,
            bids=int_in(bids, "--bids", 0, 1_000_000),
            bundles=int_in(bundles, "--bundles", 1, 10_000),
            resources=None if resources is None else int_in(resources, "--resources", 1, 64),
            capacity=int_in(capacity, "--capacity", 1, 10**12),
            seed=int_in(seed, "--seed", 0, 2**64 - 1),
            max_quantity=None if max_quantity is None else int_in(
                max_quantity, "--max-quantity", 1, 10**12
            ),
            reserves=reserves,
            sellers=float_in(sellers, "--sellers", 0.0, 1.0),
        )
    if write_or_print(dumps_auction(auction), output):
        typer.echo(f"wrote {output}: {chosen}, {len(auction.bids)} bids x {bundles} "
                   f"bundles, {auction.dimensions} resources", err=True)


_CLEAR_METHODS = ("auto", "dp", "brute", "milp", "bnb")
_PAYMENT_RULES = ("bid", "vcg")


@app.command("clear")
def clear_command(
    file: Annotated[
        str,
        typer.Argument(metavar="FILE.json",
                       help="An auction in the JSON format of docs/clearing-format.md; - reads "
                       "stdin."),
    ],
    method: Annotated[
        str,
        typer.Option(metavar="METHOD",
                     help="auto (DP when its estimate fits, else MILP), dp, brute, milp or bnb."),
    ] = "auto",
    payments: Annotated[
        str,
        typer.Option(metavar="RULE",
                     help="bid (pay-as-bid) or vcg (Generalized Vickrey payments)."),
    ] = "bid",
    k: Annotated[
        str | None,
        typer.Option("--k", metavar="INT", help="Also list the k best allocations "
                     "(MILP unless --method is bnb or brute; no time limit).",
                     show_default=False),
    ] = None,
    time_limit: Annotated[
        str | None,
        typer.Option(metavar="SECONDS", help="Stop the solver after this long (status "
                     "time-limit, best allocation found).", show_default=False),
    ] = None,
    json_output: JsonOutputFlag = False,
) -> None:
    """Clear an auction: winners, prices, payments, resources used, status.

    Exit status: 0 when the clearing is proven optimal, 1 when it is not
    (infeasible, too large for the method, or stopped at the time limit:
    the reason is printed), 2 for a bad file or option.
    """
    from auctioneer.clearing.io import dump_clearing, dump_k_best, load_auction, loads_auction
    from auctioneer.clearing.solve import clear

    chosen = one_of(method, "--method", _CLEAR_METHODS)
    rule = one_of(payments, "--payments", _PAYMENT_RULES)
    best = None if k is None else int_in(k, "--k", 1, 10_000)
    limit = None if time_limit is None else float_in(time_limit, "--time-limit", 0.0,
                                                      low_open=True)
    try:
        auction = loads_auction(sys.stdin.read(), "<stdin>") if file == "-" else load_auction(
            Path(file)
        )
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="'FILE.json'") from None
    with user_errors():
        result = clear(auction, chosen, time_limit=limit)
        if rule == "vcg":
            from auctioneer.clearing.vcg import vcg_payments

            result = vcg_payments(auction, result, method=chosen)
        ranked = None
        if best is not None:
            from auctioneer.clearing.kbest import METHODS as KBEST_METHODS
            from auctioneer.clearing.kbest import k_best

            ranked = k_best(auction, best,
                            method=chosen if chosen in KBEST_METHODS else "milp")
    code = 0 if result.is_optimal else EXIT_NOT_OPTIMAL
    if json_output:
        import json

        # The rule is read off the result: pay-as-bid when VCG could not be computed.
        data = {"file": file, **dump_clearing(auction, result)}
        if ranked is not None:
            data["k_best"] = dump_k_best(auction, ranked)
        typer.echo(json.dumps(data, indent=2))
    else:
        from auctioneer.clearing.report import print_clearing

        # Boxed and coloured on a terminal, plain text into a pipe or a file.
        print_clearing("<stdin>" if file == "-" else file, auction, result, rule, ranked)
    if code:
        raise typer.Exit(code)


@bench_app.command("clearing")
def bench_clearing(
    sizes: Annotated[
        str | None,
        quick_default("Bids per instance, 2 resources, comma-separated.", "10,20,50,100,200",
                      "10,50,100", metavar=None),
    ] = None,
    sizes_3d: Annotated[
        str | None,
        typer.Option("--sizes-3d", help="Bids per instance, 3 resources; empty for none. "
                     "[default: 10,20,50,100; --quick: 10]", show_default=False),
    ] = None,
    methods: Annotated[
        str, typer.Option(help="Methods, comma-separated, or all: dp, milp, bnb.")
    ] = "all",
    repeats: Annotated[
        str | None,
        quick_default("Timed solves per method and instance (median).", "5", "3"),
    ] = None,
    time_limit: Annotated[
        str | None,
        quick_default("Per solve.", "5", "1", metavar="SECONDS"),
    ] = None,
    no_vcg: Annotated[bool, typer.Option("--no-vcg", help="Skip the VCG measurement.")] = False,
    auto: Annotated[
        str | None,
        quick_default("Instances of the MMKP family on which auto is timed against DP and "
                      "MILP (0: none).", "12", "3"),
    ] = None,
    seed: Annotated[str, seed_option("Instance")] = "0",
    quick: Annotated[bool, quick_option("small sizes, short limits, about 10 s.")] = False,
    json_path: JsonOption = None,
    plot: Annotated[Path, plot_option("time/memory plot")] = Path("out/bench-clearing.png"),
) -> None:
    """DP, MILP and branch and bound on easy and hard instances of growing size.

    Median solve time per method, revenue equality across methods, VCG cost
    against one DP clearing, tracemalloc peak per solve. Prints a table and
    PASS/MISS lines for the targets.
    """

    from auctioneer.clearing import bench as bench
    from auctioneer.clearing import bench_report as report
    from auctioneer.measure.benchmark import run_benchmark

    with user_errors():
        config = bench.ClearingBenchConfig.build(
            sizes=None if sizes is None else parsed(bench.parse_sizes, sizes, "--sizes"),
            sizes_3d=None if sizes_3d is None else parsed(bench.parse_sizes, sizes_3d,
                                                           "--sizes-3d"),
            methods=parsed(bench.parse_methods, methods, "--methods"),
            repeats=None if repeats is None else int_in(repeats, "--repeats", 1),
            time_limit=None if time_limit is None else float_in(
                time_limit, "--time-limit", 0.0, low_open=True
            ),
            vcg=not no_vcg,
            seed=int_in(seed, "--seed", 0, 2**64 - 1),
            quick=quick,
            auto_instances=None if auto is None else int_in(auto, "--auto", 0, 10_000),
        )
    run_benchmark(report.BENCHMARK, config, json_path, plot)
