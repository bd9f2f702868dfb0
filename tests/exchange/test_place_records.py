"""Journal records of orders written in C (``engine_batch.c`` ``place_records``, used by
``Journal.append_many``) against ``encode_record``, the reference: the same bytes, or C leaves
the command to the reference."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from auctioneer.exchange import (
    CancelOrder,
    Deposit,
    FsyncPolicy,
    Journal,
    PlaceOrder,
    Side,
    Tick,
    TimeInForce,
)
from auctioneer.exchange._engine import place_records
from auctioneer.exchange.journal import JournalReader, encode_record

pytestmark = pytest.mark.native

_INTS = st.one_of(st.integers(-(2**64), 2**64), st.sampled_from(
    [0, 1, -1, 2**63 - 1, 2**63, -(2**63), -(2**63) - 1, 10**30, -(10**30)]))
_TEXT = st.one_of(st.sampled_from(["o1", "load-ab12-0", "r/x", "", 'a"b', "a\\b", "\x7f",
                                   "\x1f", "é", "\ud800", " ~"]), st.text(max_size=8))
_VALUES: dict[str, st.SearchStrategy[Any]] = {
    "order_id": _TEXT,
    "account": _TEXT,
    "side": st.one_of(st.sampled_from(Side), st.just("buy")),
    "markets": st.one_of(st.lists(_TEXT, max_size=3).map(tuple), st.lists(_TEXT, max_size=2)),
    "price": st.one_of(_INTS, st.just(True), st.just(1.5)),
    "quantity": _INTS,
    "tif": st.one_of(st.sampled_from(TimeInForce), st.just("gtc")),
    "all_or_none": st.one_of(st.booleans(), st.just(0)),
    "post_only": st.one_of(st.booleans(), st.just(1)),
    "ts_ns": _INTS,
}
_PLAIN = PlaceOrder("o17979cfe3d85cd15", "load-ab12cd34-0", Side.BUY, ("load-1/cpu.small",),
                    40_000, 3, TimeInForce.IOC, False, True, 1_700_000_000_123_456_789)


@st.composite
def _command(draw: st.DrawFn) -> Any:
    """A PlaceOrder, plain or with any value in some fields, or another command."""
    kind = draw(st.integers(0, 9))
    if kind == 0:
        return draw(st.sampled_from([Tick(5), CancelOrder("o1", "a", 3), Deposit("a", 7, 1)]))
    fields = {name: getattr(_PLAIN, name) for name in _VALUES}
    for name in draw(st.lists(st.sampled_from(sorted(_VALUES)), max_size=3)):
        fields[name] = draw(_VALUES[name])
    return PlaceOrder(**fields)


def _reference(commands: list[Any], seq: int) -> bytes:
    return b"".join(encode_record(seq + i, c) for i, c in enumerate(commands))


@settings(max_examples=300, deadline=None)
@given(commands=st.lists(_command(), max_size=8), start=st.integers(0, 3),
       seq=st.integers(1, 2**63 - 100))
def test_c_writes_the_reference_bytes_or_leaves_the_command(commands: list[Any], start: int,
                                                           seq: int) -> None:
    start = min(start, len(commands))
    records, stop = place_records(commands, start, seq)
    assert start <= stop <= len(commands)
    assert records == _reference(commands[start:stop], seq)
    if stop < len(commands):  # only at a command that is not an order written plainly
        assert type(commands[stop]) is not PlaceOrder or not _plain(commands[stop])


def _plain(command: PlaceOrder) -> bool:
    texts = [command.order_id, command.account, *command.markets]
    ints = [command.price, command.quantity, command.ts_ns]
    return (all(type(t) is str and t.isascii() and t.isprintable() and '"' not in t
                 and "\\" not in t for t in texts) and type(command.markets) is tuple
            and all(type(i) is int and -(2**63) <= i < 2**63 for i in ints)
            and isinstance(command.side, Side) and isinstance(command.tif, TimeInForce)
            and type(command.all_or_none) is bool and type(command.post_only) is bool)


def test_a_start_past_the_end_is_refused() -> None:
    with pytest.raises(ValueError, match="start"):
        place_records([_PLAIN], 2, 1)


def test_plain_orders_are_all_written_in_c() -> None:
    commands = [_PLAIN, PlaceOrder("o2", "p", Side.SELL, ("a/b", "c/d"), 5, 1,
                                   TimeInForce.FOK, True, False, 0), _PLAIN]
    records, stop = place_records(commands, 0, 2**63)
    assert stop == 3 and records == _reference(commands, 2**63)


def test_every_digit_count_is_written_as_the_reference() -> None:
    """The ints' writer (two digits a step) at each power of ten and one below, signed."""
    edges = [v for k in range(19) for v in (10**k - 1, 10**k)] + [2**63 - 1]
    commands = [replace(_PLAIN, price=v, quantity=-v, ts_ns=v // 7) for v in edges]
    commands.append(replace(_PLAIN, quantity=-(2**63)))
    records, stop = place_records(commands, 0, 1)
    assert stop == len(commands) and records == _reference(commands, 1)


def test_a_journal_of_mixed_commands_reads_back_and_holds_the_reference_bytes(
        tmp_path: Path) -> None:
    commands: list[Any] = [Tick(1), _PLAIN, PlaceOrder("o\n", "a", Side.BUY, ("x/y",), 1, 1),
                           _PLAIN, CancelOrder("o1", "a", 3), _PLAIN]
    with Journal(tmp_path, FsyncPolicy.NEVER) as journal:
        assert journal.append_many(iter(commands[:1])) == [1]
        assert journal.append_many(commands[1:]) == [2, 3, 4, 5, 6]
    [segment] = tmp_path.glob("journal-*.log")
    assert segment.read_bytes() == _reference(commands, 1)
    with JournalReader(tmp_path) as reader:
        assert [command for _, command in reader.poll()] == commands
