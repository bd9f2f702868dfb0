"""The changes the native engine logs while it replays journal bytes against the reference
(:func:`changes` of each command and its reference events), and the follower's tables built
from them against the reference projector's."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from auctioneer.exchange import Command, Exchange, Side, TimeInForce
from auctioneer.exchange import commands as c
from auctioneer.exchange.journal import FsyncPolicy, Journal, JournalReader
from auctioneer.exchange.native import NativeExchange
from auctioneer.service.changes import Change, changes
from auctioneer.service.follower import JournalChanges
from auctioneer.service.projector import Projector
from auctioneer.service.sqliteprojector import SqliteProjector
from auctioneer.service.store import connect, metadata, projected_seq

from .test_projection import IDS, PROVIDERS, TRADERS, setup, streams

pytestmark = pytest.mark.native


def _journal(directory: Path, stream: list[Command]) -> None:
    with Journal(directory, FsyncPolicy.NEVER) as journal:
        journal.append_many(stream)


def _reference(stream: list[Command]) -> list[Change]:
    exchange = Exchange()
    return [change for seq, cmd in enumerate(stream, 1)
            for change in changes(seq, cmd, exchange.apply(cmd))]


def _native(directory: Path) -> tuple[list[Change], int]:
    """The changes of the journal in ``directory`` as the follower reads them (the native
    engine's log, and changes() of the records it hands back), and how many records C took."""
    exchange, log = NativeExchange(), []
    handed = 0
    with JournalReader(directory, 0, lambda data, pos, last: exchange.replay_bytes(
            data, pos, last, log)) as reader:
        for seq, cmd in reader.records():
            handed += 1
            log += changes(seq, cmd, exchange.apply(cmd))
        return log, reader.last_seq - handed


@st.composite
def _with_aon(draw: st.DrawFn) -> list[Command]:
    """streams() with some limit orders all-or-none (those that do not rest run in C)."""
    return [replace(cmd, all_or_none=True)
            if isinstance(cmd, c.PlaceOrder) and draw(st.integers(0, 3)) == 0 else cmd
            for cmd in draw(streams())]


@settings(max_examples=60, deadline=None)
@given(stream=_with_aon())
def test_the_native_log_is_the_reference_changes(tmp_path_factory: pytest.TempPathFactory,
                                                 stream: list[Command]) -> None:
    directory = tmp_path_factory.mktemp("j")
    _journal(directory, stream)
    log, _ = _native(directory)
    assert log == _reference(stream)


def test_the_native_engine_logs_every_kind_it_replays(tmp_path: Path) -> None:
    m = IDS[0]
    stream = [*setup(),
              c.AddCapacity(PROVIDERS[0], m, 5, ts_ns=1), c.RemoveCapacity(PROVIDERS[0], m, 1, 2),
              c.Deposit(TRADERS[0], 50, 3), c.Withdraw(TRADERS[0], 7, 4),
              c.PlaceOrder("s", PROVIDERS[0], Side.SELL, (m,), 100, 5, ts_ns=5),
              c.PlaceOrder("b", TRADERS[0], Side.BUY, (m,), 101, 2, TimeInForce.IOC, ts_ns=6),
              c.ModifyOrder("s", PROVIDERS[0], 102, 3, ts_ns=7),
              c.PlaceOrder("a", TRADERS[0], Side.BUY, (m,), 102, 1, TimeInForce.IOC,
                           all_or_none=True, ts_ns=7),
              c.MarketOrder("m", TRADERS[0], Side.BUY, (m,), 1, 500, TimeInForce.IOC, ts_ns=8),
              c.CancelOrder("s", PROVIDERS[0], 9), c.Tick(2_000_000_000)]
    _journal(tmp_path, stream)
    log, taken = _native(tmp_path)
    assert log == _reference(stream)
    # all but the accounts opened and markets listed, in C
    assert taken == sum(not isinstance(cmd, c.OpenAccount | c.ListMarket) for cmd in stream)
    assert {change[0] for change in log} == set(range(7))


def _rows(db: object) -> dict[str, list[tuple[object, ...]]]:
    with db.connect() as conn:  # type: ignore[attr-defined]
        return {table.name: sorted(tuple(row) for row in conn.execute(select(table)))
                for table in metadata.sorted_tables}


@settings(max_examples=30, deadline=None)
@given(stream=_with_aon(), cuts=st.lists(st.integers(0, 200), max_size=5))
def test_the_follower_tables_are_the_reference_tables(
        tmp_path_factory: pytest.TempPathFactory, stream: list[Command],
        cuts: list[int]) -> None:
    """The journal grows in pieces, polled after each by a fresh projector (as after a
    restart) over one replica; the tables equal the reference's at the end."""
    directory = tmp_path_factory.mktemp("f")
    reference, fast = (connect(f"sqlite:///{directory / name}") for name in ("r.db", "f.db"))
    exchange = Exchange()
    Projector(reference).project([(seq, cmd, exchange.apply(cmd))
                                  for seq, cmd in enumerate(stream, 1)])
    bounds = sorted({0, len(stream), *(cut for cut in cuts if cut < len(stream))})
    with Journal(directory / "journal", FsyncPolicy.NEVER) as journal, \
            JournalChanges(directory / "journal", NativeExchange(), 0) as source:
        for lo, hi in zip(bounds, bounds[1:], strict=False):
            journal.append_many(stream[lo:hi])
            SqliteProjector(fast).project_changes(*source.poll())
    assert projected_seq(fast) == len(stream)
    assert _rows(fast) == _rows(reference)
    for db in (reference, fast):
        db.dispose()
