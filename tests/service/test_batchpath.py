"""The batch path in C (``exchange/engine_batch.c`` and ``engine_answer.c`` through
``routers.orders.batch_commands``, ``batch_results`` and ``batch_body``) against the Python
path it stands in for (the reference: ``fast=False``).

For random batches of orders, valid and not, on two engines in the same state, both paths
must build the same commands (same journal bytes) or refuse with the same status, field and
message; applied, they must answer the same (the same results, the same body's bytes) and
leave the same ``state_hash``.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from auctioneer.exchange import (
    AddCapacity,
    Deposit,
    Exchange,
    ListMarket,
    Market,
    OpenAccount,
    Role,
)
from auctioneer.exchange.journal import encode_record
from auctioneer.exchange.native import NativeExchange
from auctioneer.exchange.orderbatch import batch_answer, order_summary, place_orders
from auctioneer.service.errors import ApiError
from auctioneer.service.fastbody import FastOrder
from auctioneer.service.routers.orders import (
    batch_body,
    batch_commands,
    batch_results,
    order_result,
)
from auctioneer.service.schemas import OrderIn

pytestmark = pytest.mark.native

_MARKETS = (("r/a", 5, 100), ("r/b", 1, 50), ("r/c", 1000, 40_000))
_ACCOUNTS = (("t", Role.TRADER), ("p", Role.PROVIDER), ("q", Role.PROVIDER), ("admin", Role.ADMIN))
_HUGE = (2**63, 2**63 - 1, 10**30, 10**12 + 5, 10**9 + 1)


def _exchange(native: bool) -> Exchange:
    ex: Exchange = NativeExchange() if native else Exchange()
    ts = 1
    for name, tick, base in _MARKETS:
        ex.apply(ListMarket(Market.of(name, tick_size=tick, base_price=base), ts))
    for account, role in _ACCOUNTS:
        ex.apply(OpenAccount(account, role, ts))
        if role is not Role.ADMIN:
            ex.apply(Deposit(account, 10**7, ts))
        if role is Role.PROVIDER:
            for name, _, _ in _MARKETS:
                ex.apply(AddCapacity(account, name, 50, ts))
    return ex


_ODD: dict[str, st.SearchStrategy[Any]] = {  # a value out of some rule, per field
    "side": st.just("sell"),
    "quantity": st.sampled_from(_HUGE),
    "type": st.just("market"),
    "markets_": st.lists(st.sampled_from(["r/a", "r/b", "r/zz"]), min_size=1, max_size=2,
                         unique=True),
    "market": st.just("r/zz"),
    "price": st.one_of(st.sampled_from([1, 101, 40_001]), st.sampled_from(_HUGE)),
    "max_spend": st.sampled_from([1, 500, 10**30]),
    "all_or_none": st.just(True),
    "post_only": st.just(True),
}


@st.composite
def _order(draw: st.DrawFn, seller: bool) -> Any:
    """An order as decoded: mostly a plain limit order admission takes, one field at times
    out of some rule; now and then pydantic's model (the route's path) instead."""
    market, tick, base = draw(st.sampled_from(_MARKETS))
    fields: dict[str, Any] = {
        "side": draw(st.sampled_from(["buy", "sell"])) if seller else "buy",
        "quantity": draw(st.integers(1, 12)),
        "type": "limit",
        "markets_": None,
        "market": market,
        "price": base + tick * draw(st.integers(-3, 3)),
        "max_spend": None,
        "tif": draw(st.sampled_from([None, "gtc", "ioc", "fok"])),
        "all_or_none": False,
        "post_only": False,
    }
    if draw(st.integers(0, 5)) == 0:
        odd = draw(st.sampled_from(sorted(_ODD)))
        fields[odd] = draw(_ODD[odd])
        if odd == "markets_":
            fields["market"] = None
        elif odd == "type":
            fields["price"] = None
    if draw(st.integers(0, 20)) == 0:
        data = {("markets" if k == "markets_" else k): v for k, v in fields.items()}
        try:
            return OrderIn.model_validate(data)
        except ValueError:
            pass
    return FastOrder(**fields)


def _built(ex: Exchange, account: str, orders: list[Any], first: int, fast: bool
           ) -> tuple[Any, ...]:
    try:
        commands = batch_commands(ex, account, orders, first, fast)
    except ApiError as exc:
        return ("refused", exc.status, exc.field, exc.message)
    return ("built", commands, [encode_record(i, c) for i, c in enumerate(commands)])


@settings(max_examples=150, deadline=None)
@given(batches=st.lists(st.sampled_from(["t", "p", "q", "admin", "nobody"]).flatmap(
    lambda account: st.tuples(st.just(account),
                              st.lists(_order(account in ("p", "q")), min_size=1, max_size=6))),
    min_size=1, max_size=10),
       native=st.booleans())
def test_the_c_path_builds_refuses_answers_and_ends_as_the_reference(
        batches: list[tuple[str, list[Any]]], native: bool) -> None:
    fast_ex, ref_ex = _exchange(native), _exchange(native)
    first = 10**9
    # The first order in a market is built in Python, which tells C its tick: one in each
    # first, so C judges all of the drawn ones.
    warm: list[Any] = [FastOrder(side="buy", quantity=1, market=m, price=t) for m, t, _ in _MARKETS]
    for account, orders in [("t", warm), *batches]:
        fast, ref = (_built(fast_ex, account, orders, first, True),
                     _built(ref_ex, account, orders, first, False))
        assert fast == ref
        if fast[0] == "built":
            outcomes = [list(zip(fast[1], ex.apply_many(fast[1]), strict=True))
                        for ex in (fast_ex, ref_ex)]
            assert (batch_results(orders, outcomes[0], True)
                    == batch_results(orders, outcomes[1], False))
            assert (batch_body(orders, outcomes[0], True)
                    == batch_body(orders, outcomes[1], False))
        first += 100
    assert fast_ex.state_hash() == ref_ex.state_hash()


def test_c_takes_plain_limit_orders_and_reads_native_events() -> None:
    """The C path is the one taken: a plain batch is built in C whole and its answers are
    read from the native events (the test above would pass if C took nothing)."""
    ex = _exchange(True)
    orders = [FastOrder(side="buy", quantity=2, market="r/b", price=p) for p in (40, 60, 70)]
    orders += [FastOrder(side="buy", quantity=1, market="r/a", price=5, tif="ioc")]
    out: list[Any] = []
    assert place_orders(orders, 0, out, "t", Role.TRADER, {"r/b": 1, "r/a": 5}, 7) == (
        4, 2 * (40 + 60 + 70) + 5)
    assert [c.order_id for c in out] == ["o7", "o8", "o9", "oa"]
    bought = ex.apply_many([*out])
    assert all(order_summary(c.order_id, c.quantity, e) is not None for c, e in zip(out, bought,
                                                                                    strict=True))
    # a sell into those bids: its trades, read in C, as order_result reads them
    sell = batch_commands(ex, "p", [FastOrder(side="sell", quantity=5, market="r/b",
                                              price=50)], 20)
    [events] = ex.apply_many(sell)
    summary = order_summary("o14", 5, events)
    assert summary is not None and len(summary["trades"]) == 2  # the bids at 70 and 60
    assert summary == order_result("o14", 5, events)


@pytest.mark.parametrize("value", [2**63, 2**63 - 1, 10**30, -(10**30), 0])
@pytest.mark.parametrize("field", ["price", "quantity"])
def test_out_of_range_integers_are_left_to_the_reference(field: str, value: int) -> None:
    """C never reads an integer it cannot hold: it stops there, and the reference refuses."""
    fields: dict[str, Any] = {"side": "buy", "quantity": 1, "market": "r/b", "price": 10}
    fields[field] = value
    out: list[Any] = []
    assert place_orders([FastOrder(**fields)], 0, out, "t", Role.TRADER, {"r/b": 1}, 1) == (0, 0)
    assert out == []
    with pytest.raises(ApiError) as caught:
        batch_commands(_exchange(True), "t", [FastOrder(**fields)], 1)
    assert caught.value.field == f"orders[0].{field}"


def test_a_batch_cost_past_64_bits_is_summed_exactly() -> None:
    orders = [FastOrder(side="buy", quantity=10**9, market="r/b", price=10**12)] * 20
    out: list[Any] = []
    assert place_orders(orders, 0, out, "t", Role.TRADER, {"r/b": 1}, 1) == (20, 20 * 10**21)
    with pytest.raises(ApiError) as caught:
        batch_commands(_exchange(True), "t", orders, 1)
    assert caught.value.message == f"the batch's bids reserve {20 * 10**21}; 10000000 is available"


def test_c_writes_the_batch_body_or_declines() -> None:
    """batch_answer writes the reference's bytes for native events (trades included), and
    declines (None) for what it does not write: the reference engine's events, an id JSON
    would escape, a quantity past 64 bits."""
    ex, ref_ex = _exchange(True), _exchange(False)
    bids = [FastOrder(side="buy", quantity=2, market="r/b", price=p) for p in (40, 60, 70)]
    sell = [FastOrder(side="sell", quantity=5, market="r/b", price=50, tif="ioc")]
    for account, orders, first in (("t", bids, 7), ("p", sell, 20)):
        commands = batch_commands(ex, account, orders, first)
        outcomes = list(zip(commands, ex.apply_many(commands), strict=True))
        body = batch_answer(orders, outcomes)
        assert body is not None and body == batch_body(orders, outcomes, False)
        ref_commands = batch_commands(ref_ex, account, orders, first, False)
        ref_outcomes = list(zip(ref_commands, ref_ex.apply_many(ref_commands), strict=True))
        assert batch_answer(orders, ref_outcomes) is None
        assert batch_body(orders, ref_outcomes) == body
    assert b'"trades":[{"id":"1"' in body and b'"status":"cancelled"' in body  # IOC remainder
    [(command, events)] = outcomes
    quoted = type("Cmd", (), {"order_id": 'o"1'})()
    assert batch_answer(sell, [(quoted, events)]) is None
    for quantity in (2**63, 10**30):
        huge = [FastOrder(side="sell", quantity=quantity, market="r/b", price=50)]
        assert batch_answer(huge, [(command, events)]) is None
    with pytest.raises(ValueError, match="as many outcomes"):
        batch_answer(sell, [])
