"""The ``auctioneer`` command line: one typer sub-app per area, thin over the library.

Commands parse their options and call library functions; nothing here
measures, prices or allocates. A new area (``clear``, ``clock``, ``serve``,
``simulate``, ...) is one more ``typer.Typer()`` added to :data:`app` with
``app.add_typer(area_app, name="area")``.

Errors a user can fix (a bad option value, a bad combination) print one line
on stderr naming the option and value, and exit with status 2; no traceback.

Example:
    >>> main(["--version"])
    auctioneer 0.1.0
    0
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer

import auctioneer

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

    from auctioneer.clearing.model import Auction
    from auctioneer.clearing.result import Clearing

__all__ = ["EXIT_NOT_OPTIMAL", "app", "bench_app", "generate_app", "main"]

_T = TypeVar("_T")

app = typer.Typer(
    name="auctioneer",
    help="Price and allocate compute with auctions, from one scheduler tick to a "
    "quarterly capacity plan.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
bench_app = typer.Typer(
    help="Measure auctioneer's hot paths.", no_args_is_help=True, add_completion=False
)
app.add_typer(bench_app, name="bench")
generate_app = typer.Typer(
    help="Generate inputs: random, seeded auctions.", no_args_is_help=True, add_completion=False
)
app.add_typer(generate_app, name="generate")

EXIT_NOT_OPTIMAL = 1
"""``auctioneer clear``'s status when the clearing is not proven optimal (infeasible,
too large for the method, stopped at the time limit). Bad input is 2, as everywhere."""


def _version(value: bool) -> None:
    if value:
        typer.echo(f"auctioneer {auctioneer.__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Price and allocate compute with auctions, from one scheduler tick to a quarterly plan."""


@contextmanager
def _user_errors() -> Iterator[None]:
    """Turn the library's ValueError/TypeError on bad input into a usage error (exit 2)."""
    try:
        yield
    except (ValueError, TypeError) as exc:
        raise typer.BadParameter(str(exc)) from None


def _parsed(parse: Callable[[str], _T], text: str, option: str) -> _T:
    """``parse(text)``, its ValueError reported against ``option``."""
    try:
        return parse(text)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint=f"'{option}'") from None


def _int_in(text: str, option: str, low: int, high: int | None = None) -> int:
    """An int option's value, parsed here so the error can quote what was typed."""
    try:
        value = int(text)
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not an integer", param_hint=f"'{option}'") from None
    if value < low or (high is not None and value > high):
        bound = f"{low}..{high}" if high is not None else f"at least {low}"
        raise typer.BadParameter(
            f"{text!r} is out of range: it must be {bound}", param_hint=f"'{option}'"
        )
    return value


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
    json_path: Annotated[
        Path | None,
        typer.Option("--json", help="Also write every result as JSON here.", dir_okay=False),
    ] = None,
    plot: Annotated[
        Path, typer.Option(help="Write the latency plot (PNG) here.", dir_okay=False)
    ] = Path("out/bench-tick.png"),
) -> None:
    """Latency of update, expire and one tick (update + winner + Vickrey price) per structure.

    Timed inside C (time stamp counter) and per call from Python, against
    heapq and SortedList baselines; memory per agent; the sampled book's
    miss rate. Prints a table and PASS/MISS lines for the targets.
    """
    from rich.console import Console

    try:
        from auctioneer.bench import tick as bench
        from auctioneer.bench import tick_report as report
    except ImportError as exc:
        # Most often the C core is not built yet; say so rather than dump a traceback.
        typer.echo(f"auctioneer: error: cannot load the tick benchmark: {exc} "
                   "(is the native core built? run make)", err=True)
        raise typer.Exit(1) from None

    config_sizes = None if sizes is None else _parsed(bench.parse_sizes, sizes, "--sizes")
    config_structures = _parsed(bench.parse_structures, structures, "--structures")
    with _user_errors():
        config = bench.TickBenchConfig.build(
            sizes=config_sizes,
            structures=config_structures,
            ops=None if ops is None else _int_in(ops, "--ops", 1),
            repeats=None if repeats is None else _int_in(repeats, "--repeats", 1),
            seed=_int_in(seed, "--seed", 0, 2**64 - 1),
            quick=quick,
        )
    console = report.report_console()
    result = report.run_with_progress(config, Console(stderr=True))
    report.print_report(result, console)
    if json_path is not None:
        bench.write_json(result, json_path)
        console.print(f"wrote {json_path}")
    report.write_plot(result, plot)
    console.print(f"wrote {plot}")


# --------------------------------------------------------------------------
# Combinatorial clearing: generate clearing, clear, bench clearing


def _float_in(text: str, option: str, low: float, high: float | None = None,
              low_open: bool = False) -> float:
    """A float option (not money) parsed here so the error can quote what was typed."""
    try:
        value = float(text)
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not a number", param_hint=f"'{option}'") from None
    too_low = value <= low if low_open else value < low
    if not math.isfinite(value) or too_low or (high is not None and value > high):
        if high is not None:
            bound = f"{low:g}..{high:g}"
        else:
            bound = f"above {low:g}" if low_open else f"at least {low:g}"
        raise typer.BadParameter(
            f"{text!r} is out of range: it must be {bound}", param_hint=f"'{option}'"
        )
    return value


def _one_of(text: str, option: str, choices: Sequence[str]) -> str:
    if text not in choices:
        raise typer.BadParameter(
            f"{text!r} is not one of {', '.join(choices)}", param_hint=f"'{option}'"
        )
    return text


_KIND_CHOICES = ("uncorrelated", "weakly", "strongly", "compute")


@generate_app.command("clearing")
def generate_clearing(
    kind: Annotated[
        str,
        typer.Option(
            metavar="KIND",
            help="uncorrelated (easy), weakly, strongly (hard: price = size + R/10), or compute "
            "(vCPU, GiB, GPU with cloud prices per hour)."
        ),
    ] = "uncorrelated",
    bids: Annotated[str, typer.Option(metavar="INT", help="Number of bids.")] = "20",
    bundles: Annotated[str, typer.Option(metavar="INT", help="Bundles per bid (XOR).")] = "3",
    resources: Annotated[
        str | None,
        typer.Option(metavar="INT", help="Resource types. [default: 2; compute: 3 (2: no GPU)]",
                     show_default=False),
    ] = None,
    capacity: Annotated[
        str, typer.Option(metavar="INT", help="Units of each resource (compute: vCPUs).")
    ] = "100",
    seed: Annotated[str, typer.Option(metavar="INT", help="Generator seed, 0..2**64-1.")] = "0",
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
        typer.Option("--output", "-o", help="Write the JSON here instead of stdout.",
                     dir_okay=False),
    ] = None,
) -> None:
    """Write a random auction as JSON (docs/clearing-format.md): same seed, same file."""
    from auctioneer.clearing.generate import generate
    from auctioneer.clearing.io import dumps_auction

    chosen = _one_of(kind, "--kind", _KIND_CHOICES)
    with _user_errors():
        auction = generate(
            chosen,
            bids=_int_in(bids, "--bids", 0, 1_000_000),
            bundles=_int_in(bundles, "--bundles", 1, 10_000),
            resources=None if resources is None else _int_in(resources, "--resources", 1, 64),
            capacity=_int_in(capacity, "--capacity", 1, 10**12),
            seed=_int_in(seed, "--seed", 0, 2**64 - 1),
            max_quantity=None if max_quantity is None else _int_in(
                max_quantity, "--max-quantity", 1, 10**12
            ),
            reserves=reserves,
            sellers=_float_in(sellers, "--sellers", 0.0, 1.0),
        )
    text = dumps_auction(auction)
    if output is None:
        typer.echo(text, nl=False)
        return
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise typer.BadParameter(f"cannot write {str(output)!r}: {exc.strerror or exc}",
                                 param_hint="'--output'") from None
    typer.echo(f"wrote {output}: {chosen}, {len(auction.bids)} bids x {bundles} bundles, "
               f"{auction.dimensions} resources", err=True)


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
    json_output: Annotated[
        bool, typer.Option("--json", help="Print machine-readable JSON instead of tables.")
    ] = False,
) -> None:
    """Clear an auction: winners, prices, payments, resources used, status.

    Exit status: 0 when the clearing is proven optimal, 1 when it is not
    (infeasible, too large for the method, or stopped at the time limit:
    the reason is printed), 2 for a bad file or option.
    """
    from auctioneer.clearing.io import dump_clearing, load_auction, loads_auction
    from auctioneer.clearing.solve import clear

    chosen = _one_of(method, "--method", _CLEAR_METHODS)
    rule = _one_of(payments, "--payments", _PAYMENT_RULES)
    best = None if k is None else _int_in(k, "--k", 1, 10_000)
    limit = None if time_limit is None else _float_in(time_limit, "--time-limit", 0.0,
                                                      low_open=True)
    try:
        auction = loads_auction(sys.stdin.read(), "<stdin>") if file == "-" else load_auction(
            Path(file)
        )
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="'FILE.json'") from None
    with _user_errors():
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
            data["k_best"] = _k_best_data(auction, ranked)
        typer.echo(json.dumps(data, indent=2))
    else:
        from rich.console import Console

        probe = Console()
        console = probe if probe.is_terminal else Console(width=160)
        _print_clearing(console, "<stdin>" if file == "-" else file, auction, result, rule)
        if ranked is not None:
            console.print(_k_best_table(auction, ranked))
    if code:
        raise typer.Exit(code)


_NOT_OPTIMAL = {
    "infeasible": "no allocation meets the must-win bids and winner-count bounds",
    "too-large": "refused before solving: over the method's limits",
    "time-limit": "stopped at the time limit: the best allocation found, not proven optimal",
}


def _print_clearing(console: Console, file: str, auction: Auction, result: Clearing,
                    rule: str) -> None:
    """The winners table and the summary of ``auctioneer clear``."""
    from rich.table import Table

    from auctioneer.clearing.io import is_two_sided
    from auctioneer.money import format_money

    names = [r.name for r in auction.resources]
    bundles = sum(len(b.bundles) for b in auction.bids)
    console.print(f"[bold]{file}[/bold]: {len(auction.bids)} bids, {bundles} bundles, "
                  f"{auction.dimensions} resources ({', '.join(names)})", highlight=False)
    ok = result.is_optimal
    if result.choice and result.winners:
        title = "Winners" if ok else "Winners (best found, NOT proven optimal)"
        table = Table(title=title, header_style="bold")
        table.add_column("Bid")
        table.add_column("Bundle", justify="right")
        for name in names:
            table.add_column(name, justify="right")
        table.add_column("Price", justify="right")
        table.add_column("Payment" + (" (VCG)" if result.payments is not None else ""),
                         justify="right")
        for t in result.winners:
            j = result.choice[t]
            assert j is not None
            bundle = auction.bids[t].bundles[j]
            paid = bundle.price if result.payments is None else result.payments[t]
            table.add_row(auction.bids[t].name, str(j), *(f"{q:,}" for q in bundle.quantities),
                          format_money(bundle.price), format_money(paid))
        console.print(table)
    elif result.choice:
        console.print("No bid wins." if ok else "No bid wins in the best allocation found.")
    rows: list[tuple[str, str]] = []
    status = result.status.value
    why_not = _NOT_OPTIMAL.get(status, "not proven optimal")
    rows.append(("status", f"[green]{status}[/green]" if ok
                 else f"[bold red]{status}[/bold red] ({why_not})"))
    reason = result.stats.get("reason")
    if reason:
        rows.append(("reason", str(reason)))
    if result.choice:
        rows.append(("revenue", format_money(result.revenue)))
        if rule == "vcg":
            if result.payments is None:
                why = result.stats.get("vcg", "not computed")
                rows.append(("payments", f"[yellow]VCG {why}; pay-as-bid shown[/yellow]"))
            else:
                rows.append(("payments", f"{format_money(sum(result.payments))} (VCG)"))
        used = result.used or (0,) * auction.dimensions
        for resource, u in zip(auction.resources, used, strict=True):
            share = f" ({u / resource.capacity:.0%})" if resource.capacity else ""
            rows.append((resource.name, f"{u:,} / {resource.capacity:,} used{share}"))
        if is_two_sided(auction) and len(result.choice) == len(auction.bids):
            from auctioneer.clearing.exchange import budget_balance

            report = budget_balance(auction, result)
            rows.append(("budget", f"buyers pay {format_money(report.buyers_pay)}, sellers "
                         f"receive {format_money(report.sellers_receive)}, surplus "
                         f"{format_money(report.surplus)}"
                         + (" (balanced)" if report.balanced else " [red](DEFICIT)[/red]")))
            if report.payments is not None:
                under = report.payments
                rows.append(("budget (VCG)", f"buyers pay {format_money(under.buyers_pay)}, "
                             f"sellers receive {format_money(under.sellers_receive)}, surplus "
                             f"{format_money(under.surplus)}"
                             + (" (balanced)" if under.balanced else " [red](DEFICIT)[/red]")))
    rows.append(("method", result.method))
    if "auto" in result.stats:
        rows.append(("auto", str(result.stats["auto"])))
    rows.append(("time", f"{result.seconds * 1000:,.2f} ms"))
    width = max(len(label) for label, _ in rows)
    for label, value in rows:
        console.print(f"[bold]{label:<{width}}[/bold]  {value}", highlight=False, soft_wrap=True)


def _k_best_table(auction: Auction, ranked: Sequence[Clearing]) -> Table:
    from rich.table import Table

    from auctioneer.money import format_money

    table = Table(title=f"The {len(ranked)} best allocations", header_style="bold")
    table.add_column("Rank", justify="right")
    table.add_column("Revenue", justify="right")
    table.add_column("Winners (bid#bundle)")
    for rank, r in enumerate(ranked, 1):
        winners = " ".join(f"{auction.bids[t].name}#{r.choice[t]}" for t in r.winners)
        table.add_row(str(rank), format_money(r.revenue), winners or "(none)")
    return table


def _k_best_data(auction: Auction, ranked: Sequence[Clearing]) -> list[dict[str, object]]:
    from auctioneer.clearing.io import money_text

    return [
        {
            "rank": rank,
            "revenue": {"amount": money_text(r.revenue), "micros": r.revenue},
            "winners": [{"bid": auction.bids[t].name, "bundle": r.choice[t]}
                        for t in r.winners],
        }
        for rank, r in enumerate(ranked, 1)
    ]


@bench_app.command("clearing")
def bench_clearing(
    sizes: Annotated[
        str | None,
        typer.Option(help="Bids per instance, 2 resources, comma-separated. "
                     "[default: 10,20,50,100,200; --quick: 10,50,100]", show_default=False),
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
        typer.Option(metavar="INT", help="Timed solves per method and instance (median). "
                     "[default: 5; --quick: 3]", show_default=False),
    ] = None,
    time_limit: Annotated[
        str | None,
        typer.Option(metavar="SECONDS", help="Per solve. [default: 5; --quick: 1]",
                     show_default=False),
    ] = None,
    no_vcg: Annotated[bool, typer.Option("--no-vcg", help="Skip the VCG measurement.")] = False,
    seed: Annotated[str, typer.Option(metavar="INT", help="Instance seed, 0..2**64-1.")] = "0",
    quick: Annotated[
        bool, typer.Option("--quick", help="A smoke run: small sizes, short limits, ~15 s.")
    ] = False,
    json_path: Annotated[
        Path | None,
        typer.Option("--json", help="Also write every result as JSON here.", dir_okay=False),
    ] = None,
    plot: Annotated[
        Path, typer.Option(help="Write the time/memory plot (PNG) here.", dir_okay=False)
    ] = Path("out/bench-clearing.png"),
) -> None:
    """DP, MILP and branch and bound on easy and hard instances of growing size.

    Median solve time per method, revenue equality across methods, VCG cost
    against one DP clearing, tracemalloc peak per solve. Prints a table and
    PASS/MISS lines for the targets.
    """
    from rich.console import Console

    from auctioneer.bench import clearing as bench
    from auctioneer.bench import clearing_report as report

    with _user_errors():
        config = bench.ClearingBenchConfig.build(
            sizes=None if sizes is None else _parsed(bench.parse_sizes, sizes, "--sizes"),
            sizes_3d=None if sizes_3d is None else _parsed(bench.parse_sizes, sizes_3d,
                                                           "--sizes-3d"),
            methods=_parsed(bench.parse_methods, methods, "--methods"),
            repeats=None if repeats is None else _int_in(repeats, "--repeats", 1),
            time_limit=None if time_limit is None else _float_in(
                time_limit, "--time-limit", 0.0, low_open=True
            ),
            vcg=not no_vcg,
            seed=_int_in(seed, "--seed", 0, 2**64 - 1),
            quick=quick,
        )
    console = report.report_console()
    result = report.run_with_progress(config, Console(stderr=True))
    report.print_report(result, console)
    if json_path is not None:
        bench.write_json(result, json_path)
        console.print(f"wrote {json_path}")
    report.write_plot(result, plot)
    console.print(f"wrote {plot}")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line (the ``auctioneer`` script); return the exit status.

    Usage errors print as one line, ``auctioneer: error: ...``, with status 2.
    """
    try:
        code = app(args=argv, prog_name="auctioneer", standalone_mode=False)
    except typer.TyperException as exc:
        ctx = getattr(exc, "ctx", None)
        # Typer's own way to ask for help (no_args_is_help) arrives as an error.
        if type(exc).__name__ == "NoArgsIsHelpError" and ctx is not None:
            typer.echo(ctx.get_help())
            return 0
        typer.echo(f"auctioneer: error: {exc.format_message()}", err=True)
        return exc.exit_code
    except typer.Abort:
        typer.echo("auctioneer: aborted", err=True)
        return 1
    return code if isinstance(code, int) else 0


if __name__ == "__main__":
    sys.exit(main())
