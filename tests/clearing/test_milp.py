"""HiGHS integer programming: exactness at large magnitudes, the model, the greedy fallback,
stats (against brute force and under a time limit: ``test_exact_solvers.py``)."""

import math
import random
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from auctioneer.clearing.allocation import check_feasible
from auctioneer.clearing.brute import solve_brute
from auctioneer.clearing.dp import solve_dp
from auctioneer.clearing.generate import generate
from auctioneer.clearing.kbest import k_best
from auctioneer.clearing.milp import add_no_good, build_milp, solve_milp, solve_model
from auctioneer.clearing.model import Auction, Bid, Bundle, Resource
from auctioneer.clearing.result import Status
from auctioneer.money import MONEY_MAX

from .conftest import assert_agrees
from .strategies import auctions


def test_must_win_bids_that_cannot_all_fit_are_infeasible() -> None:
    auction = Auction((Resource("cpu", 4),), (
        Bid("a", (Bundle((3,), 5),), must_win=True),
        Bid("b", (Bundle((3,), 1),), must_win=True),
    ))
    result = solve_milp(auction)
    assert result.status is Status.INFEASIBLE and result.choice == ()
    check_feasible(auction, result)


def test_must_win_bid_below_its_reserve_is_infeasible_without_a_solve() -> None:
    auction = Auction((Resource("cpu", 4, reserve=10),),
                      (Bid("a", (Bundle((1,), 5),), must_win=True),))
    result = solve_milp(auction)
    assert result.status is Status.INFEASIBLE
    assert "nodes" not in result.stats  # refused before HiGHS ran


def test_must_win_forces_a_worse_allocation() -> None:
    auction = Auction((Resource("cpu", 4),), (
        Bid("a", (Bundle((3,), 5),), must_win=True),
        Bid("b", (Bundle((2,), 3),)),
        Bid("c", (Bundle((2,), 3),)),
    ))
    result = solve_milp(auction)
    assert (result.revenue, result.choice) == (5, (0, None, None))


def test_winner_count_bounds() -> None:
    bids = tuple(Bid(f"b{i}", (Bundle((1,), p),)) for i, p in enumerate((9, 8, 7, 0)))
    capacity = (Resource("cpu", 10),)
    assert solve_milp(Auction(capacity, bids, max_winners=2)).revenue == 17
    # Four winners needs the zero-priced bid; five is impossible.
    assert solve_milp(Auction(capacity, bids, min_winners=4)).revenue == 24
    assert solve_milp(Auction(capacity, bids, min_winners=5)).status is Status.INFEASIBLE


def test_reserve_prices_exclude_bundles() -> None:
    auction = Auction((Resource("cpu", 10, reserve=2),), (
        Bid("cheap", (Bundle((5,), 9),)),  # floor 10: inadmissible
        Bid("fair", (Bundle((3,), 6),)),
    ))
    result = solve_milp(auction)
    assert result.choice == (None, 0) and result.stats["variables"] == 1


def test_no_bids_and_no_admissible_bundles() -> None:
    empty = Auction((Resource("cpu", 3),), ())
    assert solve_milp(empty).status is Status.OPTIMAL
    none_admissible = Auction((Resource("cpu", 3, reserve=5),), (Bid("a", (Bundle((1,), 1),)),))
    result = solve_milp(none_admissible)
    assert (result.status, result.choice, result.revenue) == (Status.OPTIMAL, (None,), 0)
    assert solve_milp(Auction((Resource("cpu", 3),), (), min_winners=1)).status \
        is Status.INFEASIBLE


def test_a_single_micro_unit_decides_at_large_magnitudes() -> None:
    # Revenues near $10^9 (10^15 micro-units) differing by one micro-unit;
    # the objective is near 2**50, where doubles still step by 1/8.
    big = 10**15
    auction = Auction((Resource("cpu", 2),), (
        Bid("a", (Bundle((2,), 2 * big + 1),)),
        Bid("b", (Bundle((1,), big),)),
        Bid("c", (Bundle((1,), big),)),
    ))
    result = solve_milp(auction)
    assert (result.revenue, result.choice) == (2 * big + 1, (0, None, None))
    flipped = Auction(auction.resources, (
        Bid("a", (Bundle((2,), 2 * big - 1),)), *auction.bids[1:]))
    assert solve_milp(flipped).choice == (None, 0, 0)
    assert result.stats["exact"] == 1


def test_gcd_scaling_keeps_huge_prices_exact() -> None:
    # Whole-dollar prices near MONEY_MAX/4: divided by their gcd they are small.
    unit = 10**6 * 2**20
    bids = tuple(Bid(f"b{i}", (Bundle((1,), unit * p),)) for i, p in enumerate((3, 5, 4)))
    auction = Auction((Resource("cpu", 2),), bids)
    assert unit * 5 < MONEY_MAX
    result = solve_milp(auction)
    assert result.revenue == unit * 9 and result.stats["scale"] == unit
    assert result.stats["exact"] == 1


def test_stats_and_used() -> None:
    auction = generate("uncorrelated", bids=8, capacity=20, seed=4)
    result = solve_milp(auction)
    check_feasible(auction, result)
    for key in ("nodes", "solver_status", "gap", "variables", "rows", "scale", "dual_bound"):
        assert key in result.stats
    assert result.stats["solver_status"] == "Optimal"
    assert result.stats["variables"] == sum(len(b.bundles) for b in auction.bids)
    assert math.isclose(result.stats["dual_bound"], result.revenue, rel_tol=1e-9)


def test_no_good_cut_excludes_exactly_the_optimum() -> None:
    auction = Auction((Resource("cpu", 4),), (
        Bid("a", (Bundle((3,), 5),)), Bid("b", (Bundle((2,), 3),)), Bid("c", (Bundle((2,), 3),))))
    model = build_milp(auction)
    first = solve_model(model)
    add_no_good(model, first.choice)
    second = solve_model(model)
    assert (first.revenue, second.revenue) == (6, 5) and first.choice != second.choice


def test_time_limit_falls_back_to_a_greedy_incumbent() -> None:
    # Every bid must win, so the zero allocation is no fallback; HiGHS stops
    # before finding anything, the greedy dive finds an allocation.
    bids = tuple(Bid(f"b{t}", tuple(Bundle((q, 5 - q), 3 + q) for q in range(1, 4)),
                     must_win=True) for t in range(30))
    auction = Auction((Resource("x", 75), Resource("y", 75)), bids)
    result = solve_milp(auction, time_limit=0.0)
    check_feasible(auction, result)
    if result.status is Status.TIME_LIMIT:
        assert len(result.choice) == 30 and result.stats["incumbent"] == "greedy"
    else:
        assert result.revenue == solve_dp(auction).revenue


@settings(max_examples=100)
@given(auctions(side_constraints=True), st.integers(1, 2**30), st.randoms(use_true_random=False))
def test_micro_unit_differences_at_large_magnitudes(
    auction: Auction, scale: int, rng: random.Random
) -> None:
    # Prices blown up by ``scale`` (so ties become near-ties) and nudged by a
    # few micro-units (so the gcd cannot shrink them back): still exact.
    def nudge(b: Bundle) -> Bundle:
        return Bundle(b.quantities, b.price * scale + rng.randint(0, 3) if b.price >= 0
                      else b.price * scale - rng.randint(0, 3))
    big = Auction(tuple(Resource(r.name, r.capacity) for r in auction.resources),
                  tuple(Bid(b.name, tuple(nudge(x) for x in b.bundles), b.must_win)
                        for b in auction.bids), auction.min_winners, auction.max_winners)
    assert_agrees(big, solve_milp(big), solve_brute(big))


def test_highs_banner_stays_off_stdout() -> None:
    code = ("from auctioneer.clearing.milp import solve_milp\n"
            "from auctioneer.clearing.model import Auction, Bid, Bundle, Resource\n"
            "a = Auction((Resource('r', 1),), (Bid('x', (Bundle((1,), 1),)),))\n"
            "assert solve_milp(a).revenue == 1\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout == ""


def test_model_columns_follow_admissible_bundles() -> None:
    auction = Auction((Resource("cpu", 5, reserve=1),), (
        Bid("a", (Bundle((1,), 0), Bundle((2,), 4))), Bid("b", (Bundle((0,), 0),))))
    model = build_milp(auction)
    assert model.columns == ((0, 1), (1, 0))
    assert np.array_equal(model.highs.getLp().col_cost_, [4 // model.scale, 0])


def test_bundles_that_can_never_fit_stay_out_of_the_model() -> None:
    # A quantity of 10**18 would make HiGHS refuse the whole model; it can never fit.
    auction = Auction((Resource("cpu", 10),), (
        Bid("a", (Bundle((10**18,), 5_000_000), Bundle((2,), 3_000_000))),
        Bid("b", (Bundle((3,), 4_000_000),)),
    ))
    result = solve_milp(auction)
    assert result.status is Status.OPTIMAL
    assert result.revenue == solve_brute(auction).revenue == 7_000_000
    assert result.stats["variables"] == 2


def test_numbers_beyond_what_a_double_holds_are_refused_not_guessed() -> None:
    auction = Auction((Resource("cpu", 10**16),), (
        Bid("a", (Bundle((10**16,), 5_000_000),)),  # fits, but HiGHS refuses a 1e16 coefficient
        Bid("b", (Bundle((3,), 4_000_000),)),
    ))
    result = solve_milp(auction)
    assert result.status is Status.TOO_LARGE
    assert "beyond 1e+15" in str(result.stats["reason"])
    with pytest.raises(ValueError, match="k-best by MILP"):
        k_best(auction, 2)
