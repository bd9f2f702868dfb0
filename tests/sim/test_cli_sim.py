"""``auctioneer simulate`` and ``auctioneer bench sim`` end to end on a tiny scenario."""

import json
from pathlib import Path

from typer.testing import CliRunner

from auctioneer.cli.sim import register

from ..plots import is_png
from ..usage import flat, registered_app
from .conftest import tiny, write_yaml

runner = CliRunner(env={"COLUMNS": "200"})


APP = registered_app(register, "bench")


def test_simulate_writes_the_report_metrics_and_plots(tmp_path: Path) -> None:
    scenario = write_yaml(tmp_path / "tiny.yaml", tiny())
    out = tmp_path / "out"
    result = runner.invoke(APP, ["simulate", str(scenario), "--out", str(out), "--seed", "7"])
    assert result.exit_code == 0, result.output
    assert "# Simulation: tiny (seed 7)" in result.stdout
    assert "Allocation efficiency" in result.stdout and "Gini" in result.stdout
    for name in ("temperatures", "multipliers", "prices", "allocations"):
        assert is_png(out / f"{name}.png")
        assert f"wrote {out / name}.png" in result.stderr
    report = (out / "report.md").read_text(encoding="utf-8")
    assert report.startswith("# Simulation: tiny (seed 7)")
    metrics = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["seed"] == 7 and metrics["ticks"] == 50 and len(metrics["trace"]) == 16


def test_a_bad_scenario_exits_2_naming_the_field(tmp_path: Path) -> None:
    scenario = write_yaml(tmp_path / "bad.yaml", tiny(cpu={"tick_hz": 50}))
    result = runner.invoke(APP, ["simulate", str(scenario), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2
    assert f"{scenario}: cpu.tick_hz: 50 must be >= 1000" in flat(result.output)
    result = runner.invoke(APP, ["simulate", str(scenario), "--seed", "-1"])
    assert result.exit_code == 2 and "'-1' is out of range" in flat(result.output)


def test_bench_sim_compares_with_simpy(tmp_path: Path) -> None:
    scenario = write_yaml(tmp_path / "tiny.yaml", tiny())
    out_json, png = tmp_path / "b.json", tmp_path / "b.png"
    result = runner.invoke(APP, ["bench", "sim", "--scenario", str(scenario), "--repeats", "1",
                                 "--json", str(out_json), "--plot", str(png)])
    assert result.exit_code == 0, result.output
    text = flat(result.stdout)
    assert "EventLoop" in text and "SimPy" in text and "SKIP" in text
    assert "Same trace hash from both engines" in text and "yes" in text
    data = json.loads(out_json.read_text(encoding="utf-8"))
    assert data["same_trace"] is True and data["ratio_pattern"] > 0
    assert {r["engine"] for r in data["rows"]} == {"EventLoop", "SimPy"}
    assert is_png(png)
    bad = runner.invoke(APP, ["bench", "sim", "--scenario", str(tmp_path / "none.yaml")])
    assert bad.exit_code == 2 and "cannot read the file" in flat(bad.output)
