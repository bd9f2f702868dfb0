"""Metrics and the offline optimum against hand-computed cases and brute force."""

from fractions import Fraction
from itertools import combinations, product

import pytest
from hypothesis import given
from hypothesis import strategies as st

from auctioneer.gpu import GpuBid
from auctioneer.sim.metrics import gini, share_percentiles, time_above, trace_hash, variance
from auctioneer.sim.optimum import Demand, gpu_optimum, per_tick_optimum


def _gini_by_definition(xs: list[int]) -> Fraction:
    n, total = len(xs), sum(xs)
    if n == 0 or total == 0:
        return Fraction(0)
    return Fraction(sum(abs(a - b) for a in xs for b in xs), 2 * n * total)


@pytest.mark.parametrize(("amounts", "expected"), [
    ([], 0.0),
    ([0, 0, 0], 0.0),
    ([5, 5, 5, 5], 0.0),
    ([0, 0, 0, 4], 0.75),          # one of four takes all: (n - 1) / n
    ([1, 2, 3], 2 / 9),            # sum |xi - xj| = 8, 2 n sum = 36
    ([1, 1, 2, 4], 0.3125),        # sum |xi - xj| = 20, 2 n sum = 64
])
def test_gini_by_hand(amounts: list[int], expected: float) -> None:
    assert gini(amounts) == pytest.approx(expected, abs=1e-12)


@given(st.lists(st.integers(0, 1000), max_size=40))
def test_gini_matches_its_definition(amounts: list[int]) -> None:
    assert gini(amounts) == pytest.approx(float(_gini_by_definition(amounts)), abs=1e-12)


def test_gini_refuses_negative_amounts() -> None:
    with pytest.raises(ValueError, match="non-negative"):
        gini([3, -1])


def test_time_above_and_variance_by_hand() -> None:
    # Samples every 10 ms: two of four strictly above 85 (85.0 itself is not above).
    assert time_above([80.0, 90.0, 86.0, 85.0], 0.01, 85.0) == 0.02
    assert time_above([], 0.01, 85.0) == 0.0
    assert variance([1.0, 3.0]) == 1.0 and variance([7.0]) == 0.0


def test_share_percentiles_by_hand() -> None:
    # Ten auction calls against a 100 us tick: nearest-rank p50 = 5th, p99 = 10th.
    ns = [1000, 2000, 3000, 4000, 5000, 6000, 7000, 8000, 9000, 50_000]
    mean, p50, p99 = share_percentiles(ns, 100_000)
    assert (mean, p50, p99) == (0.095, 0.05, 0.5)
    assert share_percentiles([], 100_000) == (0.0, 0.0, 0.0)


def test_trace_hash_separates_series() -> None:
    assert trace_hash([1, 2], [3]) != trace_hash([1], [2, 3])
    assert trace_hash([1, 2, 3]) == trace_hash([1, 2, 3])


def test_efficiency_by_hand() -> None:
    # Three ticks, k = 2. Values: a=9 on ticks 0-2, b=5 on 0-1, c=7 on 1-2.
    # Optimum (top 2 per tick): 9+5, 9+7, 9+7 = 46. A mechanism that sold 2, 2, 1
    # quanta is compared with the top-m: 14, 16, 9 = 39.
    demand = Demand(starts=[0, 0, 1], ends=[3, 2, 3], values=[9, 5, 7])
    opt = per_tick_optimum(demand, ticks=3, k=2, sold=[2, 2, 1])
    assert opt.top_k.tolist() == [14, 16, 16] and opt.welfare == 46
    assert opt.top_sold.tolist() == [14, 16, 9]
    # Selling a and b on tick 1 instead of a and c loses 2 of 46.
    mechanism = 14 + (9 + 5) + 9
    assert mechanism / opt.welfare == pytest.approx(37 / 46)


intervals = st.lists(st.tuples(st.integers(0, 12), st.integers(0, 12), st.integers(1, 50)),
                     max_size=12)


@given(intervals, st.integers(1, 4), st.data())
def test_per_tick_optimum_matches_brute_force(spans: list[tuple[int, int, int]], k: int,
                                              data: st.DataObject) -> None:
    ticks = 10
    demand = Demand([a for a, _, _ in spans], [b for _, b, _ in spans], [v for *_, v in spans])
    sold = data.draw(st.lists(st.integers(0, k), min_size=ticks, max_size=ticks))
    opt = per_tick_optimum(demand, ticks, k, sold)
    for t in range(ticks):
        live = sorted((v for a, b, v in spans if a <= t < b), reverse=True)
        assert opt.top_k[t] == sum(live[:k])
        assert opt.top_sold[t] == sum(live[:sold[t]])


def test_per_tick_optimum_checks_the_tick_count() -> None:
    with pytest.raises(ValueError, match="sold has 2 ticks"):
        per_tick_optimum(Demand(), 3, 1, [0, 0])


def _brute_gpu(bids: list[GpuBid], window: int, memory: int) -> int:
    best = 0
    for choice in product(*[[None, *b.bundles] for b in bids]):
        chosen = [c for c in choice if c is not None]
        if sum(c[0] for c in chosen) <= window and sum(c[1] for c in chosen) <= memory:
            best = max(best, sum(c[2] for c in chosen))
    return best


def test_gpu_optimum_units_and_bundles_by_hand() -> None:
    assert gpu_optimum([GpuBid.unit(a, v) for a, v in enumerate([5, 9, 7, 1])], 2, 80) == 16
    bids = [GpuBid(0, ((10, 60, 50), (5, 60, 30))), GpuBid(1, ((5, 30, 40),)),
            GpuBid(2, ((5, 20, 25),))]
    # Memory 80: {0 whole} = 50, {1, 2} = 65, {0 half, 2} = 55, {0 half, 1} needs 90.
    assert gpu_optimum(bids, 10, 80) == 65 == _brute_gpu(bids, 10, 80)


bundle = st.tuples(st.integers(1, 6), st.integers(0, 8), st.integers(1, 60))


@given(st.lists(st.lists(bundle, min_size=1, max_size=2), max_size=5))
def test_gpu_optimum_matches_brute_force(raw: list[list[tuple[int, int, int]]]) -> None:
    bids = [GpuBid(i, tuple(b)) for i, b in enumerate(raw)]
    assert gpu_optimum(bids, 8, 10) == _brute_gpu(bids, 8, 10)


def test_unit_optimum_is_the_best_subset() -> None:
    values = [4, 8, 1, 8, 3]
    best = max(sum(c) for c in combinations(values, 3))
    assert gpu_optimum([GpuBid.unit(i, v) for i, v in enumerate(values)], 3, 0) == best
