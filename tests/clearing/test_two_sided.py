"""Two-sided exchanges: building them, solving them, and the budget balance of the result."""

import dataclasses

import pytest
from hypothesis import given, settings

from auctioneer.clearing.bnb import solve_bnb
from auctioneer.clearing.brute import solve_brute
from auctioneer.clearing.milp import solve_milp
from auctioneer.clearing.model import Auction, Bid, Bundle, Resource
from auctioneer.clearing.result import Clearing, Status
from auctioneer.clearing.two_sided import Balance, Order, Side, budget_balance, exchange
from auctioneer.clearing.vcg import vcg_payments

from .conftest import assert_agrees
from .strategies import auctions


@settings(max_examples=200)
@given(auctions(two_sided=True, max_resources=3))
def test_optimum_is_budget_balanced_under_pay_as_bid(auction: Auction) -> None:
    # Nothing forces a trade, so awarding nothing (surplus 0) is feasible.
    reference = solve_brute(auction)
    for result in (reference, solve_milp(auction), solve_bnb(auction)):
        assert_agrees(auction, result, reference)
        report = budget_balance(auction, result)
        assert report.balanced and report.surplus == result.revenue >= 0
        assert report.net == result.used
        assert all(u <= r.capacity for u, r in zip(report.net, auction.resources, strict=True))


@settings(max_examples=150)
@given(auctions(two_sided=True, side_constraints=True, max_resources=3))
def test_solvers_handle_sales_and_forced_trades(auction: Auction) -> None:
    reference = solve_brute(auction)
    for result in (solve_milp(auction), solve_bnb(auction)):
        assert_agrees(auction, result, reference)
        if result.is_optimal:
            report = budget_balance(auction, result)
            assert report.surplus == result.revenue  # may be < 0 when trades are forced


def test_swap_bundles_count_both_ways() -> None:
    auction = Auction((Resource("cpu", 0), Resource("mem", 4)), (
        Bid("swap", (Bundle((-2, 3), 5),)),  # gives 2 cpu, takes 3 mem, pays 5
        Bid("cpu", (Bundle((2, 0), 7),)),
    ))
    result = solve_milp(auction)
    report = budget_balance(auction, result)
    assert result.revenue == 12
    assert (report.bought, report.sold, report.net) == ((2, 3), (2, 0), (0, 3))


def test_payments_are_reported_alongside_pay_as_bid() -> None:
    # The bilateral trade of the VCG tests: the seller asks 0, the buyer bids 10.
    auction = exchange(["cpu"], [Order("s", Side.SELL, {"cpu": 1}, 0),
                                 Order("b", Side.BUY, {"cpu": 1}, 10)])
    result = vcg_payments(auction, solve_milp(auction))
    report = budget_balance(auction, result)
    assert (report.buyers_pay, report.sellers_receive, report.surplus) == (10, 0, 10)
    assert report.payments is not None
    assert report.payments.surplus == sum(result.payments or ())
    assert report.payments.balanced == (result.stats.get("vcg_deficit", 0) == 0)
    hand = dataclasses.replace(result, payments=(-4, 6))
    assert budget_balance(auction, hand).payments == Balance(buyers_pay=6, sellers_receive=4)


@settings(max_examples=60)
@given(auctions(two_sided=True, max_bids=4))
def test_vcg_deficit_matches_the_report(auction: Auction) -> None:
    result = vcg_payments(auction, solve_brute(auction))
    if result.payments is None:
        return
    report = budget_balance(auction, result)
    assert report.payments is not None
    assert result.stats["vcg_deficit"] == max(0, -report.payments.surplus)


def test_exchange_builds_one_bundle_bids() -> None:
    supply = Resource("cpu", 2, reserve=1)
    auction = exchange([supply, "mem"], [
        Order("ann", Side.SELL, {"cpu": 4, "mem": 8}, 20),
        Order("bob", Side.BUY, {"mem": 4}, 30, must_win=True),
    ], max_winners=2)
    assert auction.resources == (supply, Resource("mem", 0))
    assert [b.bundles for b in auction.bids] == [
        (Bundle((-4, -8), -20),), (Bundle((0, 4), 30),)]
    assert [b.must_win for b in auction.bids] == [False, True]
    assert auction.max_winners == 2


@pytest.mark.parametrize(("order", "message"), [
    (Order("x", Side.BUY, {"gpu": 1}, 5), "resource 'gpu'"),
    (Order("x", Side.BUY, {"cpu": 0}, 5), "units of 'cpu' 0"),
    (Order("x", Side.BUY, {"cpu": True}, 5), "units of 'cpu' True"),
    (Order("x", Side.BUY, {}, 5), "units {}"),
    (Order("x", Side.SELL, {"cpu": 1}, -5), "limit -5"),
    (Order("x", Side.SELL, {"cpu": 1}, 0.5), "limit 0.5 is a float"),  # type: ignore[arg-type]
    (Order("x", "buy", {"cpu": 1}, 5), "side 'buy'"),  # type: ignore[arg-type]
])
def test_exchange_names_bad_orders(order: Order, message: str) -> None:
    with pytest.raises(ValueError, match="order 0 'x'") as info:
        exchange(["cpu"], [order])
    assert message in str(info.value)


def test_budget_balance_refuses_mismatched_clearings() -> None:
    auction = exchange(["cpu"], [Order("b", Side.BUY, {"cpu": 1}, 10)])
    with pytest.raises(ValueError, match="status infeasible"):
        budget_balance(auction, Clearing(Status.INFEASIBLE, "x"))
    with pytest.raises(ValueError, match="payments"):
        budget_balance(auction, Clearing(Status.OPTIMAL, "x", 0, (None,), (0,), (1, 2)))


def test_a_seller_paid_its_ask_trades_with_a_buyer() -> None:
    auction = exchange(["cpu"], [Order("ann", Side.SELL, {"cpu": 4}, 20),
                                 Order("bob", Side.BUY, {"cpu": 4}, 30)])
    for solve in (solve_brute, solve_milp, solve_bnb):
        result = solve(auction)
        assert (result.revenue, result.choice) == (10, (0, 0))
        report = budget_balance(auction, result)
        assert (report.buyers_pay, report.sellers_receive, report.surplus) == (30, 20, 10)


def test_forced_trade_can_run_a_deficit() -> None:
    auction = exchange(["cpu"], [Order("ann", Side.SELL, {"cpu": 2}, 5, must_win=True),
                                 Order("bob", Side.BUY, {"cpu": 2}, 3)])
    for solve in (solve_brute, solve_milp, solve_bnb):
        report = budget_balance(auction, solve(auction))
        assert (report.buyers_pay, report.sellers_receive, report.surplus) == (3, 5, -2)
        assert not report.balanced
