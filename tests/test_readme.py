"""README.md's command-line block, as written: every command exists, every output goes under
``out/``, and the clearing and clock lines run from a fresh directory."""

from __future__ import annotations

import re
import shlex
import shutil
from pathlib import Path

import pytest
from typer.main import get_command

from auctioneer.cli import app, main

ROOT = Path(__file__).resolve().parents[1]
OUTPUT_OPTIONS = {"-o", "--output", "--plot", "--json", "--markdown", "--out"}


def _command_lines() -> list[list[str]]:
    text = (ROOT / "README.md").read_text()
    block = re.search(r"^## Command line\n.*?^```sh\n(.*?)^```", text, re.S | re.M)
    assert block is not None
    lines = [shlex.split(line, comments=True) for line in block[1].splitlines()]
    return [words for words in lines if words and words[0] == "auctioneer"]


def test_the_block_activates_the_venv_first() -> None:
    text = (ROOT / "README.md").read_text()
    assert ". .venv/bin/activate" in text


def test_every_command_exists_and_writes_under_out() -> None:
    root = get_command(app)
    lines = _command_lines()
    assert len(lines) > 15
    for words in lines:
        command = root
        for word in words[1:]:
            if word.startswith("-") or not hasattr(command, "commands"):
                break
            assert word in command.commands, f"{' '.join(words)}: no command {word!r}"
            command = command.commands[word]
        for option, value in zip(words, words[1:], strict=False):
            if option in OUTPUT_OPTIONS:
                assert value.startswith("out/"), f"{' '.join(words)}: {value} is not under out/"


def test_clearing_and_clock_lines_run_as_written(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copytree(ROOT / "examples" / "clock", tmp_path / "examples" / "clock")
    monkeypatch.chdir(tmp_path)
    ran = [words for words in _command_lines()
           if words[1] in ("generate", "clear", "clock") and words[2] != "--help"]
    assert len(ran) == 4
    for words in ran:
        assert main(words[1:]) == 0, words
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == \
        ["hard.json", "market.json", "prices.png"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["examples", "out"]
