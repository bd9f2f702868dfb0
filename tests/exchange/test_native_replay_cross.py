"""Cross-market bids' journal records replayed in C against the journal's Python reader.

Replay (``engine_replay.c``) reads a place_order or market_order record over several markets
itself and places it as the gate does (``ec_place_cross``), where before it handed the record
to the Python reader. Each test replays the same records in C and through the reader into
the reference, and requires the same state and the same events after; one checks that C took
every record itself (no Python object per command on the way).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from auctioneer.exchange import (
    CancelOrder,
    Command,
    Exchange,
    FsyncPolicy,
    Journal,
    MarketOrder,
    NativeExchange,
    PlaceOrder,
    Side,
    TimeInForce,
)
from auctioneer.exchange.journal import segments

from .test_native_engine import journal_of
from .test_native_replay import commands, recover
from .test_properties import (
    IDS,
    PROVIDERS,
    TRADERS,
    market_lists,
    prices,
    quantities,
    setup_commands,
)

pytestmark = pytest.mark.native


def bids(steps: list[tuple[str, tuple[str, ...], int, int, int]]) -> list[Command]:
    """Bids over several markets (all-or-none, IOC or market buys now and then), asks
    against them in one market, and cancels."""
    out: list[Command] = []
    for i, (account, markets, price, quantity, how) in enumerate(steps):
        ts = 1_000 + i * 400_000_000  # a new second now and then: prices publish
        if account in PROVIDERS:
            out.append(PlaceOrder(f"a{i}", account, Side.SELL, markets[:1], price, quantity,
                                  ts_ns=ts))
        elif how == 4:
            out.append(CancelOrder(f"x{i - 1}", account, ts))
        elif how == 3:
            out.append(MarketOrder(f"x{i}", account, Side.BUY, markets, quantity, 10**4,
                                   TimeInForce.IOC, ts))
        else:
            out.append(PlaceOrder(f"x{i}", account, Side.BUY, markets, price, quantity,
                                  TimeInForce.IOC if how == 2 else TimeInForce.GTC,
                                  all_or_none=how == 1, ts_ns=ts))
    return out


STEPS = st.lists(st.tuples(st.sampled_from(TRADERS + PROVIDERS), market_lists.map(tuple), prices,
                           quantities, st.integers(0, 4)), min_size=1, max_size=40)


@settings(max_examples=60, deadline=None)
@given(STEPS, st.lists(commands(), max_size=10))
def test_cross_market_records_replay_in_c_to_the_readers_state(
        tmp_path_factory: pytest.TempPathFactory,
        steps: list[tuple[str, tuple[str, ...], int, int, int]], after: list[Command]) -> None:
    setup = setup_commands(money=10**6, capacity=100)
    stream = bids(steps)
    directory = tmp_path_factory.mktemp("cross")
    with Journal(directory, FsyncPolicy.NEVER) as journal:
        journal.append_many(stream)
    data = segments(directory)[-1].read_bytes()
    native, reference = NativeExchange(), Exchange()
    native.apply_many(setup)
    reference.apply_many(setup)
    pos, last = native.replay_bytes(data, 0, 0)
    for cmd in stream[last:]:  # from the first the core refuses (or takes no more), the gate
        native.apply(cmd)
    reference.apply_many(stream)
    assert native.native
    assert native.state_hash() == reference.state_hash()
    for cmd in after:
        assert native.apply(cmd) == reference.apply(cmd), cmd
    assert native.state_hash() == reference.state_hash()


def test_every_cross_market_record_is_taken_in_c(tmp_path: Path) -> None:
    r1, r2, r3 = IDS
    stream: list[Command] = [
        PlaceOrder("a1", "p1", Side.SELL, (r2,), 100, 2, ts_ns=1),
        PlaceOrder("a2", "p2", Side.SELL, (r3,), 98, 1, ts_ns=2),
        PlaceOrder("x", "t1", Side.BUY, (r1, r2, r3), 100, 5, ts_ns=3),  # fills 3, rests 2
        PlaceOrder("y", "t2", Side.BUY, (r3, r1), 96, 2, all_or_none=True, ts_ns=4),
        MarketOrder("m", "t3", Side.BUY, (r2, r1), 1, 500, TimeInForce.IOC, 2_000_000_000),
        PlaceOrder("a3", "p1", Side.SELL, (r1,), 96, 3, ts_ns=2_000_000_001),  # x's 2; not y's
        CancelOrder("y", "t2", 2_000_000_002),
    ]
    with Journal(tmp_path, FsyncPolicy.NEVER) as journal:
        journal.append_many(stream)
    data = segments(tmp_path)[-1].read_bytes()
    native, reference = NativeExchange(), Exchange()
    for engine in (native, reference):
        engine.apply_many(setup_commands(money=10**6, capacity=100))
    assert native.replay_bytes(data, 0, 0) == (len(data), len(stream))  # all in C
    reference.apply_many(stream)
    assert native.state_hash() == reference.state_hash()
    assert native.trades(r1) == reference.trades(r1) and native.trades(r3) == reference.trades(r3)


def test_recovery_replays_cross_market_records_to_the_references_state(tmp_path: Path) -> None:
    r1, r2, _ = IDS
    journal_of(tmp_path, [*setup_commands(money=10**6, capacity=100),
                          PlaceOrder("a", "p1", Side.SELL, (r2,), 100, 2, ts_ns=1),
                          PlaceOrder("x", "t1", Side.BUY, (r1, r2), 100, 3, ts_ns=2),
                          PlaceOrder("b", "p2", Side.SELL, (r1,), 100, 1, ts_ns=3)])
    want, got = recover(tmp_path, Exchange), recover(tmp_path, NativeExchange)
    assert isinstance(want, Exchange) and isinstance(got, NativeExchange) and got.native
    assert got.state_hash() == want.state_hash()
