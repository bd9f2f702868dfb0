"""Iterated best response among symmetric bidders, and the price of anarchy it measures."""

from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from auctioneer.incentives.complexity import count_lines
from auctioneer.incentives.equilibrium import (
    EquilibriumCell,
    _step,
    equilibrium,
    optimum,
    starting_profiles,
    vickrey_revenue,
    worst,
)
from auctioneer.incentives.experiment import run_experiment
from auctioneer.incentives.market import MECHANISMS, IncentiveConfig, mechanism
from auctioneer.incentives.matrix import build_matrix, tick_costs
from auctioneer.incentives.report import equilibrium_grid, matrix_grid
from auctioneer.incentives.rules import Rule
from auctioneer.tick.mechanism import Mechanism

from .test_matrix import fake_bench


def test_second_price_truthful_is_a_fixed_point(quick: IncentiveConfig) -> None:
    for name in ("second-price", "vickrey-k"):
        cell = equilibrium(mechanism(name), quick)
        assert cell.converged and cell.rounds == 1 and cell.cycle == 0
        assert cell.factors == (1000,) * quick.buckets
        # The same auctions, efficient and truthful: exactly the optimum and VCG revenue.
        assert cell.price_of_anarchy == 1.0 and cell.welfare == cell.optimum
        assert cell.revenue_ratio == 1.0


def test_first_price_converges_to_shading(quick: IncentiveConfig) -> None:
    cell = equilibrium(mechanism("first-price"), quick)
    assert cell.converged and cell.status == "converged"
    assert all(f <= 1000 for f in cell.factors) and cell.factors[-1] < 1000
    assert cell.price_of_anarchy is not None and cell.price_of_anarchy >= 1.0
    assert cell.welfare <= cell.optimum


def test_damped_step_keeps_ties_and_small_gains() -> None:
    totals = np.array([[0, 5, 9, 9], [4, 4, 4, 4], [0, 100, 0, 0]], dtype=np.int64)
    counts = np.array([1, 1, 1], dtype=np.int64)
    profile = np.array([0, 1, 3], dtype=np.int64)
    # Bucket 0 moves halfway (2 steps to the first of the tied best), 1 has no better
    # factor, 2 moves one step of the two towards 1.
    assert _step(totals, counts, profile, 0).tolist() == [1, 1, 2]
    assert _step(totals, counts, profile, 9).tolist() == [0, 1, 2]  # 9 is not > 9


@given(st.integers(1, 4), st.lists(st.lists(st.integers(1, 50), min_size=6, max_size=6),
                                   min_size=1, max_size=5))
def test_optimum_and_vcg_match_truthful_vickrey(k: int, rows: list[list[int]]) -> None:
    from auctioneer.incentives.market import everyone, shuffled_arrival
    from auctioneer.incentives.rules import outcomes

    values = np.array(rows, dtype=np.int64)
    arrival = shuffled_arrival(np.random.default_rng(k), *values.shape)
    units, paid = outcomes(Rule(Mechanism.SECOND_PRICE, k), values, arrival,
                           everyone(values.shape))
    assert optimum(values, k, 1) == int((values * units).sum())
    assert vickrey_revenue(values, k, 1) == int(paid.sum())
    # One winner taking all k units: it has the top value and pays k x the second.
    top = sorted(rows[0], reverse=True)
    assert optimum(values[:1], k, k) == k * top[0]
    assert vickrey_revenue(values[:1], k, k) == k * top[1]


def test_vcg_needs_unit_or_full_demand() -> None:
    with pytest.raises(ValueError, match="demand 1 or >= k"):
        vickrey_revenue(np.ones((1, 4), dtype=np.int64), 3, 2)


def test_config_checks_the_buckets() -> None:
    with pytest.raises(ValueError, match="buckets"):
        replace(IncentiveConfig.build(quick=True), buckets=0)


def test_matrix_price_of_anarchy_comes_from_the_result(quick: IncentiveConfig) -> None:
    config = replace(quick, rounds=40, seeds=2)
    result = run_experiment(config, tick_bench=fake_bench())
    by_name = {c.mechanism: c for c in result.worst_equilibrium}
    assert [c.mechanism for c in result.equilibrium] == [m.name for m in MECHANISMS]
    for row in result.matrix:
        assert row.equilibrium == by_name[row.mechanism]
    # A fake measurement no run produces shows up in the matrix, JSON and table.
    fake = {name: replace(cell, optimum=12_345, welfare=10_000) for name, cell in by_name.items()}
    fake["second-price"] = replace(fake["second-price"], optimum=13_579)
    matrix = build_matrix(tick_costs(fake_bench()), {s.mechanism: s for s in result.summaries},
                          {}, {c.mechanism: c for c in result.thermal}, fake, count_lines())
    rows = {r.structure: r for r in matrix}
    assert rows["TierBook"].to_dict()["price_of_anarchy"] == 1.2345
    assert rows["LazyHeap"].to_dict()["price_of_anarchy"] == 1.3579
    faked = replace(result, matrix=matrix, equilibrium=tuple(fake.values()))
    text = matrix_grid(faked).markdown()
    assert "1.2345 (" in text and "1.3579 (" in text
    assert "| second-price |" in equilibrium_grid(faked).markdown()


def test_unmeasured_mechanism_has_no_price_of_anarchy() -> None:
    cell = EquilibriumCell("x", "truthful", False, 3, 0, (0, 1), (1000,), 10, 0, 0, 5, 0, 0)
    assert cell.price_of_anarchy is None and cell.revenue_ratio is None
    assert cell.status == "capped" and cell.to_dict()["price_of_anarchy"] is None


def test_every_start_is_a_profile_on_the_grid_and_the_worst_is_the_largest_poa() -> None:
    config = IncentiveConfig.build(quick=True)
    starts = starting_profiles(config)
    assert list(starts) == ["truthful", "shaded", "inflated", "random"]
    grid = len(config.factors)
    assert all(p.shape == (config.buckets,) and p.min() >= 0 and p.max() < grid
               for p in starts.values())
    spec = mechanism("tier-coarse")
    cells = tuple(equilibrium(spec, config, start) for start in starts)
    [bad] = worst(cells)
    ended = [c for c in cells if c.status != "capped"]
    assert bad.price_of_anarchy == max(c.price_of_anarchy or 0 for c in ended)
    assert {c.start for c in cells} == set(starts)
