"""The clock's command line: ``auctioneer clock``, ``generate clock`` and ``bench clock``.

Plain typer command functions; importing this module registers them on the
main apps (:func:`register` does all three, and can do it on any app). Each parses its
options here so an error can quote what was typed, calls the library, and
prints. Errors a user can fix raise :class:`typer.BadParameter` (exit
status 2, one line naming the option or the file's user, bundle and field);
``auctioneer clock`` exits 1 when the auction stops without clearing.

Heavy imports (numpy, the engine, rich, matplotlib) happen inside the
commands, so importing this module costs the CLI nothing.

Example:
    >>> parse_rule("relative", alpha="1", delta="10%", epsilon=None).describe()
    'relative: step = p * max(min(1 * z/S, 10%), 0.1%)'
    >>> parse_rule("absolute", alpha="0.0002", delta="$0.05", epsilon=None).alpha
    Fraction(200, 1)
"""


import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from auctioneer.cli.app import app, bench_app, generate_app
from auctioneer.cli.options import (
    JsonOption,
    JsonOutputFlag,
    bad,
    float_in,
    int_in,
    one_of,
    output_option,
    plot_option,
    quick_default,
    quick_option,
    seed_option,
    write_or_print,
)

if TYPE_CHECKING:
    from fractions import Fraction

    from rich.console import Console

    from auctioneer.clock.activity import Packages
    from auctioneer.clock.auction import ClockResult
    from auctioneer.clock.model import Market
    from auctioneer.clock.proxy import ProxyResult
    from auctioneer.clock.step import StepRule

__all__ = [
    "EXIT_NOT_CLEARED",
    "bench_clock",
    "clock_command",
    "generate_clock",
    "parse_rule",
    "register",
]

EXIT_NOT_CLEARED = 1
"""``auctioneer clock``'s status when the auction stops without clearing (round limit,
price ceiling, cycle). Bad input is 2, as everywhere."""


def register(app: typer.Typer, *, generate_app: typer.Typer, bench_app: typer.Typer) -> None:
    """Add ``clock`` to ``app``, ``clock`` to ``generate_app`` and ``clock`` to ``bench_app``."""
    app.command("clock")(clock_command)
    generate_app.command("clock")(generate_clock)
    bench_app.command("clock")(bench_clock)


# --------------------------------------------------------------------------
# Option parsing


def _share(text: str, option: str, low: float = 0.0, high: float = 1.0) -> float:
    """A share or load (a statistic of the generator, not money): a float is fine."""
    from fractions import Fraction  # imported here: it costs --help 5 ms

    try:
        value = float(Fraction(text.strip()))
    except (ValueError, ZeroDivisionError):
        raise bad(option, f"{text!r} is not a number") from None
    if not low <= value <= high:
        raise bad(option, f"{text!r} is out of range: it must be {low:g}..{high:g}")
    return value


def _amount(text: str, option: str, mode: str) -> "Fraction":
    """An exact step value: currency units (absolute) or a fraction/percentage (the others)."""
    from auctioneer.clock.step import parse_fraction
    from auctioneer.money import MICROS

    raw = text.strip()
    try:
        if mode == "absolute":
            value = parse_fraction(raw.removeprefix("$"), option, percent=False) * MICROS
        else:
            value = parse_fraction(raw, option)
    except ValueError as exc:
        raise bad(option, str(exc)) from None
    return value


def parse_rule(mode: str, *, alpha: str | None, delta: str | None,
               epsilon: str | None) -> "StepRule":
    """The step rule of ``mode`` ("absolute", "normalised", "relative") with values replaced.

    Absolute values are currency units (``alpha`` per unit of excess
    demand); the others fractions or percentages of the price. Raises
    :class:`typer.BadParameter` naming the option.
    """
    from auctioneer.clock.step import StepMode, StepRule

    base = StepRule.default(StepMode(mode))
    values = {name: None if text is None else _amount(text, f"--{name}", mode)
              for name, text in (("alpha", alpha), ("delta", delta), ("epsilon", epsilon))}
    try:
        return base.with_values(**values)
    except ValueError as exc:
        word = str(exc).split()[0]
        raise bad(f"--{word}" if word in values else "--alpha", str(exc)) from None


# --------------------------------------------------------------------------
# auctioneer clock


def clock_command(
    file: Annotated[
        str,
        typer.Argument(metavar="FILE.json",
                       help="A clock market (docs/clock.md); - reads stdin."),
    ],
    alpha: Annotated[
        str | None,
        typer.Option(metavar="NUM", help="Step per unit of excess demand. Relative/normalised: "
                     "a fraction of the price per unit of excess/free supply [default: 0.5]; "
                     "absolute: currency units per unit [default: 0.001].",
                     show_default=False),
    ] = None,
    delta: Annotated[
        str | None,
        typer.Option(metavar="NUM", help="Largest step per round: '5%' / '0.05' of the price, "
                     "or currency units when absolute. [default: 5%; absolute 0.01]",
                     show_default=False),
    ] = None,
    epsilon: Annotated[
        str | None,
        typer.Option(metavar="NUM", help="Smallest step of an over-demanded pool, like "
                     "--delta. [default: 0.1%; absolute 0.000001]", show_default=False),
    ] = None,
    max_rounds: Annotated[
        str, typer.Option(metavar="INT", help="Stop after this many price updates.")
    ] = "10000",
    normalise: Annotated[
        bool, typer.Option("--normalise", help="Steps as a fraction of each pool's base price.")
    ] = False,
    relative: Annotated[
        bool, typer.Option("--relative", help="Steps as a fraction of the current price "
                           "(the default).")
    ] = False,
    absolute: Annotated[
        bool, typer.Option("--absolute", help="The paper's plain steps, in currency units.")
    ] = False,
    json_output: JsonOutputFlag = False,
    plot: Annotated[
        Path | None,
        output_option(text="Write a PNG of the price clocks per pool here."),
    ] = None,
    proxy: Annotated[
        bool, typer.Option("--proxy", help="After the clock, run the proxy round: package "
                           "bids under the revealed-preference activity rule, exact winner "
                           "determination and core-selecting payments (docs/clock.md).")
    ] = False,
    bids: Annotated[
        Path | None,
        typer.Option(metavar="FILE.json", help="The proxy round's package bids (implies "
                     "--proxy); default: every user's servable bundles at its budget."),
    ] = None,
    method: Annotated[
        str, typer.Option(metavar="METHOD", help="Clearing method of the proxy round: auto, "
                          "dp, milp, bnb or brute (milp scales to thousands of users).")
    ] = "auto",
    time_limit: Annotated[
        str | None,
        typer.Option(metavar="SECONDS", help="Time limit of the whole proxy round; winner "
                     "determination reports its gap when it stops.", show_default=False),
    ] = None,
    proxy_plot: Annotated[
        Path | None,
        output_option("--proxy-plot", text="Write a PNG comparing clock only, clock + proxy "
                      "and VCG here."),
    ] = None,
) -> None:
    """Run an ascending clock auction with bidder proxies on a market file.

    Prices start at each pool's reserve (from its utilisation) and rise
    where demand exceeds supply until no pool is over-demanded. Prints the
    prices, allocation and payments. Exit status: 0 when the auction
    clears, 1 when it stops at the round limit, the price ceiling or a
    cycle (the reason is printed), 2 for a bad file or option.
    """
    chosen = [name for name, flag in (("normalised", normalise), ("relative", relative),
                                      ("absolute", absolute)) if flag]
    if len(chosen) > 1:
        raise bad("--normalise/--relative/--absolute",
                   f"choose one step mode, not {' and '.join(chosen)}")
    rule = parse_rule(chosen[0] if chosen else "relative", alpha=alpha, delta=delta,
                      epsilon=epsilon)
    limit = int_in(max_rounds, "--max-rounds", 0, 10_000_000)
    proxy = proxy or bids is not None or proxy_plot is not None
    proxy_method = one_of(method, "--method", ("auto", "dp", "milp", "bnb", "brute"))
    proxy_limit = None if time_limit is None else float_in(time_limit, "--time-limit", 0.0,
                                                           86_400.0)

    from rich.console import Console

    from auctioneer.clock.io import MarketFileError, load_market, loads_market

    try:
        market = (loads_market(sys.stdin.read(), "<stdin>") if file == "-"
                  else load_market(Path(file)))
    except MarketFileError as exc:
        raise bad("FILE.json", str(exc)) from None
    name = "<stdin>" if file == "-" else file
    packages = _packages(market, bids) if bids is not None else None
    result = _run_with_progress(market, rule, limit, Console(stderr=True))
    outcome = _proxy_round(market, result, packages, proxy_method, proxy_limit,
                           Console(stderr=True)) if proxy else None
    if json_output:
        import json

        from auctioneer.clock.auction import allocation_problems
        from auctioneer.clock.io import dump_result

        problems = allocation_problems(market, result) if result.cleared else []
        data = {"file": name, **dump_result(market, result), "feasible": result.cleared
                and not problems, "problems": problems}
        if outcome is not None:
            from auctioneer.clock.proxy_report import dump_proxy

            data["proxy"] = dump_proxy(market, outcome)
        typer.echo(json.dumps(data, indent=2))
    else:
        from auctioneer.clock.report import print_summary
        from auctioneer.measure.progress import wide_console

        console = wide_console(160)
        problems = print_summary(market, result, console, name)
        if outcome is not None:
            from auctioneer.clock.proxy_report import print_proxy

            print_proxy(outcome, console)
    if plot is not None:
        from auctioneer.clock.report import write_price_plot

        write_price_plot(market, result, plot, title=name)
        typer.echo(f"wrote {plot}", err=True)
    if outcome is not None and proxy_plot is not None:
        from auctioneer.clock.proxy_report import write_comparison_plot

        write_comparison_plot(outcome, proxy_plot, title=name)
        typer.echo(f"wrote {proxy_plot}", err=True)
    if not result.cleared or problems:
        raise typer.Exit(EXIT_NOT_CLEARED)


def _packages(market: "Market", bids: Path) -> "Packages":
    """The ``--bids`` file's package bids, read before the clock runs; exit 2 naming the place."""
    from auctioneer.clock.activity import Packages
    from auctioneer.clock.bids_io import load_bids

    try:
        return Packages.from_bids(market, load_bids(bids))
    except ValueError as exc:  # BidsFileError included
        raise bad("--bids", str(exc)) from None


def _proxy_round(market: "Market", result: "ClockResult", packages: "Packages | None", method: str,
                 time_limit: float | None, console: "Console") -> "ProxyResult":
    """The proxy round after ``result``, its phase and time on a status line; a bid the
    activity rule refuses is exit 2."""
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from auctioneer.clock.proxy import run_proxy

    columns = (SpinnerColumn(), TextColumn("proxy round: {task.description}"),
               TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task("starting", total=None)
        try:
            return run_proxy(market, result, packages, method=method, time_limit=time_limit,
                             progress=lambda phase: bar.update(task, description=phase))
        except ValueError as exc:  # ActivityError names the user and bundle
            raise bad("--bids", str(exc)) from None


def _run_with_progress(market: "Market", rule: "StepRule", limit: int,
                       console: "Console") -> "ClockResult":
    """run_clock under a rich progress bar over rounds (out of ``limit``)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from auctioneer.clock.auction import run_clock

    columns = (TextColumn("[progress.description]{task.description}"), BarColumn(),
               MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task("clock", total=limit + 1)

        def step(t: int, over: int) -> None:
            bar.update(task, completed=t + 1,
                       description=f"round {t:,}: {over:,} pool(s) over-demanded")

        try:
            return run_clock(market, rule, max_rounds=limit, progress=step)
        except ValueError as exc:  # the market's money could overflow: bad input
            raise bad("FILE.json", str(exc)) from None


# --------------------------------------------------------------------------
# auctioneer generate clock


def generate_clock(
    clusters: Annotated[str, typer.Option(metavar="INT", help="Clusters.")] = "10",
    resources: Annotated[
        str, typer.Option(metavar="INT", help="Resource types per cluster, 1..10: cpu, ram, "
                          "disk, gpu, ssd, net, tpu, hdd, ipv4, fpga (the first INT).")
    ] = "4",
    users: Annotated[str, typer.Option(metavar="INT", help="Users.")] = "100",
    bundles: Annotated[
        str, typer.Option(metavar="INT", help="Acceptable bundles per user: the same job in "
                          "that many clusters.")
    ] = "3",
    seed: Annotated[str, seed_option("Generator")] = "0",
    load: Annotated[
        str, typer.Option(metavar="NUM", help="Buyers' demand over free supply.")
    ] = "1.2",
    congested: Annotated[
        str, typer.Option(metavar="SHARE", help="Share of clusters 85-97% utilised.")
    ] = "0.3",
    idle: Annotated[
        str, typer.Option(metavar="SHARE", help="Share of clusters 10-40% utilised.")
    ] = "0.3",
    sellers: Annotated[
        str, typer.Option(metavar="SHARE", help="Share of users who sell capacity.")
    ] = "0.05",
    traders: Annotated[
        str, typer.Option(metavar="SHARE", help="Share of users who move a job between "
                          "clusters (sell here, buy there).")
    ] = "0",
    output: Annotated[
        Path | None,
        output_option("--output", "-o", text="Write the JSON here instead of stdout."),
    ] = None,
) -> None:
    """Write a seeded planet-wide clock market as JSON: same seed, same file."""
    n_clusters = int_in(clusters, "--clusters", 1, 100_000)
    n_resources = int_in(resources, "--resources", 1, 10)
    n_users = int_in(users, "--users", 0, 10_000_000)
    n_bundles = int_in(bundles, "--bundles", 1, n_clusters)
    n_seed = int_in(seed, "--seed", 0, 2**64 - 1)
    shares = {name: _share(text, f"--{name}") for name, text in (
        ("congested", congested), ("idle", idle), ("sellers", sellers), ("traders", traders))}
    demand = _share(load, "--load", 0.01, 100.0)

    from auctioneer.clock.generate import generate_market
    from auctioneer.clock.io import dumps_market

    try:
        market = generate_market(clusters=n_clusters, resources=n_resources, users=n_users,
                                 bundles=n_bundles, seed=n_seed, load=demand,
                                 congested=shares["congested"], idle=shares["idle"],
                                 sellers=shares["sellers"], traders=shares["traders"])
    except ValueError as exc:
        word = str(exc).split()[0]
        raise bad(f"--{word}", str(exc)) from None
    if write_or_print(dumps_market(market), output):
        typer.echo(f"wrote {output}: {market.shape[0]:,} users, {len(market.pools):,} "
                   f"pools ({n_clusters} cluster{'' if n_clusters == 1 else 's'} x "
                   f"{n_resources} type{'' if n_resources == 1 else 's'})", err=True)


# --------------------------------------------------------------------------
# auctioneer bench clock


def bench_clock(
    sizes: Annotated[
        str | None,
        quick_default("Market sizes USERSxPOOLS, comma-separated.",
                      "100x100, 1000x1000, 10000x1000, 30000x1000, 100000x1000",
                      "100x100, 2000x200", metavar=None),
    ] = None,
    repeats: Annotated[
        str | None,
        quick_default("Runs per size under 1 s (median).", "5", "3"),
    ] = None,
    welfare: Annotated[
        str | None,
        quick_default("Small markets compared with the MILP optimum.", "20", "5"),
    ] = None,
    seed: Annotated[str, seed_option("Market")] = "0",
    quick: Annotated[bool, quick_option("small sizes, a few seconds.")] = False,
    json_path: JsonOption = None,
    plot: Annotated[Path, plot_option("scaling plot")] = Path("out/bench-clock.png"),
) -> None:
    """The paper's 100 x 100 clock auction, and markets up to 100,000 users x 1,000 pools.

    Time per auction and per round, rounds to converge, peak memory, each
    step mode, welfare against the MILP optimum, and the pure-Python
    reference. Prints tables and PASS/MISS lines for the targets.
    """

    from auctioneer.clock import bench as bench
    from auctioneer.clock import bench_report as report
    from auctioneer.measure.benchmark import run_benchmark

    try:
        parsed = None if sizes is None else bench.parse_sizes(sizes)
    except ValueError as exc:
        raise bad("--sizes", str(exc)) from None
    config = bench.ClockBenchConfig.build(
        sizes=parsed,
        repeats=None if repeats is None else int_in(repeats, "--repeats", 1, 1000),
        welfare_instances=None if welfare is None else int_in(welfare, "--welfare", 0, 10_000),
        seed=int_in(seed, "--seed", 0, 2**64 - 1),
        quick=quick,
    )
    run_benchmark(report.BENCHMARK, config, json_path, plot)


register(app, generate_app=generate_app, bench_app=bench_app)
