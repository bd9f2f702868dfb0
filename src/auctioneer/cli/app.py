"""The ``auctioneer`` command line's root: the typer apps and ``main``.

Errors a user can fix (a bad option value, a bad combination) print one line
on stderr naming the option and value, and exit with status 2; no traceback.

Example:
    >>> main(["--version"])
    auctioneer 0.1.0
    0
"""


import importlib
import sys
from collections.abc import Callable, Sequence
from typing import Annotated

import typer

import auctioneer

__all__ = ["AREAS", "PLAIN_COMMANDS", "app", "area_of", "bench_app", "generate_app", "load_areas",
           "main"]

AREAS = ("cache", "clearing", "clock", "incentives", "ring", "service", "sim", "thermal",
         "tick", "exchange", "stream", "cluster", "startup", "kernel")
"""The modules of :mod:`auctioneer.cli` that register commands, in help order."""

_TOP = {"clear": "clearing", "clock": "clock", "experiment": "incentives",
        "serve": "service", "load": "service", "simulate": "sim", "thermal": "thermal",
        "stream": "stream", "kernel": "kernel", "engine": "cluster", "cluster": "cluster"}
_SECOND = {"refusals": "exchange"}

# Plain help (no rich markup, inherited by every sub-app): typer's rich help
# imports rich and markdown-it, about 60 ms of the 150 ms budget for --help.
app = typer.Typer(
    name="auctioneer",
    help="Price and allocate compute with auctions, from one scheduler tick to a "
    "quarterly capacity plan.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
bench_app = typer.Typer(
    help="Measure auctioneer's hot paths.", no_args_is_help=True, add_completion=False
)
app.add_typer(bench_app, name="bench")
generate_app = typer.Typer(
    help="Generate inputs: random, seeded auctions.", no_args_is_help=True, add_completion=False
)
app.add_typer(generate_app, name="generate")

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


def area_of(args: Sequence[str]) -> str | None:
    """The one module whose commands ``args`` runs, or None when it needs them all.

    ``bench X`` and ``generate X`` live in the module named ``X``, or in the one
    :data:`_SECOND` names for an area's second benchmark.
    """
    if not args:
        return None
    if args[0] in ("bench", "generate"):
        name = _SECOND.get(args[1], args[1]) if len(args) > 1 else None
        return name if name in AREAS else None
    return _TOP.get(args[0])


def load_areas(args: Sequence[str] = ()) -> None:
    """Register the commands ``args`` needs (every command unless it names one area).

    Typer builds every registered command's parser on each run, and the
    area modules import their options' helpers: registering one area keeps
    a command's startup near bare typer (``auctioneer bench startup``).
    """
    area = area_of(args)
    for name in AREAS if area is None else (area,):
        importlib.import_module(f"auctioneer.cli.{name}")


PLAIN_COMMANDS = ("clear",)
"""Commands run without typer's value coercion when their line is plain
(:mod:`auctioneer.cli.plain`): those on the start-up budget."""


def _plain_call(args: Sequence[str]) -> Callable[[], object] | None:
    """The command ``args`` runs, ready to call, when its line is plain; else None."""
    if not args or args[0] not in PLAIN_COMMANDS:
        return None
    from auctioneer.cli.plain import plain_arguments

    command = next(c.callback for c in app.registered_commands if c.name == args[0])
    assert command is not None
    kwargs = plain_arguments(command, args[1:])
    return None if kwargs is None else lambda: command(**kwargs)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line (the ``auctioneer`` script); return the exit status.

    Usage errors print as one line, ``auctioneer: error: ...``, with status 2.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    load_areas(args)
    plain = _plain_call(args)
    try:
        code = plain() if plain is not None else app(
            args=args, prog_name="auctioneer", standalone_mode=False)
    except typer.Exit as exc:  # typer returns these itself; a plain call raises them
        return exc.exit_code
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

