"""The hand-written branch and bound: against DP, its side constraints, stats, depth and greedy
start (against brute force and under a time limit: ``test_exact_solvers.py``)."""

import pytest
from hypothesis import given

from auctioneer.clearing.allocation import check_feasible, violation
from auctioneer.clearing.bnb import greedy_allocation, solve_bnb
from auctioneer.clearing.brute import solve_brute
from auctioneer.clearing.dp import solve_dp
from auctioneer.clearing.generate import generate
from auctioneer.clearing.model import Auction, Bid, Bundle, Resource
from auctioneer.clearing.result import Status

from .conftest import assert_agrees
from .strategies import auctions


@pytest.mark.parametrize("kind", ["uncorrelated", "weakly", "strongly"])
@pytest.mark.parametrize("seed", [1, 2])
def test_equals_dp_on_generated_instances(kind: str, seed: int) -> None:
    auction = generate(kind, bids=18, bundles=3, resources=2, capacity=40, seed=seed,
                       reserves=seed == 2)
    assert_agrees(auction, solve_bnb(auction), solve_dp(auction))


def test_must_win_and_winner_counts() -> None:
    cpu = (Resource("cpu", 4),)
    bids = (Bid("a", (Bundle((3,), 5),), must_win=True),
            Bid("b", (Bundle((2,), 3),)), Bid("c", (Bundle((2,), 3),)))
    assert solve_bnb(Auction(cpu, bids)).choice == (0, None, None)
    assert solve_bnb(Auction(cpu, bids[1:], max_winners=1)).revenue == 3
    assert solve_bnb(Auction(cpu, bids, min_winners=2)).status is Status.INFEASIBLE
    below_reserve = Auction((Resource("cpu", 4, reserve=9),), bids[:1])
    result = solve_bnb(below_reserve)
    assert result.status is Status.INFEASIBLE and result.stats["nodes"] == 0


def test_sellers_refill_what_buyers_overdraw() -> None:
    # The buyer comes first in the search and overdraws the empty pool; only
    # the later seller makes it feasible, so capacity cannot be checked early.
    auction = Auction((Resource("cpu", 0),), (
        Bid("buyer", (Bundle((3,), 10),)),
        Bid("seller", (Bundle((-3,), 0),)),
    ))
    result = solve_bnb(auction)
    assert (result.revenue, result.choice, result.used) == (10, (0, 0), (0,))


def test_stats() -> None:
    auction = generate("weakly", bids=12, capacity=30, seed=3)
    result = solve_bnb(auction)
    check_feasible(auction, result)
    assert result.stats["bound"] == "lagrangian"
    for key in ("nodes", "pruned", "infeasible", "root_bound", "greedy"):
        assert key in result.stats
    assert int(result.stats["greedy"]) <= result.revenue <= int(result.stats["root_bound"])


def test_many_bids_do_not_recurse() -> None:
    # 3000 levels would overflow a recursive search.
    bids = tuple(Bid(f"b{t}", (Bundle((1,), 1 + t % 7),)) for t in range(3000))
    auction = Auction((Resource("cpu", 3000),), bids)
    result = solve_bnb(auction)
    assert result.is_optimal and result.revenue == sum(1 + t % 7 for t in range(3000))


@given(auctions(two_sided=True, side_constraints=True))
def test_greedy_allocation_is_feasible_when_found(auction: Auction) -> None:
    found = greedy_allocation(auction)
    if found is not None:
        assert violation(auction, found) is None
    elif solve_brute(auction).is_optimal:
        # The dive only dead-ends on side constraints or sellers it skipped.
        assert any(b.must_win for b in auction.bids) or auction.min_winners or any(
            q < 0 for b in auction.bids for x in b.bundles for q in x.quantities)
