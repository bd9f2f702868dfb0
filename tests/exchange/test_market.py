"""Market orders: a buy spends at most max_spend, a sell takes any price, IOC or FOK only."""

from __future__ import annotations

import pytest

from auctioneer.exchange import (
    AddCapacity,
    Cancelled,
    Command,
    Deposit,
    Exchange,
    ExecutionRule,
    ListMarket,
    Market,
    MarketOrder,
    OpenAccount,
    PlaceOrder,
    Rejected,
    Role,
    Side,
    TimeInForce,
    Traded,
)

M = Market.of("r/x", tick_size=1, base_price=10)
FOK, IOC, GTC = TimeInForce.FOK, TimeInForce.IOC, TimeInForce.GTC


def book(*orders: Command) -> Exchange:
    ex = Exchange()
    for cmd in (ListMarket(M), OpenAccount("p", Role.PROVIDER), AddCapacity("p", M.id, 20),
                OpenAccount("t", Role.TRADER), Deposit("t", 1_000), *orders):
        assert ex.apply(cmd)[-1].kind != "rejected", cmd
    return ex


def asks() -> list[Command]:
    return [PlaceOrder("a1", "p", Side.SELL, (M.id,), 10, 2),
            PlaceOrder("a2", "p", Side.SELL, (M.id,), 12, 3)]


def test_a_market_buy_spends_at_most_max_spend_and_releases_the_rest() -> None:
    ex = book(*asks())
    events = ex.apply(MarketOrder("b", "t", Side.BUY, (M.id,), 5, max_spend=50))
    trades = [(e.price, e.quantity) for e in events if isinstance(e, Traded)]
    assert trades == [(10, 2), (12, 2)]  # 20 + 24; a third at 12 would pass 50
    assert events[-1] == Cancelled("b", "t", (M.id,), 1, "ioc", 0)
    assert ex.account("t").balance == 1_000 - 44 and ex.account("t").reserved == 0
    ex.check()


def test_a_market_sell_takes_any_price_at_the_bids_price() -> None:
    ex = book(PlaceOrder("b1", "t", Side.BUY, (M.id,), 7, 2),
              PlaceOrder("b2", "t", Side.BUY, (M.id,), 3, 2))
    events = ex.apply(MarketOrder("s", "p", Side.SELL, (M.id,), 3))
    assert [(e.price, e.quantity) for e in events if isinstance(e, Traded)] == [(7, 2), (3, 1)]
    assert ex.account("p").balance == 17 and ex.capacity("p")[0].offered == 0
    ex.check()


def test_an_unfillable_fok_is_a_rejection_that_changes_nothing() -> None:
    ex = book(*asks())
    before = ex.state_hash()
    refused = ex.apply(MarketOrder("b", "t", Side.BUY, (M.id,), 6, max_spend=1_000, tif=FOK,
                                   ts_ns=5_000_000_000))
    assert refused == [Rejected("market_order", "quantity", "only 5 of 6 can fill now "
                                "within max_spend 1000")]
    poor = ex.apply(MarketOrder("b", "t", Side.BUY, (M.id,), 3, max_spend=31, tif=FOK))
    assert poor[0].kind == "rejected" and "only 2 of 3" in poor[0].reason
    assert ex.state_hash() == before
    filled = ex.apply(MarketOrder("b", "t", Side.BUY, (M.id,), 3, max_spend=32, tif=FOK))
    assert [e.kind for e in filled] == ["accepted", "traded", "traded"]


@pytest.mark.parametrize(("command", "field", "words"), [
    (MarketOrder("b", "t", Side.BUY, (M.id,), 1, 10, GTC), "tif", "ioc or fok, not gtc"),
    (MarketOrder("b", "t", Side.BUY, (M.id,), 1), "max_spend", "gives max_spend"),
    (MarketOrder("s", "p", Side.SELL, (M.id,), 1, 10), "max_spend", "any price"),
    (MarketOrder("b", "t", Side.BUY, (M.id,), 1, 1_001), "max_spend", "available 1000"),
    (MarketOrder("b", "t", Side.BUY, (M.id,), 1, 2**63), "max_spend", "between 1"),
    (MarketOrder("b", "t", Side.BUY, (M.id,), 1, 10**30), "max_spend", "between 1"),
    (MarketOrder("b", "t", Side.BUY, (M.id,), 2**63, 10), "quantity", "between 1"),
    (MarketOrder("b", "t", Side.BUY, (M.id,), 10**30, 10), "quantity", "between 1"),
    (MarketOrder("s", "p", Side.SELL, (M.id,), 21), "quantity", "exceeds the 20"),
    (MarketOrder("b", "t", Side.BUY, (M.id,), 1, 10, ts_ns=2**63), "ts_ns", "64-bit"),
    (MarketOrder("b", "t", Side.BUY, (M.id,), 1, 10, ts_ns=10**30), "ts_ns", "64-bit"),
    (MarketOrder("s", "t", Side.SELL, (M.id,), 1), "side", "only providers sell"),
    (MarketOrder("b", "t", Side.BUY, ("r/none",), 1, 10), "markets", "not a listed market"),
])
def test_refusals_name_the_field(command: MarketOrder, field: str, words: str) -> None:
    ex = book()
    before = ex.state_hash()
    [event] = ex.apply(command)
    assert isinstance(event, Rejected) and event.field == field and words in event.reason
    assert ex.state_hash() == before


def test_self_trade_and_the_execution_rule_apply_as_to_limit_orders() -> None:
    resting = Market.of("r/y", tick_size=1, base_price=10, execution=ExecutionRule.AT_RESTING)
    ex = book(ListMarket(resting), AddCapacity("p", resting.id, 5), Deposit("p", 9),
              PlaceOrder("own", "p", Side.BUY, (M.id,), 9, 1),
              PlaceOrder("a", "p", Side.SELL, (resting.id,), 11, 1))
    stopped = ex.apply(MarketOrder("s", "p", Side.SELL, (M.id,), 1))
    assert stopped[-1] == Cancelled("s", "p", (M.id,), 1, "self_trade", 0)
    cross = ex.apply(MarketOrder("b", "t", Side.BUY, (M.id, resting.id), 1, max_spend=11))
    assert [(e.market, e.price) for e in cross if isinstance(e, Traded)] == [(resting.id, 11)]
    ex.check()
