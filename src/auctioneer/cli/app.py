"""The ``auctioneer`` command line's root: the typer apps and ``main``.

Errors a user can fix (a bad option value, a bad combination) print one line
on stderr naming the option and value, and exit with status 2; no traceback.

Example:
    >>> main(["--version"])
    auctioneer 0.1.0
    0
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

import typer

import auctioneer

__all__ = ["app", "bench_app", "generate_app", "main"]

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

