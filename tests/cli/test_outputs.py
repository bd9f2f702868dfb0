"""Issue 12 #8: every output path of every command is checked before the command runs.

Each command's options are found by walking the app, so a new output option is covered (or
this test fails) without editing it: a path whose parent is a regular file, a path that
cannot be created (under /proc) and, for a file, a directory must each exit 2 at once with a
one-line error, never a traceback after the work.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer

from auctioneer.cli import app, main

ROOT = Path(__file__).resolve().parents[2]
# Paths the commands read, not write.
INPUTS = {("experiment", "incentives", "--tick-bench"),
          ("bench", "sim", "--scenario"), ("stream", "status", "--checkpoint-dir"),
          ("kernel", "mix", "--prediction")}
# What a command needs besides the option under test.
REQUIRED = {("clear",): [str(ROOT / "examples/clearing/office.json")],
            ("clock",): [str(ROOT / "examples/clock/planet.json")],
            ("kernel", "mix"): [str(ROOT / "kernel/vm/mix.yaml")],
            ("simulate",): [str(ROOT / "examples/sim/steady.yaml")],
            ("stream", "engine"): ["--partition", "0"],
            ("stream", "publish"): [str(ROOT / "examples/clearing/office.json")]}


def _outputs() -> Iterator[tuple[tuple[str, ...], str, bool]]:
    """(command path, option, whether it names a directory) for every output path option."""

    def walk(command: object, path: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], str,
                                                                       bool]]:
        subcommands = getattr(command, "commands", None)
        if subcommands:
            for name, sub in subcommands.items():
                yield from walk(sub, (*path, name))
            return
        for param in getattr(command, "params", ()):
            option = max(param.opts, key=len)
            annotation = str(param.type_descriptor.annotation)
            if "Path" not in annotation or not option.startswith("--") \
                    or (*path, option) in INPUTS:
                continue
            yield path, option, not param.type_descriptor.parameter_info.file_okay

    yield from walk(typer.main.get_command(app), ())


OUTPUTS = list(_outputs())


def test_the_walk_finds_the_outputs_the_issue_names() -> None:
    found = {(" ".join(path), option) for path, option, _ in OUTPUTS}
    for expected in [("bench tick", "--json"), ("bench tick", "--plot"),
                     ("bench ring", "--json"), ("bench clock", "--plot"),
                     ("thermal step-response", "--output"), ("clock", "--plot"),
                     ("load", "--json"), ("simulate", "--out"), ("serve", "--data-dir")]:
        assert expected in found


@pytest.mark.parametrize("bad", ["under-a-file", "proc", "kind"])
@pytest.mark.parametrize(("path", "option", "directory"), OUTPUTS,
                         ids=[f"{' '.join(p)} {o}" for p, o, _ in OUTPUTS])
def test_a_bad_output_path_exits_2_before_any_work(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], path: tuple[str, ...],
        option: str, directory: bool, bad: str) -> None:
    a_file = tmp_path / "a-file"
    a_file.write_text("keep me\n")
    target = {"under-a-file": a_file / "x" / "out.json", "proc": Path("/proc/nope/out.json"),
              "kind": a_file if directory else tmp_path}[bad]
    started = time.monotonic()
    code = main([*path, *REQUIRED.get(path, []), option, str(target)])
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.startswith("auctioneer: error: ") and err.count("\n") == 1, err
    assert "Traceback" not in err and option in err
    assert time.monotonic() - started < 5, "the command ran before its output was checked"
    assert a_file.read_text() == "keep me\n"
