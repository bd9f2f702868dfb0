"""The thermal CLI and benchmark: well-formed outputs, targets judged, errors exit 2.

Behaviour only: no assertion depends on how fast anything ran.
"""

import json
import os
from pathlib import Path

import pytest

from auctioneer.cli import main
from auctioneer.measure.record import write_json
from auctioneer.thermal import bench
from auctioneer.thermal.bench_report import BENCHMARK, print_report, write_plot

from ..plots import is_png
from ..usage import usage_error


@pytest.fixture(scope="module")
def tiny() -> bench.ThermalBenchResult:
    config = bench.ThermalBenchConfig(batch=5, samples=5, vickrey_sizes=(8, 64),
                                      bundle_sizes=(3, 8), bundles_per_bid=(2, 4), dispatches=3)
    return bench.run_thermal_bench(config)


def test_tiny_run_is_well_formed(tiny: bench.ThermalBenchResult, tmp_path: Path) -> None:
    assert [r.name for r in tiny.ops][:2] == ["schedule lookup", "recompute per tick"]
    assert tiny.op("schedule lookup").baseline == "recompute per tick"  # type: ignore[union-attr]
    assert [(d.path, d.bids, d.bundles_per_bid) for d in tiny.dispatch] == [
        ("vickrey", 8, 1), ("vickrey", 64, 1), ("vickrey-arrays", 8, 1),
        ("vickrey-arrays", 64, 1), ("bundles", 3, 2), ("bundles", 8, 2),
        ("bundles", 3, 4), ("bundles", 8, 4)]
    for d in tiny.dispatch:
        timed = d.path == "bundles"
        assert (d.baseline_p99_ns is not None) == timed
        assert (d.reference_p50_ns is not None and d.reference_p99_ns is not None) == timed
    assert all(t.passed is not None for t in tiny.targets)
    write_json(tiny, tmp_path / "t.json")
    data = json.loads((tmp_path / "t.json").read_text())
    assert data["benchmark"] == "auctioneer.bench.thermal"
    assert data["coupling_table_bytes"] == {"cpu": 16384, "gpu": 1024}
    assert len(data["config"]["load_average"]) == 3
    for row in data["dispatch"]:
        assert 0 <= row["preempted"] <= 3 and row["scheduler"] in ("fifo", "default")
    write_plot(tiny, tmp_path / "t.png")
    assert is_png(tmp_path / "t.png")
    print_report(tiny, BENCHMARK.console())


def test_sixteen_by_four_bundles_is_judged_when_run() -> None:
    config = bench.ThermalBenchConfig(batch=5, samples=5, vickrey_sizes=(8,), bundle_sizes=(16,),
                                      bundles_per_bid=(4,), dispatches=2)
    targets = {t.name: t for t in bench.run_thermal_bench(config).targets}
    judged = targets["GPU dispatch (bundles, 16 bids x 4 bundles) p99 <= 100 us"]
    assert judged.passed is not None and "p99" in judged.detail


def test_step_response_command_writes_png_and_json(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "sr.png"
    assert main(["thermal", "step-response", "--duration", "30", "-o", str(out)]) == 0
    assert is_png(out)
    data = json.loads(out.with_suffix(".json").read_text())
    assert len(data["series"]["t_s"]) == 3000 and "multiplier" in data["series"]
    assert "overshoot" in capsys.readouterr().out


@pytest.mark.parametrize(("argv", "text"), [
    (["thermal", "step-response", "--kp", "x"], "'--kp': 'x' is not a number"),
    (["thermal", "step-response", "--gpu-util", "2"], "'--gpu-util': '2' is out of range"),
    (["bench", "thermal", "--samples", "0"], "'--samples': '0' is out of range"),
    (["bench", "thermal", "--bundles-per-bid", "17"], "'--bundles-per-bid': '17' is out of range"),
    (["bench", "thermal", "--repeats", "0"], "'--repeats': '0' is out of range"),
])
def test_bad_options_exit_2(argv: list[str], text: str,
                            capsys: pytest.CaptureFixture[str]) -> None:
    assert text in usage_error(argv, capsys)


def test_bench_command_takes_bundles_per_bid(tmp_path: Path) -> None:
    out = tmp_path / "b.json"
    argv = ["bench", "thermal", "--quick", "--samples", "1", "--dispatches", "1", "--repeats", "2",
            "--bundles-per-bid", "3", "--bundles-per-bid", "1", "--no-realtime", "--json", str(out),
            "--plot", str(tmp_path / "b.png")]
    assert main(argv) == 0
    data = json.loads(out.read_text())
    assert data["config"]["repeats"] == 2
    rows = data["dispatch"]
    assert [(r["bids"], r["bundles_per_bid"]) for r in rows if r["path"] == "bundles"] == [
        (4, 3), (8, 3), (4, 1), (8, 1)]
    assert all(r["reference_p50_ns"] is not None for r in rows if r["path"] == "bundles")
    assert {r["scheduler"] for r in rows} == {"default"}


def test_realtime_restores_the_threads_policy() -> None:
    before = os.sched_getscheduler(0), os.sched_getparam(0)
    with bench.realtime(True) as policy:
        expected = os.SCHED_FIFO if policy == "fifo" else before[0]
        assert os.sched_getscheduler(0) == expected
    assert (os.sched_getscheduler(0), os.sched_getparam(0)) == before
    with bench.realtime(False) as policy:
        assert policy == "default"
