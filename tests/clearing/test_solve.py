"""``clear`` dispatches, chooses and times; ``check_feasible`` catches every broken rule."""

import dataclasses
import math

import pytest
from hypothesis import given, settings

from auctioneer import clearing
from auctioneer.clearing import Auction, Bid, Bundle, Clearing, Resource, Status

from .conftest import assert_agrees, examples
from .strategies import auctions


@settings(max_examples=examples(400))
@given(auctions(two_sided=True, side_constraints=True))
def test_dp_auto_and_brute_agree(auction: Auction) -> None:
    reference = clearing.solve_brute(auction)
    for method in ("dp", "auto", "brute"):
        result = clearing.clear(auction, method)
        assert_agrees(auction, result, reference)
        assert result.seconds >= 0
    auto = clearing.clear(auction)
    assert str(auto.stats["auto"]).startswith("dp: ")


@settings(max_examples=examples(40))
@given(auctions(max_bids=4, side_constraints=True))
def test_integer_programming_methods_are_wired(auction: Auction) -> None:
    reference = clearing.solve_brute(auction)
    for method in ("milp", "bnb"):
        assert_agrees(auction, clearing.clear(auction, method, time_limit=60), reference)


def test_auto_falls_back_to_milp_when_the_dp_is_too_large() -> None:
    # Neither the grid (10^24 cells) nor the combinations (3^30) are small.
    resources = tuple(Resource(f"r{i}", 10**6) for i in range(4))
    auction = Auction(resources, tuple(
        Bid(f"b{t}", (Bundle((t * 10**4,) * 4, 10 + t), Bundle((t * 10**4, 0, 0, 0), t)))
        for t in range(30)))
    result = clearing.clear(auction)
    reason = str(result.stats["auto"])
    assert reason.startswith("milp: ") and "1000001^4" in reason
    assert result.status is Status.OPTIMAL
    clearing.check_feasible(auction, result)


def test_a_time_limit_turns_a_slow_dp_away() -> None:
    auction = Auction((Resource("cpu", 1000),), tuple(
        Bid(f"b{t}", (Bundle((t % 50 + 1,), t),)) for t in range(200)))
    result = clearing.clear(auction, "dp", time_limit=0.0)
    assert result.status is Status.TOO_LARGE and "predicts" in str(result.stats["reason"])
    clearing.check_feasible(auction, result)


@pytest.mark.parametrize("method", ["best", "", "DP"])
def test_unknown_method_is_named(method: str) -> None:
    with pytest.raises(ValueError, match=repr(method)):
        clearing.clear(Auction((), ()), method)


@pytest.mark.parametrize("limit", [-1, -0.5, math.nan, math.inf, True])
def test_bad_time_limit_is_named(limit: float) -> None:
    with pytest.raises(ValueError, match="time_limit"):
        clearing.clear(Auction((), ()), time_limit=limit)


AUCTION = Auction((Resource("cpu", 4), Resource("ram", 8, reserve=1)), (
    Bid("a", (Bundle((2, 4), 10), Bundle((1, 1), 0))),
    Bid("b", (Bundle((2, 4), 7),), must_win=True),
    Bid("c", (Bundle((1, 1), 3),)),
))
GOOD = Clearing(Status.OPTIMAL, "test", 17, (0, 0, None), (4, 8))


def test_a_valid_clearing_passes() -> None:
    clearing.check_feasible(AUCTION, GOOD)
    assert clearing.clear(AUCTION).revenue == 17


@pytest.mark.parametrize("change, message", [
    ({"choice": (0, 0)}, "choice has 2 entries for 3 bids"),
    ({"choice": (0, 0, 0), "revenue": 20, "used": (5, 9)}, "5 units used, capacity 4"),
    ({"choice": (1, 0, None), "revenue": 7, "used": (3, 5)}, "below its reserve floor"),
    ({"choice": (3, 0, None)}, "given bundle 3, not one of its 2"),
    ({"choice": (0, None, 0), "revenue": 13, "used": (3, 5)}, "must-win bid 1 'b'"),
    ({"revenue": 18}, "revenue 18 but the chosen prices sum to 17"),
    ({"used": (4, 7)}, "used (4, 7) but the chosen bundles take (4, 8)"),
    ({"payments": (5, 5, 1)}, "losing bid 2 pays 1"),
    ({"payments": (5, 5)}, "2 payments for 3 bids"),
    ({"status": Status.INFEASIBLE}, "infeasible result awards bundles"),
])
def test_broken_clearings_are_caught(change: dict[str, object], message: str) -> None:
    broken = dataclasses.replace(GOOD, **change)  # type: ignore[arg-type]
    with pytest.raises(AssertionError, match=message.replace("(", r"\(").replace(")", r"\)")):
        clearing.check_feasible(AUCTION, broken)


def test_winner_counts_are_checked() -> None:
    few = Auction(AUCTION.resources, AUCTION.bids, min_winners=3)
    with pytest.raises(AssertionError, match="2 winners, fewer than min_winners 3"):
        clearing.check_feasible(few, GOOD)
    many = Auction(AUCTION.resources, AUCTION.bids, max_winners=1)
    with pytest.raises(AssertionError, match="2 winners, more than max_winners 1"):
        clearing.check_feasible(many, GOOD)
