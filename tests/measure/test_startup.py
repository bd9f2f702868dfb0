"""``auctioneer bench startup``: timing a process, the targets, the report and the plot.

The full benchmark spawns dozens of processes; here one real spawn per path
and a synthetic result for the report keep the test short.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from auctioneer.measure.record import write_json
from auctioneer.measure.startup import (
    CaseResult,
    StartupConfig,
    StartupResult,
    targets,
    time_process,
)
from auctioneer.measure.startup_report import print_report, write_plot

from ..reports import printed
from ..usage import usage_error


def _result(help_ms: float, clear_ms: float) -> StartupResult:
    def case(name: str, ms: float, baseline: bool = False) -> CaseResult:
        return CaseResult(name, ("x",), baseline, (ms, ms + 2, ms - 1), (ms / 2,) * 3)

    return StartupResult(StartupConfig(3), (
        case("python -c pass", 10.0, True), case("auctioneer --help", help_ms),
        case("auctioneer clear (10 bids)", clear_ms)), (0.5, 0.4, 0.3))


def test_a_process_is_timed_whole_and_a_failure_is_loud() -> None:
    wall, cpu = time_process([sys.executable, "-c", "sum(range(10**6))"])
    assert wall > 0 and 0 < cpu < 10 * wall + 50
    with pytest.raises(RuntimeError, match="exited with status 3"):
        time_process([sys.executable, "-c", "raise SystemExit(3)"])


def test_targets_judge_the_median_wall_time() -> None:
    verdicts = [t.passed for t in targets(_result(120.0, 260.0))]
    assert verdicts == [True, False]
    assert "median 120 ms wall" in targets(_result(120.0, 260.0))[0].detail


def test_report_json_and_plot(tmp_path: Path) -> None:
    result = _result(140.0, 200.0)
    text = printed(print_report, result, width=140)
    assert "PASS  auctioneer --help <= 150 ms" in text and "14.0x" in text
    write_json(result, tmp_path / "s.json")
    record = json.loads((tmp_path / "s.json").read_text())
    assert record["cases"][1]["wall_median_ms"] == 140.0
    write_plot(result, tmp_path / "s.png")
    assert (tmp_path / "s.png").read_bytes()[:4] == b"\x89PNG"


def test_config_bounds() -> None:
    assert StartupConfig.build(None, False).repeats == 20
    with pytest.raises(ValueError, match="repeats 0"):
        StartupConfig.build(0, False)


def test_bad_repeats_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert "--repeats" in usage_error(["bench", "startup", "--repeats", "0"], capsys)
