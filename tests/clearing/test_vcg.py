"""VCG payments: textbook cases by hand, incentive properties, and DP against re-solving."""

import dataclasses

import pytest
from hypothesis import given, settings

from auctioneer import clearing
from auctioneer.clearing import Auction, Bid, Bundle, Clearing, Resource, Status

from .conftest import examples, price
from .strategies import auctions


def _unit_bids(*prices: int) -> tuple[Bid, ...]:
    return tuple(Bid(f"b{i}", (Bundle((1,), p),)) for i, p in enumerate(prices))


def test_single_item_winner_pays_the_second_highest_bid() -> None:
    auction = Auction((Resource("item", 1),), _unit_bids(7, 10, 4))
    result = clearing.vcg_payments(auction)
    assert result.choice == (None, 0, None) and result.payments == (0, 7, 0)
    assert result.stats["vcg"] == "prefix-suffix dense DP"
    assert result.revenue == 10  # the bids' sum stays; payments are separate


def test_two_units_unit_demand_winners_pay_the_third_bid() -> None:
    auction = Auction((Resource("unit", 2),), _unit_bids(5, 9, 6, 8))
    result = clearing.vcg_payments(auction)
    assert result.winners == (1, 3) and result.payments == (0, 6, 0, 6)


def test_complementary_package_bidder() -> None:
    # x and y separately at 5 each, or the package {x, y} at 12.
    resources = (Resource("x", 1), Resource("y", 1))
    package = Bid("xy", (Bundle((1, 1), 12),))
    singles = (Bid("x", (Bundle((1, 0), 5),)), Bid("y", (Bundle((0, 1), 5),)))
    result = clearing.vcg_payments(Auction(resources, (*singles, package)))
    # The package wins and pays what the singles would have raised.
    assert result.winners == (2,) and result.payments == (0, 0, 10)
    # With the package at 8 the singles win; each pays 8 minus the other's 5.
    cheap = Bid("xy", (Bundle((1, 1), 8),))
    result = clearing.vcg_payments(Auction(resources, (*singles, cheap)))
    assert result.winners == (0, 1) and result.payments == (3, 3, 0)


def test_bilateral_trade_runs_a_deficit() -> None:
    # A seller asks nothing for its unit, a buyer bids 10 for it: the buyer
    # pays 0 (without it nothing trades) and the seller is paid 10.
    auction = Auction((Resource("cpu", 0),), (Bid("seller", (Bundle((-1,), 0),)),
                                              Bid("buyer", (Bundle((1,), 10),))))
    result = clearing.vcg_payments(auction)
    assert result.payments == (-10, 0)
    assert result.stats["vcg_total"] == -10 and result.stats["vcg_deficit"] == 10


def test_must_win_bidder_is_capped_at_its_bid() -> None:
    # The operator forces "vip" in; it displaces a 10 bid, but never pays
    # more than its own 1.
    auction = Auction((Resource("cpu", 1),), (Bid("vip", (Bundle((1,), 1),), must_win=True),
                                              Bid("rich", (Bundle((1,), 10),))))
    result = clearing.vcg_payments(auction)
    assert result.payments == (1, 0)
    assert result.stats["vcg_capped"] == 1
    assert str(result.stats["vcg"]).startswith("re-solve")


def test_essential_bidder_pays_its_bid() -> None:
    # Two winners are required; without either one, no allocation exists.
    auction = Auction((Resource("cpu", 2),), _unit_bids(4, 3), min_winners=2)
    result = clearing.vcg_payments(auction)
    assert result.payments == (4, 3)
    assert result.stats["vcg_essential"] == "b0, b1"


def test_given_clearing_is_priced_not_resolved() -> None:
    auction = Auction((Resource("item", 1),), _unit_bids(10, 10))
    second = Clearing(Status.OPTIMAL, "mine", 10, (None, 0), (1,), seconds=0.5)
    result = clearing.vcg_payments(auction, second)
    assert result.choice == (None, 0) and result.payments == (0, 10)
    assert result.method == "mine" and result.seconds >= 0.5


def test_suboptimal_clearing_is_refused() -> None:
    auction = Auction((Resource("item", 1),), _unit_bids(10, 4))
    worse = Clearing(Status.OPTIMAL, "bad", 4, (None, 0), (1,))
    for method in ("dp", "brute"):
        with pytest.raises(ValueError, match="not"):
            clearing.vcg_payments(auction, worse, method=method)


def test_infeasible_clearing_gets_no_payments() -> None:
    auction = Auction((Resource("cpu", 1),), _unit_bids(4, 3), min_winners=2)
    result = clearing.vcg_payments(auction)
    assert result.status is Status.INFEASIBLE and result.payments is None
    assert "infeasible" in str(result.stats["vcg"])


@pytest.mark.parametrize("method", ["milp", "bnb", "brute", "dp", "auto"])
def test_every_method_resolves_to_the_same_payments(method: str) -> None:
    # The must-win bid rules out the prefix/suffix DP: every method re-solves.
    resources = (Resource("x", 1), Resource("y", 1), Resource("z", 1))
    auction = Auction(resources, (Bid("x", (Bundle((1, 0, 0), 5),)),
                                  Bid("y", (Bundle((0, 1, 0), 5),)),
                                  Bid("xy", (Bundle((1, 1, 0), 8),)),
                                  Bid("vip", (Bundle((0, 0, 1), 1),), must_win=True)))
    result = clearing.vcg_payments(auction, method=method)
    assert result.payments == (3, 3, 0, 0)
    assert result.stats["vcg"] == f"re-solve with {method}"


def test_unknown_method_is_named() -> None:
    with pytest.raises(ValueError, match="'cheap'"):
        clearing.vcg_payments(Auction((), ()), method="cheap")


def _check_payments(auction: Auction, result: Clearing, one_sided: bool) -> None:
    clearing.check_feasible(auction, result)
    if result.status is not Status.OPTIMAL:
        assert result.payments is None
        return
    assert result.payments is not None
    for t, pay in enumerate(result.payments):
        bid = price(auction, result, t)
        assert pay <= bid  # individual rationality at truthful bids
        if one_sided:
            assert pay >= 0
        if result.choice[t] is None:
            assert pay == 0
    total = sum(result.payments)
    assert result.stats["vcg_total"] == total
    assert result.stats["vcg_deficit"] == max(0, -total)


@settings(max_examples=examples(400))
@given(auctions())
def test_one_sided_payments_between_zero_and_the_bid(auction: Auction) -> None:
    result = clearing.vcg_payments(auction)
    assert result.stats["vcg"] == "prefix-suffix dense DP"
    _check_payments(auction, result, one_sided=True)


@settings(max_examples=examples(400))
@given(auctions(two_sided=True))
def test_prefix_suffix_equals_resolving_by_brute_force(auction: Auction) -> None:
    fast = clearing.vcg_payments(auction, method="dp")
    assert fast.stats["vcg"] == "prefix-suffix dense DP"
    slow = clearing.vcg_payments(auction, fast, method="brute")
    assert slow.stats["vcg"] == "re-solve with brute"
    assert fast.payments == slow.payments
    _check_payments(auction, fast, one_sided=False)
    # Given the clearing, the DP path prices the same choice the same way.
    again = clearing.vcg_payments(auction, dataclasses.replace(fast, payments=None))
    assert again.payments == fast.payments


@settings(max_examples=examples(300))
@given(auctions(max_bids=4, two_sided=True, side_constraints=True))
def test_side_constraints_resolve_consistently(auction: Auction) -> None:
    reference = clearing.solve_brute(auction)
    by_dp = clearing.vcg_payments(auction, reference, method="dp")
    by_brute = clearing.vcg_payments(auction, reference, method="brute")
    by_auto = clearing.vcg_payments(auction, clearing.clear(auction))
    assert by_dp.payments == by_brute.payments
    assert by_auto.revenue == reference.revenue
    for result in (by_dp, by_brute, by_auto):
        _check_payments(auction, result, one_sided=False)
