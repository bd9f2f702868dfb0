"""Resting all-or-none orders in the native engine, against the reference, the state in C.

An all-or-none order that cannot fill whole when it arrives rests whole in
C (``MC_AON_GTC``), and a resting one trades whole or not at all: an
incoming order passes over it (at a level's head or behind a better price)
and takes what is behind it, as the reference's plan does. Each scenario
here runs on both engines, compares every command's events and the state
hash, and requires the state to have stayed in C throughout; snapshots and
journal replay with such orders open, too. The state machine in
``test_native_engine`` generates them at random.
"""

from __future__ import annotations

import pytest

from auctioneer.exchange import (
    CancelOrder,
    Command,
    Deposit,
    Exchange,
    MarketOrder,
    ModifyOrder,
    NativeExchange,
    PlaceOrder,
    Side,
    TimeInForce,
)
from auctioneer.exchange.journal import encode_record

from .test_properties import IDS, MARKETS, setup_commands

pytestmark = pytest.mark.native

BUY, SELL, IOC = Side.BUY, Side.SELL, TimeInForce.IOC


def aon(order_id: str, account: str, side: Side, market: str, price: int, quantity: int,
        ts: int = 0) -> PlaceOrder:
    return PlaceOrder(order_id, account, side, (market,), price, quantity, all_or_none=True,
                      ts_ns=ts)


def order(order_id: str, account: str, side: Side, market: str, price: int, quantity: int,
          tif: TimeInForce = TimeInForce.GTC) -> PlaceOrder:
    return PlaceOrder(order_id, account, side, (market,), price, quantity, tif)


def both(commands: list[Command]) -> tuple[Exchange, NativeExchange, list[list[str]]]:
    """Apply ``commands`` to the reference and to the native engine (setup first): equal events
    and hash after each, the state in C throughout; the event kinds of each command."""
    ex, native = Exchange(), NativeExchange()
    for cmd in setup_commands(money=10_000, capacity=50):
        assert native.apply(cmd) == ex.apply(cmd)
    kinds = []
    for cmd in commands:
        want = ex.apply(cmd)
        assert native.apply(cmd) == want, cmd
        assert native.native, cmd  # in C from the first order on
        native.check()
        kinds.append([e.kind for e in want])
    assert native.snapshot_json() == ex.snapshot_json()  # written in C while C holds it
    assert native.state_hash() == ex.state_hash()
    return ex, native, kinds


@pytest.mark.parametrize("market", IDS)
def test_an_aon_at_a_level_head_it_cannot_fill_is_passed_over(market: str) -> None:
    _, native, kinds = both([
        aon("a", "p1", SELL, market, 100, 5),  # the head of the level at 100
        order("b", "p2", SELL, market, 100, 2),  # behind it
        order("x", "t1", BUY, market, 100, 3),  # takes b's 2, passing over a, rests 1
        order("y", "t2", BUY, market, 100, 4),  # passes over a (5) too, rests
    ])
    assert kinds[2] == ["accepted", "traded", "rested"]
    assert native.book(market) == ([(100, 5, 2)], [(100, 5, 1)])  # crossed by a alone


@pytest.mark.parametrize("market", IDS)
def test_an_aon_at_a_better_price_is_passed_over_then_filled_whole(market: str) -> None:
    _, native, kinds = both([
        aon("a", "p1", SELL, market, 98, 4),
        order("b", "p2", SELL, market, 100, 1),
        order("x", "t1", BUY, market, 100, 2, IOC),  # b's 1 at 100; a passed over
        order("y", "t2", BUY, market, 100, 6, IOC),  # a's 4 at 98 whole
        aon("c", "t3", BUY, market, 96, 3),  # rests whole: nothing to fill it
        order("d", "p2", SELL, market, 96, 2),  # passes over c, rests
        order("e", "p1", SELL, market, 96, 3),  # fills c whole
    ])
    assert kinds[2] == ["accepted", "traded", "cancelled"]
    assert kinds[3] == ["accepted", "traded", "cancelled"]
    assert kinds[6] == ["accepted", "traded"]
    assert native.book(market) == ([], [(96, 2, 1)])


@pytest.mark.parametrize("market", IDS)  # r1 cancel newest, r2 cancel oldest, r3 both
def test_aon_and_each_self_trade_rule(market: str) -> None:
    _, _, kinds = both([
        aon("a", "p1", SELL, market, 100, 5),
        order("b", "p2", SELL, market, 100, 1),
        order("x", "p1", BUY, market, 100, 2),  # meets its own all-or-none order first
        aon("c", "p2", BUY, market, 100, 1),  # its own b, all-or-none itself
        aon("d", "p2", BUY, market, 104, 9),  # cannot fill whole: rests, no self-trade
        order("e", "p2", SELL, market, 104, 1),
    ])
    rule = next(m.self_trade for m in MARKETS if m.id == market).value
    assert kinds[2] == {"cancel_newest": ["accepted", "cancelled"],  # x stops
                        "cancel_oldest": ["accepted", "cancelled", "traded", "rested"],
                        "cancel_both": ["accepted", "cancelled", "cancelled"]}[rule]


@pytest.mark.parametrize("market", IDS)
def test_market_orders_pass_over_an_aon_they_cannot_take_whole(market: str) -> None:
    both([
        aon("a", "p1", SELL, market, 98, 5),
        order("b", "p2", SELL, market, 100, 3),
        MarketOrder("m1", "t1", BUY, (market,), 4, 10_000, IOC),  # b's 3; a needs 5
        MarketOrder("m2", "t2", BUY, (market,), 5, 400, IOC),  # a whole is 490: passed over
        MarketOrder("m3", "t2", BUY, (market,), 5, 490, IOC),  # a whole
        aon("c", "t3", BUY, market, 96, 4),
        MarketOrder("m4", "p1", SELL, (market,), 3, None, IOC),  # passes over c
        MarketOrder("m5", "p1", SELL, (market,), 4, None, TimeInForce.FOK),  # c whole
    ])


@pytest.mark.parametrize("market", IDS)
def test_cancel_and_modify_of_a_resting_aon(market: str) -> None:
    _, native, kinds = both([
        aon("a", "t1", BUY, market, 96, 5),
        aon("b", "t2", BUY, market, 96, 2),
        ModifyOrder("a", "t1", None, 4, 1),  # keeps its place, all-or-none still
        order("s", "p1", SELL, market, 96, 3),  # passes over a (4), fills b whole, rests 1
        ModifyOrder("a", "t1", 98, None, 2),  # arrives anew: 1 is there, not 4: rests
        ModifyOrder("a", "t1", 96, 1, 3),  # arrives anew: s's 1 fills it whole
        aon("c", "t3", BUY, market, 94, 3),
        CancelOrder("c", "t3", 4),
        aon("d", "p2", SELL, market, 110, 2),
        ModifyOrder("d", "p2", 94, 3, 5),  # nothing to fill 3: rests whole, crossed
    ])
    assert kinds[4] == ["accepted", "modified", "rested"] and kinds[5][-1] == "traded"
    assert native.account("t3").reserved == 0


def test_snapshot_restore_and_replay_with_aon_orders_open() -> None:
    market = IDS[1]
    commands: list[Command] = [
        aon("a", "t1", BUY, market, 100, 5), order("b", "p1", SELL, market, 102, 2),
        aon("c", "p2", SELL, market, 98, 4), order("d", "t2", BUY, market, 98, 1),
        Deposit("t3", 100, 7)]
    ex, native, _ = both(commands)
    restored = NativeExchange.restore(native.snapshot())
    follow = order("e", "p1", SELL, market, 100, 5)
    assert restored.apply(follow) == ex.apply(follow)  # fills a whole, from a loaded state
    assert restored.native and restored.state_hash() == ex.state_hash()
    setup = setup_commands(money=10_000, capacity=50)
    replayed = NativeExchange()
    replayed.apply_many(setup)
    journal = b"".join(encode_record(seq, cmd) for seq, cmd in enumerate(commands, len(setup) + 1))
    assert replayed.replay_bytes(journal, 0, len(setup)) == (len(journal),
                                                              len(setup) + len(commands))
    assert replayed.native and replayed.state_hash() == native.state_hash()  # all in C
