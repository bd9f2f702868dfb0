"""The tick benchmark: its baselines rank like the reference, and a tiny run is well-formed.

Behaviour only: no assertion here depends on how fast anything ran.
"""

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from auctioneer.measure.record import write_json
from auctioneer.measure.target import target_line
from auctioneer.measure.timing import Percentiles, median_percentiles, summarize
from auctioneer.tick import STRUCTURES, bench
from auctioneer.tick.bench import TickBenchConfig, _adversarial_ops, run_tick_bench
from auctioneer.tick.bench_baselines import BASELINES, HeapqBook, SortedListBook
from auctioneer.tick.bench_report import print_report, write_plot
from auctioneer.tick.reference import IndexedHeap
from auctioneer.tick.tiermap import TierMap

from ..plots import is_png

OPS = ("tick", "update", "expire")


# --------------------------------------------------------------------------
# Baselines against the reference


def _op(capacity: int) -> st.SearchStrategy[tuple[Any, ...]]:
    agent = st.integers(0, capacity - 1)
    # A narrow price range makes ties (decided by arrival) common.
    price = st.one_of(st.integers(0, 4), st.integers(0, 2**32 - 1))
    return st.one_of(
        st.tuples(st.just("update"), agent, price),
        st.tuples(st.just("expire"), agent),
        st.tuples(st.just("select"), st.integers(0, capacity)),
    )


@st.composite
def _programs(draw: st.DrawFn) -> tuple[int, list[tuple[Any, ...]]]:
    capacity = draw(st.integers(1, 12))
    return capacity, draw(st.lists(_op(capacity), max_size=200))


def _replay(capacity: int, program: list[tuple[Any, ...]], book: Any) -> None:
    """Run ``program`` on ``book`` and the reference heap; they must agree at every step."""
    ref = IndexedHeap(capacity)
    for op in program:
        if op[0] == "update":
            ref.update(op[1], op[2])
            book.update(op[1], op[2])
        elif op[0] == "expire":
            if op[1] in ref:
                ref.expire(op[1])
                book.expire(op[1])
            else:
                with pytest.raises(ValueError, match="no live bid"):
                    book.expire(op[1])
        else:
            assert book.select(op[1]) == ref.select(op[1])
        # The tick's own question after every step: winner and Vickrey price
        # (select's n and price's k are bounded by the capacity).
        assert book.select(min(2, capacity)) == ref.select(min(2, capacity))
        assert book.peek() == ref.peek()
        assert book.price(min(1, capacity - 1)) == ref.price(min(1, capacity - 1))
        assert len(book) == len(ref)


@pytest.mark.parametrize("name", list(BASELINES))
@given(_programs())
def test_baseline_ranks_like_the_reference(
    name: str, case: tuple[int, list[tuple[Any, ...]]]
) -> None:
    capacity, program = case
    _replay(capacity, program, BASELINES[name](capacity))


@pytest.mark.parametrize("name", list(BASELINES))
def test_baseline_agrees_on_a_long_tick_workload(name: str) -> None:
    """The benchmark's own workload, long enough for the heap to compact many times."""
    rng = np.random.default_rng(7)
    capacity = 50
    fill = [("update", a, int(p)) for a, p in enumerate(rng.integers(0, 1000, capacity))]
    ticks = [
        ("update", int(a), int(p))
        for a, p in zip(rng.integers(0, capacity, 5000), rng.integers(0, 1000, 5000), strict=True)
    ]
    churn = [("expire", int(a)) for a in rng.integers(0, capacity, 200)]
    _replay(capacity, fill + ticks + churn + ticks[:500], BASELINES[name](capacity))


def test_heapq_book_stays_bounded() -> None:
    """Stale entries are compacted away: the heap never outgrows 2 * live + slack."""
    book = HeapqBook(4)
    for i in range(10_000):
        book.update(i % 4, i)
        assert len(book._heap) <= 2 * len(book) + 65
    assert book.select(2) == ([3, 2], [9999, 9998])


def test_baselines_reject_expiring_an_absent_agent() -> None:
    for book in (HeapqBook(3), SortedListBook(3)):
        book.update(1, 10)
        book.expire(1)
        with pytest.raises(ValueError, match="agent 1 has no live bid"):
            book.expire(1)
        assert book.select(2) == ([], [])
        assert book.peek() is None and book.price(1) == 0


# --------------------------------------------------------------------------
# Statistics


def test_summarize_is_nearest_rank() -> None:
    assert summarize([10, 20, 30, 40, 1000]) == Percentiles(30.0, 1000.0, 1000.0)
    assert summarize(np.arange(1, 1001, dtype=np.float64)) == Percentiles(500.0, 990.0, 999.0)
    assert summarize([5.0]) == Percentiles(5.0, 5.0, 5.0)
    with pytest.raises(ValueError):
        summarize([])


def test_median_percentiles_takes_each_percentile_apart() -> None:
    runs = [Percentiles(1, 10, 100), Percentiles(3, 5, 300), Percentiles(2, 20, 200)]
    assert median_percentiles(runs) == Percentiles(2, 10, 200)


# --------------------------------------------------------------------------
# Configuration


@pytest.mark.parametrize(
    ("text", "sizes"),
    [("10", (10,)), ("1000, 10,100", (10, 100, 1000)), ("5,5", (5,)), ("1_000", (1000,))],
)
def test_parse_sizes(text: str, sizes: tuple[int, ...]) -> None:
    assert bench.parse_sizes(text) == sizes


@pytest.mark.parametrize(
    ("text", "quoted"),
    [("abc", "'abc'"), ("0", "'0'"), ("-5", "'-5'"), ("10,x", "'x'"), ("", "''"), ("1,,2", "1,,2")],
)
def test_parse_sizes_names_the_bad_value(text: str, quoted: str) -> None:
    with pytest.raises(ValueError, match=quoted):
        bench.parse_sizes(text)


def test_parse_structures() -> None:
    assert bench.parse_structures("all") == STRUCTURES
    assert bench.parse_structures("tierbook, IndexedHeap,TierBook") == ("TierBook", "IndexedHeap")
    with pytest.raises(ValueError, match="'Nope'"):
        bench.parse_structures("TierBook,Nope")


def test_config_defaults_and_quick() -> None:
    full = bench.TickBenchConfig.build()
    quick = bench.TickBenchConfig.build(quick=True)
    assert full.sizes == bench.DEFAULT_SIZES and full.structures == STRUCTURES
    assert quick.sizes == bench.QUICK_SIZES and quick.ops < full.ops
    assert quick.repeats <= full.repeats
    assert bench.TickBenchConfig.build(quick=True, sizes=[7], ops=9).sizes == (7,)
    assert full.books == (*STRUCTURES, "heapq", "SortedList")


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        ("sizes", (), ValueError),
        ("sizes", (0,), ValueError),
        ("structures", ("Nope",), ValueError),
        ("ops", 0, ValueError),
        ("repeats", -1, ValueError),
        ("seed", -1, ValueError),
        ("ops", 1.5, TypeError),
    ],
)
def test_config_rejects_bad_values(field: str, value: object, error: type[Exception]) -> None:
    with pytest.raises(error, match="'Nope'" if field == "structures" else None):
        bench.TickBenchConfig(**{field: value})  # type: ignore[arg-type]


# --------------------------------------------------------------------------
# A tiny run, end to end


@pytest.fixture(scope="module")
def tiny() -> bench.TickBenchResult:
    """Every structure at N = 1 (the edge: no runner-up) and N = 9, a few hundred ops."""
    config = bench.TickBenchConfig.build(sizes=[1, 9], ops=300, repeats=2, seed=3, quick=True)
    steps: list[str] = []
    result = bench.run_tick_bench(config, steps.append)
    assert len(steps) == config.steps
    return result


def _ordered(p: Percentiles) -> bool:
    return 0 < p.p50 <= p.p99 <= p.p999


def test_tiny_run_has_every_row_with_ordered_percentiles(tiny: bench.TickBenchResult) -> None:
    books = (*STRUCTURES, *bench.BASELINE_NAMES)
    assert [(r.name, r.n) for r in tiny.rows] == [(b, n) for n in (1, 9) for b in books]
    for row in tiny.rows:
        assert row.native == (row.name in STRUCTURES)
        assert (row.in_c is not None) == row.native
        latencies = [row.from_python] + ([row.in_c] if row.in_c is not None else [])
        for lat in latencies:
            assert all(_ordered(getattr(lat, op)) for op in OPS), row
        assert row.bytes_per_agent > 0 and row.traced_bytes_per_agent > 0
        assert (row.core_bytes_per_agent is not None) == row.native
    assert _ordered(tiny.timer.native) and _ordered(tiny.timer.python)
    assert tiny.timer.native_hz > 0


def test_tiny_run_measures_the_sampled_book(tiny: bench.TickBenchResult) -> None:
    assert [(a.n, a.samples) for a in tiny.accuracy] == [(1, 32), (9, 32)]
    for acc in tiny.accuracy:
        # 32 samples cover a book of 9: the sampled book is exact there.
        assert acc.exact and acc.miss_rate == 0.0 and acc.mean_rel_price_error == 0.0
        assert acc.ticks == 300


def test_tiny_run_skips_targets_it_did_not_measure(tiny: bench.TickBenchResult) -> None:
    assert len(tiny.targets) == 5
    assert all(t.passed is None for t in tiny.targets)
    assert all(target_line(t).startswith("SKIP") for t in tiny.targets)


def test_tiny_run_keeps_distributions_for_the_plot(tiny: bench.TickBenchResult) -> None:
    assert tiny.samples.n == 9  # the size nearest to N = 1000
    assert set(tiny.samples.in_c) == set(STRUCTURES)
    assert set(tiny.samples.from_python) == set(STRUCTURES) | set(bench.BASELINE_NAMES)
    assert all(d.size == 2 * 300 for d in tiny.samples.in_c.values())


def test_tiny_run_writes_json(tiny: bench.TickBenchResult, tmp_path: Path) -> None:
    path = tmp_path / "deep" / "bench.json"
    write_json(tiny, path)
    data = json.loads(path.read_text())
    assert {"environment", "config", "timer", "results", "sampled_accuracy", "targets"} <= set(
        data
    )
    env = data["environment"]
    assert {"python", "platform", "cpu_model", "date"} <= set(env)
    assert data["timer"]["native_hz"] == tiny.timer.native_hz
    assert set(data["timer"]["native_empty_interval_ns"]) == {"p50", "p99", "p999"}
    assert data["config"]["sizes"] == [1, 9]
    assert data["config"]["timer_overhead_subtracted"] is False
    assert len(data["results"]) == len(tiny.rows)
    for row in data["results"]:
        assert set(row["from_python_ns"]) == {*OPS, "select"}
        assert row["from_python_ns"]["select"] is None      # select alone is timed in C only
        for op in OPS:
            p = row["from_python_ns"][op]
            assert 0 < p["p50"] <= p["p99"] <= p["p999"]
        if row["native"]:
            assert set(row["in_c_ns"]) == {*OPS, "select"}
            assert row["python_over_in_c"]["p50"] > 0
        else:
            assert row["in_c_ns"] is None
        assert row["speedup_vs_heapq"]["p50"] > 0


def test_tiny_run_writes_a_png(tiny: bench.TickBenchResult, tmp_path: Path) -> None:
    path = tmp_path / "plots" / "tick.png"
    write_plot(tiny, path)
    assert is_png(path)


def test_report_prints_table_and_targets(tiny: bench.TickBenchResult) -> None:
    from rich.console import Console

    console = Console(record=True, width=200)
    print_report(tiny, console)
    text = console.export_text()
    assert "TierBook" in text and "heapq" in text and "SortedList" in text
    assert text.count("SKIP") == 5


def test_targets_are_judged_at_n_1000() -> None:
    config = bench.TickBenchConfig.build(
        sizes=[bench.TARGET_N], structures=["TierBook"], ops=200, repeats=1
    )
    result = bench.run_tick_bench(config)
    assert all(isinstance(t.passed, bool) for t in result.targets)
    assert "TierBook" in result.targets[0].detail
    assert "heapq" in result.targets[3].detail


def test_select_alone_and_the_adversarial_workloads() -> None:
    config = TickBenchConfig.build(sizes=(64,), structures=("TierBook", "LazyHeap"), ops=300,
                                   repeats=1)
    result = run_tick_bench(config)
    data = result.to_dict()
    tier = next(r for r in data["results"] if r["structure"] == "TierBook")
    assert 0 < tier["in_c_ns"]["select"]["p50"] <= tier["in_c_ns"]["select"]["p99"]
    assert all(r["from_python_ns"].get("select") is None for r in data["results"])
    rows = {(a["workload"], a["structure"]): a for a in data["adversarial"]}
    assert set(rows) == {(w, s) for w in ("rescan", "crowded") for s in ("TierBook", "LazyHeap")}
    # One agent on top re-bidding every tick makes the lazy heap recompute on every select.
    assert rows[("rescan", "LazyHeap")]["rescans_per_tick"] == 1.0
    assert rows[("rescan", "TierBook")]["rescans_per_tick"] is None
    assert 0 <= rows[("crowded", "LazyHeap")]["rescans_per_tick"] < 1.0


def test_the_crowded_workload_stays_in_one_tier() -> None:
    fill, ops = _adversarial_ops("crowded", 1, 50, 200)
    tiers = TierMap.log()
    assert len({tiers.tier_of(p) for p in fill + ops.price_list}) == 1
    fill, ops = _adversarial_ops("rescan", 1, 50, 10)
    assert set(ops.agent_list) == {0} and min(ops.price_list) > max(fill[1:])
