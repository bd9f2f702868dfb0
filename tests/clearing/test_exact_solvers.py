"""The exact integer solvers, branch and bound and HiGHS, against brute force and DP, and
the time-limit contract they share: stopped early, never a wrong optimum."""

from collections.abc import Callable

import pytest
from hypothesis import given, settings

from auctioneer.clearing.allocation import check_feasible
from auctioneer.clearing.bnb import solve_bnb
from auctioneer.clearing.brute import solve_brute
from auctioneer.clearing.dp import solve_dp
from auctioneer.clearing.generate import generate
from auctioneer.clearing.milp import solve_milp
from auctioneer.clearing.model import Auction, Bid, Bundle, Resource
from auctioneer.clearing.result import Clearing, Status

from .conftest import assert_agrees
from .strategies import auctions

Solver = Callable[..., Clearing]
solvers = pytest.mark.parametrize("solve", [solve_bnb, solve_milp], ids=["bnb", "milp"])


def _agrees_with_brute(solve: Solver, auction: Auction) -> None:
    reference = solve_brute(auction)
    result = solve(auction)
    assert_agrees(auction, result, reference)
    if reference.is_optimal and "root_bound" in result.stats:
        # Branch and bound's Lagrangian bound at the root is a valid upper bound.
        assert int(result.stats["root_bound"]) >= reference.revenue


@solvers
@settings(max_examples=400)
@given(auction=auctions(side_constraints=True))
def test_equals_brute_force_with_side_constraints(solve: Solver, auction: Auction) -> None:
    _agrees_with_brute(solve, auction)


@solvers
@settings(max_examples=300)
@given(auction=auctions(two_sided=True, side_constraints=True, max_resources=3))
def test_equals_brute_force_two_sided(solve: Solver, auction: Auction) -> None:
    _agrees_with_brute(solve, auction)


@solvers
@settings(max_examples=100)
@given(auction=auctions(max_bids=7, max_bundles=3, max_resources=3, max_capacity=12))
def test_equals_brute_force_on_larger_instances(solve: Solver, auction: Auction) -> None:
    _agrees_with_brute(solve, auction)


@pytest.mark.parametrize(("solve", "hard", "limits"), [
    (solve_bnb, generate("strongly", bids=40, bundles=3, resources=2, capacity=120, seed=5),
     (0.0, 0.005, 0.05)),
    (solve_milp, generate("strongly", bids=60, bundles=4, resources=3, capacity=60, seed=11),
     (0.0, 0.01)),
], ids=["bnb", "milp"])
def test_time_limit_never_gives_a_wrong_optimum(
    solve: Solver, hard: Auction, limits: tuple[float, ...]
) -> None:
    reference = solve_dp(hard)
    assert reference.is_optimal
    for limit in limits:
        result = solve(hard, time_limit=limit)
        assert result.status in (Status.OPTIMAL, Status.TIME_LIMIT)
        check_feasible(hard, result)
        assert len(result.choice) == len(hard.bids)  # an incumbent (zero at worst)
        if result.is_optimal:
            assert result.revenue == reference.revenue
        else:
            assert result.revenue <= reference.revenue


@solvers
def test_time_limit_with_no_incumbent(solve: Solver) -> None:
    # Every bid must win but they cannot all fit: there is nothing to return.
    bids = tuple(Bid(f"b{t}", tuple(Bundle((q, 5 - q), 3 + q) for q in range(1, 4)),
                     must_win=True) for t in range(30))
    auction = Auction((Resource("x", 60), Resource("y", 60)), bids)
    result = solve(auction, time_limit=0.0)
    check_feasible(auction, result)
    assert result.status in (Status.TIME_LIMIT, Status.INFEASIBLE) and result.choice == ()


@solvers
@pytest.mark.parametrize("bad", [-1, -1e-9, -0.5, float("nan"), "1", True])
def test_bad_time_limit_names_the_value(solve: Solver, bad: object) -> None:
    with pytest.raises(ValueError, match="time_limit") as info:
        solve(Auction((Resource("cpu", 1),), ()), time_limit=bad)
    assert repr(bad) in str(info.value)
