"""The plain command-line reader against typer's own parser (the reference).

Whenever :func:`plain_arguments` maps a line to arguments, typer's parser
must map it to the same ones; everything else it must leave to typer (None).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

import pytest
import typer
from hypothesis import given, settings
from hypothesis import strategies as st

from auctioneer.cli import main
from auctioneer.cli.app import PLAIN_COMMANDS, app, load_areas
from auctioneer.cli.plain import plain_arguments

load_areas(["clear"])
_CLEAR = next(c.callback for c in app.registered_commands if c.name == "clear")
assert _CLEAR is not None


def _typer_parse(command: Callable[..., Any], words: list[str]) -> dict[str, Any] | None:
    """The keyword arguments typer would call ``command`` with, or None if it refuses."""
    one = typer.Typer()
    one.command()(command)
    click_command = typer.main.get_command(one)
    try:
        ctx = click_command.make_context("x", list(words))
    except (typer.TyperException, typer.Exit):
        return None
    return dict(ctx.params)


_WORDS = ["f.json", "-", "g.json", "", "--method", "--method=milp", "milp", "dp", "--payments",
          "vcg", "--k", "--k=3", "3", "-3", "--time-limit", "--time-limit=-1", "0.5", "--json",
          "--json=1", "--help", "--", "--no-json", "--bogus", "-k", "--METHOD"]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.sampled_from(_WORDS), max_size=7))
def test_a_plain_line_parses_as_typer_parses_it(words: list[str]) -> None:
    plain = plain_arguments(_CLEAR, words)
    if plain is not None:
        assert plain == _typer_parse(_CLEAR, words), words


@pytest.mark.parametrize("words", [
    ["f.json"], ["f.json", "--json"], ["-", "--method", "milp", "--k=3"],
    ["--time-limit", "2", "f.json", "--payments=vcg"],
])
def test_the_usual_lines_are_plain(words: list[str]) -> None:
    plain = plain_arguments(_CLEAR, words)
    assert plain is not None and plain == _typer_parse(_CLEAR, words)


@pytest.mark.parametrize("words", [
    [], ["--help"], ["f.json", "g.json"], ["f.json", "--json", "--json"], ["f.json", "--"],
    ["f.json", "--k"], ["f.json", "--k", "-3"], ["f.json", "--bogus"], ["f.json", "--json=1"],
])
def test_anything_else_is_left_to_typer(words: list[str]) -> None:
    assert plain_arguments(_CLEAR, words) is None


def _not_plain(count: Annotated[int, typer.Option()] = 1) -> None: ...


def _callback(name: Annotated[str, typer.Option(callback=lambda v: v)] = "a") -> None: ...


def _twin_flag(force: Annotated[bool, typer.Option()] = False) -> None: ...


@pytest.mark.parametrize("command", [_not_plain, _callback, _twin_flag])
def test_a_command_typer_must_coerce_is_not_plain(command: Callable[..., Any]) -> None:
    assert plain_arguments(command, []) is None


def test_a_plain_call_reports_errors_and_exit_codes_as_typer_does(
        tmp_path: Any, capsys: pytest.CaptureFixture[str]) -> None:
    """The same line through the plain path and through typer: same status, same words."""
    missing = str(tmp_path / "missing.json")
    for words in (["clear", missing], ["clear", missing, "--method", "nope"]):
        assert words[0] in PLAIN_COMMANDS
        plain = main(words)
        plain_err = capsys.readouterr().err
        # A repeated --json is not plain: typer parses it (and takes the flag once).
        assert main([*words, "--json", "--json"]) == plain == 2
        assert capsys.readouterr().err == plain_err
