"""auto on the held-out MMKP family: exact whichever method wins; INFEASIBLE reported; gaps."""

from __future__ import annotations

import pytest

from auctioneer.clearing.allocation import check_feasible
from auctioneer.clearing.bnb import solve_bnb
from auctioneer.clearing.generate import generate
from auctioneer.clearing.result import Status
from auctioneer.clearing.solve import clear


@pytest.mark.parametrize("seed", range(6))
def test_auto_agrees_with_milp_and_dp_on_mmkp(seed: int) -> None:
    auction = generate("mmkp", bids=10, bundles=2, resources=4, capacity=12, seed=seed)
    assert all(b.must_win for b in auction.bids) and auction.dimensions == 4
    milp, auto = clear(auction, "milp"), clear(auction, "auto")
    dp = clear(auction, "dp")
    for result in (milp, auto, dp):
        check_feasible(auction, result)
    assert auto.status is milp.status is dp.status
    assert auto.revenue == milp.revenue == dp.revenue
    assert "auto" in auto.stats


def test_an_infeasible_must_win_set_is_infeasible_for_every_method() -> None:
    auction = generate("mmkp", bids=30, bundles=2, resources=8, capacity=20, seed=3)
    for method in ("auto", "dp", "milp", "bnb"):
        assert clear(auction, method).status is Status.INFEASIBLE, method


def test_the_race_hands_a_slow_instance_to_the_milp_first() -> None:
    auction = generate("mmkp", bids=20, bundles=2, resources=6, capacity=40, seed=2)
    result = clear(auction, "auto")
    assert result.status is Status.OPTIMAL
    assert result.revenue == clear(auction, "milp").revenue
    assert "race" in str(result.stats["auto"])


def test_mmkp_sellers_must_sell() -> None:
    auction = generate("mmkp", bids=4, sellers=0.5)
    sellers = [b for b in auction.bids if b.name.startswith("s")]
    assert len(sellers) == 2 and all(b.must_win for b in sellers)
    assert all(q <= 0 for b in sellers for bundle in b.bundles for q in bundle.quantities)


def test_a_time_limited_bnb_reports_its_bound_and_gap() -> None:
    auction = generate("strongly", bids=60, bundles=3, resources=3, capacity=100, seed=4)
    result = solve_bnb(auction, time_limit=0.05)
    assert result.status is Status.TIME_LIMIT
    bound = float(result.stats["dual_bound"])
    assert bound >= result.revenue
    assert 0 <= float(result.stats["gap"]) <= 1
