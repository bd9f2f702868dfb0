"""Cross-market bids in the native engine, against the reference, the state in C.

A cross-market bid rests in each of its books at once (a copy in each, kept
equal); an incoming one meets the asks of all its books merged, cheapest
first, then earliest, then in its own order of markets, as the reference's
plan does. Each scenario runs on both engines (``test_native_aon.both``):
every command's events and the state hash equal, the state in C
throughout. The state machine in ``test_native_engine`` generates them at
random.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from auctioneer.exchange import CancelOrder, Command, MarketOrder, ModifyOrder, NativeExchange
from auctioneer.exchange import PlaceOrder as Place
from auctioneer.exchange import TimeInForce as Tif

from .test_native_aon import BUY, IOC, SELL, both, order
from .test_native_engine import HUGE, journal_of, pair, recovered
from .test_properties import IDS, MARKETS, setup_commands

pytestmark = pytest.mark.native

FOK = Tif.FOK
R1, R2, R3 = IDS


def bid(order_id: str, account: str, markets: tuple[str, ...], price: int, quantity: int,
        tif: Tif = Tif.GTC, aon: bool = False) -> Place:
    return Place(order_id, account, BUY, markets, price, quantity, tif, aon)


def asks() -> list[Command]:
    """Asks in every market: the cheapest in r3, two at 100 (r2's older), more behind."""
    return [order("a2", "p1", SELL, R2, 100, 2), order("a1", "p2", SELL, R1, 100, 2),
            order("a3", "p2", SELL, R3, 98, 1), order("b1", "p1", SELL, R1, 102, 3),
            order("b2", "p2", SELL, R2, 104, 3)]


def test_an_incoming_bid_fills_in_each_of_its_markets_in_price_time_order() -> None:
    _, native, kinds = both([*asks(), bid("x", "t1", IDS, 104, 9)])
    assert kinds[-1] == ["accepted", *["traded"] * 5]  # r3, r2 (older), r1, r1, r2
    assert native.book(R1) == ([], []) and native.book(R2) == ([], [(104, 2, 1)])


@pytest.mark.parametrize("markets", [(R1, R2), (R2, R1), (R3, R1, R2)])
def test_a_resting_bid_fills_in_each_of_its_markets_and_stays_equal(
        markets: tuple[str, ...]) -> None:
    both([bid("x", "t1", markets, 96, 6), bid("y", "t2", (R1,), 96, 1),
          order("s1", "p1", SELL, markets[0], 96, 2),  # x first: it came first
          order("s2", "p2", SELL, markets[1], 94, 3),  # x again, in another book
          ModifyOrder("x", "t1", None, 1, 1),  # kept: 1 left in every book
          order("s3", "p1", SELL, markets[-1], 96, 2)])  # x's last, then y or rests


def test_self_trade_rules_meet_a_cross_market_bid() -> None:
    both([order("a1", "p1", SELL, R1, 100, 1), order("a2", "p1", SELL, R2, 100, 1),
          order("a3", "p1", SELL, R3, 100, 1), order("c", "p2", SELL, R2, 100, 1),
          bid("x", "p1", (R2, R1, R3), 100, 3),  # r2: oldest cancelled, c taken; r1: stops
          bid("y", "p2", (R1, R2), 100, 1),  # its own c is gone: takes a1? cancelled: newest
          bid("z", "p2", (R3, R1), 98, 2),  # rests in both
          order("s", "p2", SELL, R1, 98, 1),  # meets its own z in r1: cancel newest
          order("s3", "p2", SELL, R3, 98, 1)])  # meets its own z in r3: both cancelled


def test_all_or_none_cross_market_bids() -> None:
    both([bid("x", "t1", (R1, R2), 100, 4, aon=True),  # nothing to fill it: rests whole
          order("s1", "p1", SELL, R1, 100, 3),  # passes over x, rests
          order("s2", "p2", SELL, R2, 100, 4),  # fills x whole in r2
          bid("y", "t2", (R1, R2), 100, 4, IOC, aon=True),  # 3 there: cancelled whole
          bid("z", "t2", (R1, R3), 100, 3, FOK),  # 3 there: fills
          bid("w", "t3", (R2, R3), 100, 3, FOK)])  # nothing: cancelled "fok"


def test_cancel_and_modify_of_a_cross_market_bid() -> None:
    _, native, kinds = both([
        bid("x", "t1", (R1, R2, R3), 96, 4),
        ModifyOrder("x", "t1", 98, None, 1),  # anew at 98 in every book
        order("s", "p1", SELL, R3, 100, 2),
        ModifyOrder("x", "t1", 100, 3, 2),  # anew: takes s's 2 in r3, rests 1
        ModifyOrder("x", "t1", 101, None, 3),  # off r2's tick: refused, in C
        CancelOrder("x", "t1", 4)])
    assert kinds[3] == ["accepted", "modified", "traded", "rested"]
    assert kinds[4][0] == "rejected" and kinds[5] == ["accepted", "cancelled"]
    assert native.account("t1").reserved == 0


def test_market_buys_over_several_markets() -> None:
    both([*asks(), MarketOrder("m", "t1", BUY, (R1, R2), 3, 250, IOC),
          MarketOrder("f", "t2", BUY, (R1, R2, R3), 9, 10_000, FOK),  # short: refused
          MarketOrder("g", "t2", BUY, (R3, R2), 4, 10_000, FOK)])


def test_snapshot_restore_and_replay_with_cross_market_bids_open(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    commands: list[Command] = [bid("x", "t1", (R1, R3), 96, 5),
                               bid("y", "t2", (R2, R1), 94, 2, aon=True),
                               order("s", "p1", SELL, R3, 96, 2)]
    ex, native, _ = both(commands)
    restored = NativeExchange.restore(native.snapshot())
    assert restored.native and restored.state_hash() == ex.state_hash()
    follow = order("t", "p2", SELL, R1, 94, 5)
    assert restored.apply(follow) == ex.apply(follow)  # x's 3, y's 2 whole, from a load
    assert restored.native and restored.state_hash() == ex.state_hash()
    journal_of(tmp_path, [*setup_commands(money=10_000, capacity=50), *commands, follow])
    replayed = recovered(tmp_path, "native", monkeypatch)
    assert isinstance(replayed, NativeExchange) and replayed.native
    assert replayed.state_hash() == ex.state_hash()


def test_markets_are_the_ones_the_scenarios_assume() -> None:
    assert [m.self_trade.value for m in MARKETS] == ["cancel_newest", "cancel_oldest",
                                                     "cancel_both"]


CROSS = [(cls, name, value) for cls, name in [
    (Place, "price"), (Place, "quantity"), (Place, "ts_ns"),
    (MarketOrder, "quantity"), (MarketOrder, "max_spend"), (MarketOrder, "ts_ns")]
    for value in HUGE]


@pytest.mark.parametrize(("cls", "name", "value"), CROSS,
                         ids=[f"{c.__name__}.{n}={v!r}" for c, n, v in CROSS])
def test_a_cross_market_bids_fields_are_range_checked_as_the_reference_does(
        cls: type, name: str, value: object) -> None:
    ex, native = pair()
    fields = ({"price": 100, "quantity": 1} if cls is Place
              else {"quantity": 1, "max_spend": 500, "tif": IOC})
    cmd = cls(**{"order_id": "n", "account": "t1", "side": BUY, "markets": (R2, R1),
                 **fields, "ts_ns": 5, name: value})
    assert native.apply(cmd) == ex.apply(cmd)
    assert native.native and native.state_hash() == ex.state_hash()


@pytest.mark.parametrize("markets", [(0, 2**63), (0, 10**30), (0, -1), (1, 1), (0, 9), ()])
def test_loading_a_cross_market_bid_checks_its_market_numbers(
        markets: tuple[int, ...]) -> None:
    ex, native = pair()
    core = native._core
    assert core is not None
    with pytest.raises((ValueError, OverflowError)):
        core.load_order("z", 0, markets, True, 100, 1, 9, 9, False, False)
    native._dirty = True  # nothing loaded: the copy out is the reference's state
    assert core.check() is None and native.state_hash() == ex.state_hash()
