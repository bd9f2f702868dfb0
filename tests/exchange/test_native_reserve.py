"""The sizing hint (:meth:`Exchange.reserve`, ``expect_orders``): checked alike by both
engines, changing no event or state, and the native engine's tables then do not grow while
the hinted orders come; restoring a snapshot hints what is to come."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from auctioneer.exchange import (
    Command,
    Exchange,
    FsyncPolicy,
    Journal,
    NativeExchange,
    PlaceOrder,
    Side,
    open_exchange,
)
from auctioneer.exchange.limits import EXPECT_MAX

from .test_native_engine import pair
from .test_properties import IDS, setup_commands

pytestmark = pytest.mark.native

BAD = [(-1, ValueError), (EXPECT_MAX + 1, ValueError), (2**63, ValueError),
       (10**30, ValueError), (True, TypeError), (1.0, TypeError), ("5", TypeError)]


def resting(n: int, first: int = 0) -> list[Command]:
    """``n`` orders that all rest: bids below 100, asks above, in the first market."""
    return [PlaceOrder(f"h{i}", "t1" if i % 2 else "p1", Side.BUY if i % 2 else Side.SELL,
                       IDS[:1], 95 - i % 5 if i % 2 else 105 + i % 5, 1, ts_ns=i)
            for i in range(first, first + n)]


@pytest.mark.parametrize("engine", [Exchange, NativeExchange])
@pytest.mark.parametrize(("value", "error"), BAD)
def test_the_hint_is_checked_alike_by_both_engines(engine: type[Exchange], value: object,
                                                   error: type[Exception]) -> None:
    with pytest.raises(error, match="expect_orders"):
        engine(expect_orders=value)  # type: ignore[arg-type]
    ex = engine()
    with pytest.raises(error, match="orders"):
        ex.reserve(value)  # type: ignore[arg-type]
    ex.reserve(EXPECT_MAX if engine is Exchange else 0)  # the top of the range is taken


@pytest.mark.parametrize("value", [-1, EXPECT_MAX + 1, 2**63, 10**30])
def test_the_core_refuses_a_count_it_cannot_number(value: int) -> None:
    _, native = pair()
    core = native._core
    assert core is not None
    with pytest.raises(OverflowError):
        core.reserve(value)
    assert native.native


def test_a_hinted_engine_takes_its_orders_without_growing() -> None:
    """With ``expect_orders`` the C tables are sized at the first order and stay so while
    the hinted orders rest; without it they grow. Events and state are the reference's."""
    n = 3_000
    setup = [*setup_commands(money=10**9, capacity=10**6)]
    orders = resting(n)
    # each book gets a share of the hint: this one's is n
    hinted = NativeExchange(expect_orders=n * len(IDS))
    plain, ex = NativeExchange(), Exchange()
    sizes: dict[str, list[int]] = {"hinted": [], "plain": []}
    want = ex.apply_many(setup) + ex.apply_many(orders)
    for name, engine in (("hinted", hinted), ("plain", plain)):
        got = engine.apply_many(setup)
        for cmd in orders:
            got.append(engine.apply(cmd))
            sizes[name].append(engine.nbytes)
        assert got == want and engine.native
        assert engine.state_hash() == ex.state_hash()
    assert sizes["hinted"][0] == sizes["hinted"][-1]
    assert sizes["plain"][0] < sizes["plain"][-1]
    assert sizes["hinted"][0] >= sizes["plain"][-1] // 2  # it made room for them at once


@settings(max_examples=20, deadline=None)
@given(st.integers(0, 400), st.integers(0, 5_000), st.booleans())
def test_a_hint_in_the_middle_keeps_every_order_in_its_place(before: int, orders: int,
                                                             crossing: bool) -> None:
    """Orders resting (and some trading), then a hint, which moves the books to bigger
    blocks, then more: the events, the books and the state equal the reference's."""
    ex, native = pair()
    first = resting(before)
    assert native.apply_many(first) == ex.apply_many(first)
    native.reserve(orders)
    ex.reserve(orders)
    assert native.native
    more = resting(40, before)
    if crossing:
        more.append(PlaceOrder("x", "t2", Side.BUY, IDS[:1], 110, 30, ts_ns=10**6))
    assert native.apply_many(more) == ex.apply_many(more)
    assert native.book(IDS[0], 100) == ex.book(IDS[0], 100)
    assert native.state_hash() == ex.state_hash()


def test_restoring_a_snapshot_hints_what_it_has_taken_and_recovery_does_not(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """:meth:`Exchange.restore` hints as many orders again as the snapshot's state has
    taken; ``open_exchange`` replays a bare journal without a hint (its tables grow by
    doubling, and a hint's written pages cost replay more than the growth it saves)."""
    hints: list[int] = []
    real = NativeExchange.reserve

    def reserve(self: NativeExchange, orders: int) -> None:
        hints.append(orders)
        real(self, orders)

    monkeypatch.setattr(NativeExchange, "reserve", reserve)
    commands = [*setup_commands(money=10**9, capacity=10**6), *resting(500)]
    with Journal(tmp_path, FsyncPolicy.NEVER) as journal:
        journal.append_many(commands)
    exchange, journal = open_exchange(tmp_path, FsyncPolicy.NEVER, NativeExchange)
    journal.close()
    assert hints == [] and exchange.native
    hints.clear()
    restored = NativeExchange.restore(exchange.snapshot())
    assert hints == [500] and restored.state_hash() == exchange.state_hash()
