"""The clock benchmark: a tiny run is well-formed, targets are judged, the report prints.

Behaviour only: no assertion here depends on how fast anything ran.
"""

import dataclasses
import json
from pathlib import Path

import pytest

from auctioneer.clock import bench
from auctioneer.clock.bench_report import print_report, write_plot
from auctioneer.measure.record import write_json
from auctioneer.measure.target import target_line

from ..plots import is_png
from ..reports import printed


@pytest.fixture(scope="module")
def tiny() -> bench.ClockBenchResult:
    config = bench.ClockBenchConfig.build(sizes=((40, 16), (100, 100)), modes_sizes=((40, 16),),
                                          repeats=2, welfare_instances=2,
                                          reference_sizes=((100, 100), (1_000, 1_000)))
    return bench.run_clock_bench(config)


def test_tiny_run_is_well_formed(tiny: bench.ClockBenchResult) -> None:
    assert [(c.users, c.pools, c.clusters, c.resources) for c in tiny.cells] == [
        (40, 16, 4, 4), (100, 100, 25, 4)]
    for cell in tiny.cells:
        assert cell.status == "cleared" and cell.feasible and not cell.problems
        assert 1 <= len(cell.runs) <= 2 and cell.seconds > 0
        assert cell.per_round_s == cell.seconds / (cell.rounds + 1)
        assert cell.peak_bytes > 0 and cell.market_bytes > 0
    assert [m.mode for m in tiny.modes] == ["absolute", "normalised", "relative"]
    assert len(tiny.welfare) == 2
    for w in tiny.welfare:
        assert w.feasible and w.proven and w.clock <= w.optimum
        assert w.proxy == w.optimum and w.proxy_ratio in (1.0, None)
        assert w.core_certified and w.vcg_revenue is not None
        assert w.proxy_revenue >= w.vcg_revenue
    assert [(p.users, p.pools) for p in tiny.python] == [(100, 100), (1_000, 1_000)]
    assert all(p.agree for p in tiny.python)
    paper, big, feasible, proxy, core = tiny.targets
    assert paper.passed is not None and "rounds" in paper.detail
    assert big.passed is None  # 100 000 x 1 000 is not in this run
    assert feasible.passed is True
    assert proxy.passed is True and "median 1.0000" in proxy.detail
    assert core.passed is True


def test_targets_fail_on_infeasible_runs(tiny: bench.ClockBenchResult) -> None:
    broken = dataclasses.replace(tiny.cells[0], feasible=False, status="round-limit")
    result = dataclasses.replace(tiny, cells=(broken, *tiny.cells[1:]))
    feasible = bench.evaluate_targets(result)[2]
    assert feasible.passed is False and "40x16" in feasible.detail


def test_json_and_plot(tiny: bench.ClockBenchResult, tmp_path: Path) -> None:
    out_json, out_png = tmp_path / "a" / "clock.json", tmp_path / "b" / "clock.png"
    write_json(tiny, out_json)
    data = json.loads(out_json.read_text())
    assert data["benchmark"] == "auctioneer.bench.clock"
    assert data["config"]["sizes"] == [[40, 16], [100, 100]]
    assert len(data["results"]) == 2 and data["results"][0]["per_round_s"] > 0
    assert data["welfare"]["all_feasible"] is True
    assert 0 < data["welfare"]["min_ratio"] <= 1
    assert [t["passed"] for t in data["targets"]] == [t.passed for t in tiny.targets]
    write_plot(tiny, out_png)
    assert is_png(out_png)


def test_report_prints_tables_and_target_lines(tiny: bench.ClockBenchResult) -> None:
    text = printed(print_report, tiny)
    for words in ("auctioneer bench clock", "Rounds", "Per round", "Peak MiB", "Step modes",
                  "Welfare and revenue, clock vs clock + proxy", "Pure Python"):
        assert words in text, words
    for target in tiny.targets:
        assert target_line(target) in text


def test_sizes_and_layout() -> None:
    assert bench.parse_sizes("100x100, 100000X1000,100x100") == ((100, 100), (100000, 1000))
    assert bench.sizes_text(((1, 2), (3, 4))) == "1x2,3x4"
    for text in ("100", "x", "10x0", "", "1x2,,3x4"):
        with pytest.raises(ValueError):
            bench.parse_sizes(text)
    assert bench.layout(100) == (25, 4)
    assert bench.layout(1_000) == (100, 10)
    assert bench.layout(7) == (7, 1)
    with pytest.raises(ValueError, match="repeats"):
        bench.ClockBenchConfig(repeats=0)
