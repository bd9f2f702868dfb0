"""``auctioneer experiment incentives`` end to end, and its errors."""

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from auctioneer.cli import app, main

from ..plots import is_png
from ..usage import usage_error
from .test_matrix import fake_bench

runner = CliRunner()


def test_quick_run_writes_json_and_markdown(tmp_path: Path) -> None:
    bench = tmp_path / "bench.json"
    bench.write_text(json.dumps(fake_bench()))
    out_json, out_md = tmp_path / "o" / "inc.json", tmp_path / "o" / "inc.md"
    out_png = tmp_path / "p" / "inc.png"
    result = runner.invoke(app, ["experiment", "incentives", "--quick", "--seed", "3",
                                 "--json", str(out_json), "--markdown", str(out_md),
                                 "--plot", str(out_png), "--tick-bench", str(bench)])
    assert result.exit_code == 0, result.output
    assert "Mechanism comparison matrix" in result.stdout
    data = json.loads(out_json.read_text())
    assert data["config"]["seed"] == 3 and data["config"]["quick"] is True
    assert data["matrix"][0]["time"]["tick_p99_ns"] == 4321.0 + 1000
    assert {c["mechanism"] for c in data["truthfulness"]} >= {"first-price", "sampled"}
    assert data["sybil"] and data["collusion"] and data["thermal"]
    poa = {c["mechanism"]: c["price_of_anarchy"] for c in data["equilibrium"]}
    assert poa["second-price"] == 1.0 and len(poa) == len(data["mechanisms"])
    worst = {c["mechanism"]: c["price_of_anarchy"] for c in data["worst_equilibrium"]}
    assert data["matrix"][1]["price_of_anarchy"] == worst["second-price"] >= poa["second-price"]
    assert all(worst[m] >= poa[m] for m in poa if poa[m] is not None)
    assert {c["start"] for c in data["equilibrium_starts"]} == {"shaded", "inflated", "random"}
    assert data["learning"] and data["tier_widths"] and data["sampled_fairness"]
    text = out_md.read_text()
    assert "### Mechanism comparison matrix (measured)" in text
    assert "### Equilibrium: iterated best response" in text and "price of anarchy |" in text
    assert "4,321" not in text and "5,321 ns p99" in text
    assert is_png(out_png)
    assert f"wrote {out_png}" in result.stdout


def test_quick_run_without_a_bench_runs_a_reduced_one() -> None:
    result = runner.invoke(app, ["experiment", "incentives", "--quick", "--rounds", "20"])
    assert result.exit_code == 0, result.output
    assert "reduced tick benchmark" in result.stdout


@pytest.mark.parametrize(("args", "option", "value"), [
    (["--rounds", "abc"], "--rounds", "abc"),
    (["--rounds", "0"], "--rounds", "0"),
    (["--seed", "-1"], "--seed", "-1"),
    (["--tick-bench", "/nonexistent/b.json"], "--tick-bench", "/nonexistent/b.json"),
])
def test_bad_options_exit_2_naming_the_option(
    capsys: pytest.CaptureFixture[str], args: list[str], option: str, value: str
) -> None:
    line = usage_error(["experiment", "incentives", "--quick", *args], capsys)
    assert option in line and value in line


def test_bad_tick_bench_json_names_the_field(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    bench = tmp_path / "b.json"
    row = {"structure": "TierBook", "n": 5, "bytes_per_agent": 24.0,
           "from_python_ns": {"tick": {"p50": 150.0}}}
    bench.write_text(json.dumps({"results": [row]}))
    assert main(["experiment", "incentives", "--quick", "--tick-bench", str(bench)]) == 2
    err = capsys.readouterr().err
    assert "--tick-bench" in err and "from_python_ns.tick.p99" in err


def test_unwritable_plot_exits_2_naming_the_option(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    bench = tmp_path / "bench.json"
    bench.write_text(json.dumps(fake_bench()))
    png = bench / "inc.png"  # under a file: its folder cannot be made
    args = ["--quick", "--rounds", "5", "--tick-bench", str(bench), "--plot", str(png)]
    assert main(["experiment", "incentives", *args]) == 2
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert last.startswith("auctioneer: error:") and "--plot" in last and str(png) in last
