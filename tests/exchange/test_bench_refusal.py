"""``auctioneer bench refusals``: the cost of a refused command with orders resting."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from auctioneer.cli import main
from auctioneer.exchange.bench_refusal import RefusalBenchConfig, run_refusal_bench

from ..plots import is_png


def test_a_refusal_leaves_the_native_engine_in_c() -> None:
    result = run_refusal_bench(RefusalBenchConfig(resting=(200,), rounds=10, repeats=1))
    native = [r for r in result.runs if r.engine == "auctioneer-native-engine"]
    assert [r.native for r in native] == [True]


def test_cli_writes_json_and_plot(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out, plot = tmp_path / "r.json", tmp_path / "r.png"
    assert main(["bench", "refusals", "--resting", "50,100", "--rounds", "5", "--repeats", "1",
                 "--json", str(out), "--plot", str(plot)]) == 0
    assert "Refused us" in capsys.readouterr().out
    data = json.loads(out.read_text())
    assert [(r["engine"], r["resting"]) for r in data["runs"]] == [
        ("auctioneer", 50), ("auctioneer-native-engine", 50),
        ("auctioneer", 100), ("auctioneer-native-engine", 100)]
    assert is_png(plot)


def test_cli_names_a_bad_option(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "refusals", "--resting", "10,0"]) == 2
    assert "--resting" in capsys.readouterr().err
    assert main(["bench", "refusals", "--rounds", "x"]) == 2
    assert "--rounds" in capsys.readouterr().err
