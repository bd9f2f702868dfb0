"""Option parsing shared by the commands: every error quotes what was typed.

typer's own messages for ints and floats do not quote the bad value, so the
commands take such options as text and parse them here.

Example:
    >>> int_in("12", "--bids", 0)
    12
"""

from __future__ import annotations

import errno
import math
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

__all__ = [
    "bad",
    "AssignOption",
    "ClusterPartitionsOption",
    "JsonOption",
    "JsonOutputFlag",
    "PercentileRepeatsOption",
    "float_in",
    "int_in",
    "native_bench",
    "one_of",
    "output_dir_option",
    "output_option",
    "parsed",
    "plot_option",
    "quick_default",
    "quick_option",
    "seed_option",
    "user_errors",
    "write_or_print",
]

_T = TypeVar("_T")

def bad(option: str, message: str) -> typer.BadParameter:
    """The usage error for ``option``: one line naming it, exit status 2."""
    return typer.BadParameter(message, param_hint=f"'{option}'")


def _check_writable(path: Path | None, directory: bool) -> Path | None:
    """``path`` once a file (or, with ``directory``, files in it) could be written there.

    The option callback of every output path: it runs while the command line is parsed, so
    a path that cannot be written is a usage error (exit 2) before any work, not a traceback
    after it. Missing directories are made (the commands would make them); a probe file
    that did not exist is removed again.
    """
    if path is None:
        return None
    ancestor = path if directory else path.parent
    while not ancestor.exists() and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    if ancestor.exists() and not ancestor.is_dir():
        raise typer.BadParameter(f"cannot write {str(path)!r}: {str(ancestor)!r} is a file, "
                                 "not a directory")
    try:
        (path if directory else path.parent).mkdir(parents=True, exist_ok=True)
        if directory:
            import tempfile

            with tempfile.TemporaryFile(dir=path):
                pass
        elif path.is_dir():
            raise IsADirectoryError(errno.EISDIR, "it is a directory")
        else:
            existed = path.exists()
            with path.open("ab"):
                pass
            if not existed:
                path.unlink()
    except OSError as exc:
        raise typer.BadParameter(f"cannot write {str(path)!r}: {exc.strerror or exc}") from None
    return path


# typer passes a callback's first parameter by position: one parameter each.
def _writable_file(path: Path | None) -> Path | None:
    return _check_writable(path, directory=False)


def _writable_dir(path: Path | None) -> Path | None:
    return _check_writable(path, directory=True)


def write_or_print(text: str, output: Path | None) -> bool:
    """Write ``text`` to ``output`` (its folders made), or print it when None: True if written.

    A failed write is ``--output``'s usage error, naming the path and the reason.
    """
    if output is None:
        typer.echo(text, nl=False)
        return False
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise bad("--output", f"cannot write {str(output)!r}: {exc.strerror or exc}") from None
    return True


def output_option(*decls: str, text: str, **kwargs: Any) -> Any:
    """An option naming a file the command writes, checked before the command runs."""
    return typer.Option(*decls, help=text, dir_okay=False, callback=_writable_file, **kwargs)


def output_dir_option(*decls: str, text: str, **kwargs: Any) -> Any:
    """An option naming a directory the command writes into, checked before it runs."""
    return typer.Option(*decls, help=text, file_okay=False, callback=_writable_dir, **kwargs)


JsonOption = Annotated[
    Path | None, output_option("--json", text="Also write every result as JSON here."),
]
"""The ``--json PATH`` option every benchmark takes."""

AssignOption = Annotated[
    str, typer.Option("--assign", metavar="REGION=P,...",
                      help="Pin regions to partitions; other regions go to crc32(region) mod "
                      "the count.")
]
"""``--assign``: the regions a partition map pins, beside ``--partitions``."""

ClusterPartitionsOption = Annotated[
    str | None, typer.Option("--partitions", metavar="INT", help="With a cluster (--nats): "
                             "its partition count, recorded with --assign if it has no map "
                             "yet, else it must match.", show_default=False)
]
"""``--partitions`` of a process joining a cluster (an engine, ``serve --nats``): the map it
expects, checked against (or recorded as) the cluster's."""

JsonOutputFlag = Annotated[
    bool, typer.Option("--json", help="Print machine-readable JSON instead of tables.")
]
"""The ``--json`` flag of a command that prints its result: JSON on stdout, not tables."""


def quick_option(run: str) -> Any:
    """The ``--quick`` flag of a benchmark; ``run`` says what its smoke run does."""
    return typer.Option("--quick", help=f"A smoke run: {run}")


def quick_default(text: str, full: str, quick: str, metavar: str | None = "INT") -> Any:
    """An option the run defaults: ``full``, or ``quick`` under ``--quick``; the help shows both."""
    return typer.Option(metavar=metavar, show_default=False,
                        help=f"{text} [default: {full}; --quick: {quick}]")


PercentileRepeatsOption = Annotated[
    str | None, quick_default("Repeats; each percentile reported is its median over them.",
                              "5", "3"),
]
"""``--repeats`` of a latency benchmark that reports percentiles (tick, ring)."""


def seed_option(what: str) -> Any:
    """A ``--seed INT`` option over every 64-bit seed; ``what`` names what it seeds."""
    return typer.Option(metavar="INT", help=f"{what} seed, 0..2**64-1.")


def plot_option(what: str) -> Any:
    """A benchmark's ``--plot PATH`` option; ``what`` names the figure it writes."""
    return output_option(text=f"Write the {what} (PNG) here.")


@contextmanager
def native_bench(name: str) -> Iterator[None]:
    """Import a benchmark that needs the C core: an ImportError becomes one line and exit 1.

    Most often the core is not built yet; say so rather than dump a traceback.
    """
    try:
        yield
    except ImportError as exc:
        typer.echo(f"auctioneer: error: cannot load the {name} benchmark: {exc} "
                   "(is the native core built? run make)", err=True)
        raise typer.Exit(1) from None


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn the library's ValueError/TypeError on bad input into a usage error (exit 2)."""
    try:
        yield
    except (ValueError, TypeError) as exc:
        raise typer.BadParameter(str(exc)) from None


def parsed(parse: Callable[[str], _T], text: str, option: str) -> _T:
    """``parse(text)``, its ValueError reported against ``option``."""
    try:
        return parse(text)
    except ValueError as exc:
        raise bad(option, str(exc)) from None


def int_in(text: str, option: str, low: int, high: int | None = None) -> int:
    """An int option's value, parsed here so the error can quote what was typed."""
    try:
        value = int(text)
    except ValueError:
        raise bad(option, f"{text!r} is not an integer") from None
    if value < low or (high is not None and value > high):
        bound = f"{low}..{high}" if high is not None else f"at least {low}"
        raise bad(option, f"{text!r} is out of range: it must be {bound}")
    return value


def float_in(text: str, option: str, low: float, high: float | None = None,
              low_open: bool = False) -> float:
    """A float option (not money) parsed here so the error can quote what was typed."""
    try:
        value = float(text)
    except ValueError:
        raise bad(option, f"{text!r} is not a number") from None
    if not math.isfinite(value):
        raise bad(option, f"{text!r} is not a finite number")
    too_low = value <= low if low_open else value < low
    if too_low or (high is not None and value > high):
        if high is not None:
            bound = f"{low:g}..{high:g}"
        else:
            bound = f"above {low:g}" if low_open else f"at least {low:g}"
        raise bad(option, f"{text!r} is out of range: it must be {bound}")
    return value


def one_of(text: str, option: str, choices: Sequence[str]) -> str:
    """``text`` if it is one of ``choices``."""
    if text not in choices:
        raise bad(option, f"{text!r} is not one of {', '.join(choices)}")
    return text
