"""The thermal CLI and benchmark: well-formed outputs, targets judged, errors exit 2.

Behaviour only: no assertion depends on how fast anything ran.
"""

import json
from pathlib import Path

import pytest

from auctioneer.bench import thermal as bench
from auctioneer.bench.thermal_report import print_report, report_console, write_plot
from auctioneer.cli import main

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def tiny() -> bench.ThermalBenchResult:
    config = bench.ThermalBenchConfig(batch=5, samples=5, vickrey_sizes=(8, 64),
                                      bundle_sizes=(3, 8), dispatches=3)
    return bench.run_thermal_bench(config)


def test_tiny_run_is_well_formed(tiny: bench.ThermalBenchResult, tmp_path: Path) -> None:
    assert [r.name for r in tiny.ops][:2] == ["schedule lookup", "recompute per tick"]
    assert tiny.op("schedule lookup").baseline == "recompute per tick"  # type: ignore[union-attr]
    assert [(d.path, d.bids) for d in tiny.dispatch] == [
        ("vickrey", 8), ("vickrey", 64), ("bundles", 3), ("bundles", 8)]
    assert all(t.passed is not None for t in tiny.targets)
    bench.write_json(tiny, tmp_path / "t.json")
    data = json.loads((tmp_path / "t.json").read_text())
    assert data["benchmark"] == "auctioneer.bench.thermal"
    assert data["coupling_table_bytes"] == {"cpu": 16384, "gpu": 1024}
    write_plot(tiny, tmp_path / "t.png")
    assert (tmp_path / "t.png").read_bytes().startswith(PNG_MAGIC)
    print_report(tiny, report_console())


def test_step_response_command_writes_png_and_json(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "sr.png"
    assert main(["thermal", "step-response", "--duration", "30", "-o", str(out)]) == 0
    assert out.read_bytes().startswith(PNG_MAGIC)
    data = json.loads(out.with_suffix(".json").read_text())
    assert len(data["series"]["t_s"]) == 3000 and "multiplier" in data["series"]
    assert "overshoot" in capsys.readouterr().out


@pytest.mark.parametrize(("argv", "text"), [
    (["thermal", "step-response", "--kp", "x"], "'--kp': 'x' is not a number"),
    (["thermal", "step-response", "--gpu-util", "2"], "'--gpu-util': '2' is out of range"),
    (["bench", "thermal", "--samples", "0"], "'--samples': '0' is out of range"),
])
def test_bad_options_exit_2(argv: list[str], text: str,
                            capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    assert text in capsys.readouterr().err
