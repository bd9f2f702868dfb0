"""The ``auctioneer`` command line: help, version, a tiny bench run, and bad input."""

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

import auctioneer
from auctioneer.cli import app, main

from .usage import names_option_and_value, usage_error

runner = CliRunner()

TINY = ["bench", "tick", "--quick", "--sizes", "4,16", "--ops", "200", "--repeats", "1"]


def test_help_lists_the_areas() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    assert "bench" in result.output


def test_bench_tick_help_lists_its_options() -> None:
    result = runner.invoke(app, ["bench", "tick", "--help"])
    assert result.exit_code == 0
    for option in ("--sizes", "--structures", "--ops", "--repeats", "--seed", "--quick",
                   "--json", "--plot"):
        assert option in result.output


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    assert capsys.readouterr().out == f"auctioneer {auctioneer.__version__}\n"


def test_no_arguments_prints_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 0
    assert "bench" in capsys.readouterr().out


def test_bench_tick_quick_writes_json_and_png(tmp_path: Path) -> None:
    out_json, out_png = tmp_path / "r" / "tick.json", tmp_path / "p" / "tick.png"
    result = runner.invoke(
        app,
        [*TINY, "--structures", "TierBook,IndexedHeap", "--json", str(out_json),
         "--plot", str(out_png)],
    )
    assert result.exit_code == 0, result.output
    assert "TierBook" in result.stdout and "heapq" in result.stdout
    data = json.loads(out_json.read_text())
    assert data["config"]["sizes"] == [4, 16]
    assert data["config"]["structures"] == ["TierBook", "IndexedHeap"]
    assert {r["structure"] for r in data["results"]} == {
        "TierBook", "IndexedHeap", "heapq", "SortedList"
    }
    assert out_png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize(
    ("args", "option", "value"),
    [
        (["--sizes", "abc"], "--sizes", "abc"),
        (["--sizes", "0"], "--sizes", "0"),
        (["--sizes", "-5"], "--sizes", "-5"),
        (["--sizes", "10,x"], "--sizes", "x"),
        (["--structures", "Nope"], "--structures", "Nope"),
        (["--ops", "0"], "--ops", "0"),
        (["--ops", "many"], "--ops", "many"),
        (["--repeats", "-1"], "--repeats", "-1"),
        (["--seed", "-3"], "--seed", "-3"),
    ],
)
def test_bad_values_exit_2_naming_option_and_value(
    args: list[str], option: str, value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # Through the app, as typer runs it...
    result = runner.invoke(app, ["bench", "tick", *args])
    assert result.exit_code == 2
    assert option in result.output and value in result.output
    assert "Traceback" not in result.output
    # ...and through the script's entry point: one line on stderr, nothing on stdout.
    assert names_option_and_value(usage_error(["bench", "tick", *args], capsys), option, value)


def test_unknown_option_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "tick", "--bogus"]) == 2
    assert "--bogus" in capsys.readouterr().err


def _command_modules() -> list[tuple[list[str], str]]:
    """Every command path of the full app with the module that defines it."""
    from typer.main import get_command

    found = []
    for name, command in get_command(app).commands.items():
        for sub, leaf in getattr(command, "commands", {None: command}).items():
            path = [name] if sub is None else [name, sub]
            found.append((path, leaf.callback.__module__.rsplit(".", 1)[-1]))
    return found


def test_each_command_loads_only_its_own_area() -> None:
    from auctioneer.cli.app import area_of

    paths = _command_modules()
    assert len(paths) > 20
    for path, module in paths:
        assert area_of(path + ["--help"]) == module, path
    assert area_of([]) is None and area_of(["--version"]) is None
    assert area_of(["bench", "nope"]) is None


def test_a_command_runs_without_the_other_areas() -> None:
    import subprocess
    import sys

    code = ("import sys; from auctioneer.cli import main; main(['clear', '--help']); "
            "print(sorted(m for m in sys.modules if m.startswith('auctioneer.cli.')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.splitlines()[-1] == "['auctioneer.cli.app', 'auctioneer.cli.clearing', " \
        "'auctioneer.cli.options', 'auctioneer.cli.plain']"


_HEAVY = ("numpy", "pydantic", "rich", "scipy", "highspy", "matplotlib", "httpx")


@pytest.mark.parametrize(("args", "allowed"), [
    (["--help"], ()),
    (["--version"], ()),
    # A small file: the plain reader, the sparse DP and the plain report (stdout is a pipe).
    (["clear", "{file}", "--json"], ()),
    (["clear", "{file}"], ()),
    # VCG prices from the dense tables; a bad file gets the pydantic models' error.
    (["clear", "{file}", "--payments", "vcg"], ("numpy",)),
    (["clear", "{file}.missing.json"], ()),
    (["clear", "{bad}"], ("pydantic",)),
])
def test_a_command_imports_only_the_heavy_packages_it_uses(
    tmp_path: Path, args: list[str], allowed: tuple[str, ...]
) -> None:
    """The start-up budget (``auctioneer bench startup``), guarded by what is imported."""
    import subprocess
    import sys

    file = tmp_path / "ten.json"
    main(["generate", "clearing", "--bids", "10", "--seed", "1", "-o", str(file)])
    bad = tmp_path / "bad.json"
    bad.write_text(file.read_text().replace('"capacity": 100', '"capacity": 1.5', 1))
    argv = [a.format(file=file, bad=bad) for a in args]
    code = ("import sys; from auctioneer.cli import main\n"
            f"try: main({argv!r})\nexcept SystemExit: pass\n"
            "print(sorted({m.partition('.')[0] for m in sys.modules}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    loaded = set(json.loads(out.splitlines()[-1].replace("'", '"')))
    assert loaded & set(_HEAVY) == set(allowed)
