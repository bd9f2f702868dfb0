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

import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, TypeVar

import typer

import auctioneer

__all__ = ["app", "bench_app", "main"]

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
