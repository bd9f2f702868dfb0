"""The ring benchmark: a tiny run is well-formed, targets are judged, the CLI checks options.

Behaviour only: no assertion here depends on how fast anything ran.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from auctioneer.cli import main
from auctioneer.measure.record import write_json
from auctioneer.measure.timing import Percentiles
from auctioneer.tick import ring_bench as bench
from auctioneer.tick.ring_bench_report import print_report, write_plot

from ..plots import is_png
from ..reports import printed

pytestmark = pytest.mark.native



@pytest.fixture(scope="module")
def tiny() -> bench.RingBenchResult:
    config = bench.RingBenchConfig.build(ops=500, repeats=1, pair_bids=5_000, python_bids=500,
                                         producers=(1, 2))
    return bench.run_ring_bench(config)


def test_tiny_run_is_well_formed(tiny: bench.RingBenchResult) -> None:
    names = [r.name for r in tiny.native]
    assert names[:4] == ["SPSC push", "MPSC push", "SPSC push, amortised over a batch",
                         "MPSC push, amortised over a batch"]
    assert f"SPSC push, {bench.TICKING}" in names and f"MPSC push, {bench.SPINNING}" in names
    assert [r.name for r in tiny.python] == ["SpscRing.push", "MpscRing.push", "PricePage.read",
                                             "Queue.put"]
    for row in (*tiny.native, *tiny.python):
        assert 0 < row.latency.p50 <= row.latency.p99 <= row.latency.p999
    assert sorted((t.name, t.producers) for t in tiny.throughput) == [
        ("MPSC ring", 1), ("MPSC ring", 2), ("MpscRing", 1), ("Queue", 1),
        ("SPSC rings", 1), ("SPSC rings", 2), ("SpscRing", 1)]
    for t in tiny.throughput:
        assert t.per_second > 0 and t.full_per_bid >= 0
        assert t.bids == t.producers * (500 if t.where.startswith("Python") else 5_000)
    assert set(tiny.ratios()) >= {"MPSC/SPSC push p50, C, amortised",
                                  "SpscRing/Queue throughput, Python"}
    assert len(tiny.targets) == 7
    assert all(t.passed is not None for t in tiny.targets)


def test_targets_judge_the_measured_numbers(tiny: bench.RingBenchResult) -> None:
    slow = bench.Latency("SPSC push", "C, one core", Percentiles(150.0, 200.0, 300.0))
    rows = tuple(slow if r.name == "SPSC push" else r for r in tiny.native)
    result = dataclasses.replace(tiny, native=rows)
    p50, p99 = bench.evaluate_targets(result)[:2]
    assert p50.passed is False and "150.0 ns raw" in p50.detail
    assert p99.passed is False
    fast = dataclasses.replace(slow, latency=Percentiles(20.0, 30.0, 40.0))
    result = dataclasses.replace(tiny, native=tuple(fast if r.name == "SPSC push" else r
                                                    for r in tiny.native))
    assert bench.evaluate_targets(result)[0].passed is True
    empty = dataclasses.replace(tiny, native=(), python=(), throughput=())
    assert all(t.passed is None for t in bench.evaluate_targets(empty))


def test_json_report_and_plot(tiny: bench.RingBenchResult, tmp_path: Path) -> None:
    out_json, out_png = tmp_path / "a" / "ring.json", tmp_path / "b" / "ring.png"
    write_json(tiny, out_json)
    data = json.loads(out_json.read_text())
    assert data["benchmark"] == "auctioneer.bench.ring"
    assert data["config"]["timer_overhead_subtracted"] is False
    assert {row["name"] for row in data["latency_ns"]} >= {"SPSC push", "Queue.put"}
    write_plot(tiny, out_png)
    assert is_png(out_png)
    text = printed(print_report, tiny)
    assert "SPSC push p50 < 100 ns" in text
    assert "ratio  MPSC/SPSC push p50, C, amortised" in text


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--producers", "0"], "producer count '0' is out of range"),
        (["--producers", "x"], "producer count 'x' is not an integer"),
        (["--ops", "0"], "'0' is out of range"),
        (["--pair-bids", "5000000000"], "'5000000000' is out of range"),
    ],
)
def test_cli_refuses_bad_options(argv: list[str], message: str,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "ring", *argv]) == 2
    assert message in capsys.readouterr().err


def test_parse_producers() -> None:
    assert bench.parse_producers("4, 1,2,1") == (1, 2, 4)
    with pytest.raises(ValueError, match="out of range"):
        bench.parse_producers("65")
