"""The clearing benchmark: a tiny run is well-formed, disagreements are flagged, targets judged.

Behaviour only: no assertion here depends on how fast anything ran.
"""

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from auctioneer.clearing import bench
from auctioneer.clearing.bench_auto import AutoRun, auto_target
from auctioneer.clearing.bench_report import print_report, write_plot
from auctioneer.clearing.model import Auction
from auctioneer.clearing.result import Clearing, Status
from auctioneer.cli import app
from auctioneer.measure.record import write_json
from auctioneer.measure.target import target_line
from auctioneer.measure.timing import environment

from ..plots import is_png
from ..reports import printed
from ..usage import names_option_and_value, usage_error

runner = CliRunner()


def _tiny(**kwargs: Any) -> bench.ClearingBenchConfig:
    args: dict[str, Any] = {"sizes": (4, 8), "sizes_3d": (4,), "repeats": 2, "time_limit": 5.0,
                            "auto_instances": 2}
    args.update(kwargs)
    return bench.ClearingBenchConfig.build(**args)


@pytest.fixture(scope="module")
def tiny_result() -> bench.ClearingBenchResult:
    return bench.run_clearing_bench(_tiny())


def test_tiny_run_is_well_formed(tiny_result: bench.ClearingBenchResult) -> None:
    result = tiny_result
    assert [(c.series, c.bids) for c in result.cells] == [
        ("easy", 4), ("easy", 8), ("hard", 4), ("hard", 8), ("easy 3r", 4), ("hard 3r", 4)
    ]
    for cell in result.cells:
        assert list(cell.methods) == ["dp", "milp", "bnb"]
        assert cell.agree, cell.problems
        assert cell.resources == (3 if cell.series.endswith("3r") else 2)
        assert cell.kind == ("strongly" if cell.series.startswith("hard") else "uncorrelated")
        for run in cell.methods.values():
            assert run.finished
            assert 1 <= len(run.seconds) <= 2
            assert run.median_s is not None and run.median_s > 0
            assert run.revenue == cell.optimum
            assert run.peak_bytes is not None and run.peak_bytes > 0
        # VCG is measured on the two-resource series only.
        if cell.resources == 2:
            assert cell.vcg is not None and cell.vcg.ratio is not None
            assert len(cell.vcg.ratios) >= 1 and cell.vcg.how
        else:
            assert cell.vcg is None
    assert result.disagreements == ()
    dp_target, vcg_target, exact_target, auto_target = result.targets
    assert [(r.bids, r.resources) for r in result.auto] == [(16, 5), (20, 6)]
    assert all(r.ratio is not None and r.milp_s is not None for r in result.auto)
    assert auto_target.passed is not None and "median" in auto_target.detail
    assert dp_target.passed is None  # no 100-bid instance in this run
    assert vcg_target.passed is not None  # judged on the sizes there are
    assert exact_target.passed is True


def test_instances_are_reproducible() -> None:
    config = _tiny()
    easy = config.series[0]
    assert bench.build_instance(config, easy, 8) == bench.build_instance(config, easy, 8)
    assert bench.build_instance(config, easy, 8) != bench.build_instance(
        dataclasses.replace(config, seed=1), easy, 8)
    instance = bench.build_instance(config, easy, 8)
    assert len(instance.bids) == 8 and instance.capacities == (100, 100)
    assert {len(b.bundles) for b in instance.bids} == {3}


def test_json_and_plot(tiny_result: bench.ClearingBenchResult, tmp_path: Path) -> None:
    out_json, out_png = tmp_path / "a" / "clearing.json", tmp_path / "b" / "clearing.png"
    write_json(tiny_result, out_json)
    data = json.loads(out_json.read_text())
    assert data["benchmark"] == "auctioneer.bench.clearing"
    assert data["config"]["sizes"] == [4, 8] and data["config"]["sizes_3d"] == [4]
    assert [s["name"] for s in data["config"]["series"]] == ["easy", "hard", "easy 3r", "hard 3r"]
    assert len(data["results"]) == 6
    first = data["results"][0]
    assert set(first["methods"]) == {"dp", "milp", "bnb"}
    assert first["methods"]["dp"]["status"] == "optimal"
    assert isinstance(first["optimum_micros"], int)
    assert first["vcg"]["median_ratio"] > 0
    assert [t["passed"] for t in data["targets"]] == [t.passed for t in tiny_result.targets]
    assert data["disagreements"] == []
    write_plot(tiny_result, out_png)
    assert is_png(out_png)


def test_report_prints_table_and_target_lines(tiny_result: bench.ClearingBenchResult) -> None:
    text = printed(print_report, tiny_result)
    assert "auctioneer bench clearing" in text
    for header in ("DP ms", "MILP ms", "B&B ms", "Revenue", "VCG/DP", "Peak DP"):
        assert header in text
    assert "hard 3r" in text
    for target in tiny_result.targets:
        assert target_line(target) in text
    assert "SKIP  DP clears 100 bids" in text


# --------------------------------------------------------------------------
# Disagreements and unfinished methods


def _patched_clear(monkeypatch: pytest.MonkeyPatch, change: Any) -> None:
    real = bench.clear

    def fake(auction: Auction, method: str = "auto", *, time_limit: float | None = None
             ) -> Clearing:
        changed: Clearing = change(real(auction, method, time_limit=time_limit), method,
                                   len(auction.bids))
        return changed

    monkeypatch.setattr(bench, "clear", fake)


def test_a_wrong_revenue_is_flagged_loudly(monkeypatch: pytest.MonkeyPatch) -> None:
    def lie(result: Clearing, method: str, bids: int) -> Clearing:
        if method == "bnb" and bids == 8:
            return dataclasses.replace(result, revenue=result.revenue + 1)
        return result

    _patched_clear(monkeypatch, lie)
    result = bench.run_clearing_bench(_tiny(sizes=(4, 8), sizes_3d=(), vcg=False, repeats=1))
    bad = [c for c in result.cells if not c.agree]
    assert [(c.series, c.bids) for c in bad] == [("easy", 8), ("hard", 8)]
    assert all(c.optimum is None for c in bad)
    assert any("DISAGREEMENT" in p and "bnb" in p for p in result.disagreements)
    assert any("invalid result" in p for p in result.disagreements)
    exact = result.targets[2]
    assert exact.passed is False and "DISAGREEMENT" in exact.detail
    text = printed(print_report, result)
    assert "!! easy 8 bids: DISAGREEMENT" in text
    assert "MISS  every method exact" in text


def test_a_time_limited_result_beating_the_optimum_is_flagged(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def too_good(result: Clearing, method: str, bids: int) -> Clearing:
        if method == "milp":
            return dataclasses.replace(result, status=Status.TIME_LIMIT,
                                       revenue=result.revenue + 5)
        return result

    _patched_clear(monkeypatch, too_good)
    result = bench.run_clearing_bench(_tiny(sizes=(4,), sizes_3d=(), vcg=False, repeats=1))
    assert any("time-limited" in p for p in result.disagreements)


def test_a_method_that_does_not_finish_is_skipped_at_larger_sizes(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    def give_up(result: Clearing, method: str, bids: int) -> Clearing:
        if method == "milp" and bids >= 8:
            return Clearing(Status.TIME_LIMIT, "milp", seconds=result.seconds)
        if method == "bnb":
            return Clearing(Status.TOO_LARGE, "bnb", stats={"reason": "test"})
        return result

    _patched_clear(monkeypatch, give_up)
    result = bench.run_clearing_bench(_tiny(sizes=(4, 8, 12), sizes_3d=(), vcg=False,
                                            repeats=3))
    easy = {c.bids: c for c in result.cells if c.series == "easy"}
    assert easy[4].methods["milp"].finished
    assert easy[8].methods["milp"].status == "time-limit"
    assert len(easy[8].methods["milp"].seconds) == 1  # not repeated
    assert easy[12].methods["milp"].status == "skipped"
    assert easy[4].methods["bnb"].status == "too-large" and easy[4].methods["bnb"].seconds == ()
    assert easy[8].methods["bnb"].status == "skipped"
    assert all(c.agree for c in result.cells)  # unfinished is not wrong
    assert result.targets[2].passed is True
    assert "stopped unfinished" in result.targets[2].detail
    # Stopped and refused runs are plotted (or left out) without error.
    write_plot(result, tmp_path / "partial.png")
    assert is_png(tmp_path / "partial.png")


# --------------------------------------------------------------------------
# Targets, judged on synthetic cells


def _cell(series: str, bids: int, dp_s: float | None, vcg_ratio: float | None) -> bench.Cell:
    dp = bench.MethodRun("dp", "optimal" if dp_s is not None else "too-large",
                         (dp_s,) if dp_s is not None else (), 10, None)
    vcg = None if vcg_ratio is None else bench.VcgRun((vcg_ratio,), (1.0,), (1.0,), "test")
    return bench.Cell(series, "uncorrelated", 2, 100, bids, 3, 0, {"dp": dp}, 10, (), vcg)


@pytest.mark.parametrize(
    ("dp_s", "ratio", "verdicts"),
    [
        (0.004, 2.0, [True, True, True, None]),
        (0.02, 2.0, [False, True, True, None]),
        (0.004, 3.5, [True, False, True, None]),
        (None, None, [None, None, None, None]),
    ],
)
def test_targets(dp_s: float | None, ratio: float | None, verdicts: list[bool | None]) -> None:
    config = bench.ClearingBenchConfig.build(sizes=(100,), sizes_3d=())
    cells: tuple[bench.Cell, ...] = (_cell("easy", 100, dp_s, ratio),
                                     _cell("hard", 100, dp_s, ratio))
    result = bench.ClearingBenchResult(config, environment(), cells, ())
    if dp_s is None:
        cells = tuple(dataclasses.replace(c, methods={}) for c in cells)
        result = dataclasses.replace(result, cells=cells)
    assert [t.passed for t in bench.evaluate_targets(result)] == verdicts


# --------------------------------------------------------------------------
# Configuration and the command line


def test_config_defaults_and_steps() -> None:
    full = bench.ClearingBenchConfig.build()
    assert full.sizes == (10, 20, 50, 100, 200) and full.sizes_3d == (10, 20, 50, 100)
    assert full.methods == ("dp", "milp", "bnb")
    assert [s.name for s in full.series] == ["easy", "hard", "easy 3r", "hard 3r"]
    assert full.steps == 2 * 5 * 4 + 2 * 4 * 3 + full.auto_instances
    quick = bench.ClearingBenchConfig.build(quick=True)
    assert quick.time_limit < full.time_limit and quick.repeats < full.repeats
    assert bench.TARGET_BIDS in quick.sizes


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"sizes": (), "sizes_3d": ()}, "both empty"),
        ({"sizes": (0,)}, "size 0"),
        ({"methods": ()}, "methods is empty"),
        ({"methods": ("cplex",)}, "unknown method 'cplex'"),
        ({"repeats": 0}, "repeats 0"),
        ({"time_limit": 0.0}, "time limit 0.0"),
        ({"time_limit": float("inf")}, "time limit inf"),
        ({"seed": -1}, "seed -1"),
    ],
)
def test_bad_config_is_refused(kwargs: dict[str, Any], words: str) -> None:
    with pytest.raises(ValueError, match=words):
        bench.ClearingBenchConfig.build(**kwargs)


def test_parsers() -> None:
    assert bench.parse_sizes("50, 10,10") == (10, 50)
    assert bench.parse_sizes("") == ()
    assert bench.parse_methods("bnb,DP") == ("dp", "bnb")
    assert bench.parse_methods("all") == ("dp", "milp", "bnb")
    with pytest.raises(ValueError, match="'x' is not an integer"):
        bench.parse_sizes("10,x")
    with pytest.raises(ValueError, match="unknown method 'gurobi'"):
        bench.parse_methods("dp,gurobi")


def test_cli_quick_run_writes_json_and_png(tmp_path: Path) -> None:
    out_json, out_png = tmp_path / "r" / "clearing.json", tmp_path / "p" / "clearing.png"
    result = runner.invoke(app, [
        "bench", "clearing", "--quick", "--sizes", "4,6", "--sizes-3d", "", "--repeats", "1",
        "--methods", "dp,milp", "--json", str(out_json), "--plot", str(out_png),
    ])
    assert result.exit_code == 0, result.output
    assert "DP ms" in result.stdout and "MILP ms" in result.stdout
    assert "B&B ms" not in result.stdout
    assert "PASS  every method exact" in result.stdout
    data = json.loads(out_json.read_text())
    assert data["config"]["sizes"] == [4, 6] and data["config"]["sizes_3d"] == []
    assert data["config"]["quick"] is True
    assert [r["series"] for r in data["results"]] == ["easy", "easy", "hard", "hard"]
    assert is_png(out_png)


def test_cli_help_lists_the_options() -> None:
    result = runner.invoke(app, ["bench", "clearing", "--help"])
    assert result.exit_code == 0
    for option in ("--sizes", "--sizes-3d", "--methods", "--repeats", "--time-limit",
                   "--no-vcg", "--seed", "--quick", "--json", "--plot"):
        assert option in result.output


@pytest.mark.parametrize(
    ("args", "option", "value"),
    [
        (["--sizes", "abc"], "--sizes", "abc"),
        (["--sizes", "0"], "--sizes", "0"),
        (["--sizes-3d", "5,y"], "--sizes-3d", "y"),
        (["--methods", "cplex"], "--methods", "cplex"),
        (["--repeats", "0"], "--repeats", "0"),
        (["--time-limit", "0"], "--time-limit", "0"),
        (["--time-limit", "later"], "--time-limit", "later"),
        (["--time-limit", "1e400"], "--time-limit", "1e400"),
        (["--seed", "-1"], "--seed", "-1"),
    ],
)
def test_bad_options_exit_2(
    args: list[str], option: str, value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    line = usage_error(["bench", "clearing", *args], capsys)
    assert names_option_and_value(line, option, value)


def _auto_run(dp_s: float | None, milp_s: float, auto_s: float) -> AutoRun:
    return AutoRun(0, 20, 6, 3, 40, "optimal", dp_s, milp_s, auto_s, 0.5, "test")


def test_auto_target_is_the_median_ratio_to_the_faster_method() -> None:
    fine = (_auto_run(2.0, 0.1, 0.11), _auto_run(None, 0.2, 0.21), _auto_run(0.01, 0.1, 0.05))
    target = auto_target(fine)
    assert target.passed is True and "median 1.10x" in target.detail
    assert fine[0].estimate_only_s == 2.0  # the DP alone was predicted under 5 s
    slow = (_auto_run(2.0, 0.1, 1.0), _auto_run(2.0, 0.1, 1.0), _auto_run(0.01, 0.1, 0.01))
    assert auto_target(slow).passed is False
    assert auto_target(()).passed is None
