"""The command line under test: an area's commands on a bare app, rich's error panel as
plain text, and a usage error as the house rules want it (exit 2, nothing on stdout, one
line on stderr, ``auctioneer: error: ...``, naming the option and the value refused)."""

from collections.abc import Callable

import pytest
import typer

from auctioneer.cli import main


def registered_app(register: Callable[..., None], *groups: str) -> typer.Typer:
    """A bare app with the command groups ``groups`` (``"generate"``, ``"bench"``), where an
    area's ``register`` adds its commands exactly as :mod:`auctioneer.cli` does: the area's
    commands are tested without the rest of the CLI."""
    app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
    apps = {f"{name}_app": typer.Typer(add_completion=False) for name in groups}
    for name in groups:
        app.add_typer(apps[f"{name}_app"], name=name)
    register(app, **apps)
    return app


def flat(text: str) -> str:
    """Output with rich's error box and line wrapping undone."""
    return " ".join(text.replace("│", " ").replace("╭", " ").replace("╰", " ").split())


def usage_error(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    """The one error line ``auctioneer ARGV`` printed, after checking that it is one."""
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    line = captured.err.strip()
    assert "\n" not in line and line.startswith("auctioneer: error: "), captured.err
    return line


def names_option_and_value(line: str, option: str, value: str) -> bool:
    """Whether an error line names ``option`` and quotes ``value``."""
    return option in line and f"'{value}'" in line
