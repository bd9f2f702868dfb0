"""The snapshot bytes the C engine writes (``engine_snapshot.c``) against the reference.

While the native engine holds the state in C, :meth:`NativeExchange.snapshot_json` takes
the accounts, capacity, holdings, open orders, used ids and counters from C as JSON. Each
test compares those bytes with ``canonical_json(snapshot_of(...))`` of the same state
copied into the Python objects (the reference), and the files :func:`write_snapshot`
writes with those of the Python engine run on the same commands. Ids and names are drawn
with quotes, backslashes, control characters and non-ASCII, and the kept order of the
used ids is merged with new ids over several snapshots.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from auctioneer.exchange import Exchange, NativeExchange, _engine
from auctioneer.exchange import commands as c
from auctioneer.exchange.durable import load_snapshot, write_snapshot
from auctioneer.exchange.model import Market, Role, Side, TimeInForce
from auctioneer.exchange.native import _SIDE_WORDS, _TRADED_KEYS
from auctioneer.exchange.snapshot import (
    canonical_json,
    saved_json,
    saved_pieces,
    snapshot_json,
    snapshot_of,
    snapshot_pieces,
)

pytestmark = pytest.mark.native

NAME = st.text(st.characters(exclude_categories=("Cs",)), min_size=1, max_size=5)
MARKETS = ("r/b", "r/a\u00e9")  # listed out of sorted order, one with non-ASCII
# Counters (hex and decimal, some with leading zeros), which the used ids' runs join, their
# stems as ids, long ids sharing long prefixes (C compares 8 bytes at once, then the rest),
# and any text.
LONG_ID = st.tuples(st.text("xy\x00\u00e9", max_size=3), st.sampled_from(["g", "-1", "-2", "x0"])
                    ).map(lambda parts: "long-prefix-" + "".join(parts))
ORDER_ID = st.one_of(NAME, LONG_ID, st.sampled_from(["o", "c-", "z", "zg"]),  # the stems, whole
                     st.integers(0, 300).map(lambda n: f"o{n:x}"),
                     st.integers(0, 40).map(lambda n: f"c-{n}"),
                     st.integers(0, 60).map(lambda n: f"z{n:03x}"))
ORDER = st.tuples(ORDER_ID, st.booleans(), st.integers(1, 12), st.integers(1, 4), st.booleans())


def setup(provider: str, trader: str) -> list[c.Command]:
    """Two markets, a provider with capacity in each and a funded trader."""
    out: list[c.Command] = [c.OpenAccount(trader, Role.TRADER),
                            c.OpenAccount(provider, Role.PROVIDER),
                            c.Deposit(trader, 10**9), c.Deposit(provider, 10**9)]
    for m in MARKETS:
        out += [c.ListMarket(Market.of(m, tick_size=1, base_price=5)),
                c.AddCapacity(provider, m, 10**6)]
    return out


def orders(batch: list[tuple[str, bool, int, int, bool]], provider: str, trader: str,
           start: int) -> list[c.Command]:
    """Limit orders (some IOC), each in one of the markets; a seller is the provider."""
    return [c.PlaceOrder(oid, trader if buy else provider, Side.BUY if buy else Side.SELL,
                       (MARKETS[(start + i) % 2],), price, quantity,
                       tif=TimeInForce.IOC if ioc else TimeInForce.GTC, ts_ns=start + i)
            for i, (oid, buy, price, quantity, ioc) in enumerate(batch)]


def reference_json(ex: NativeExchange) -> bytes:
    ex._sync()
    return canonical_json(snapshot_of(ex))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(ORDER, max_size=25), min_size=1, max_size=4),
       st.tuples(NAME, NAME).filter(lambda names: names[0] != names[1]))
def test_c_writes_the_references_bytes_snapshot_after_snapshot(
        batches: list[list[tuple[str, bool, int, int, bool]]], names: tuple[str, str]) -> None:
    provider, trader = names
    ex, native = Exchange(), NativeExchange()
    for engine in (ex, native):
        engine.apply_many(setup(provider, trader))
    seen = 0
    for batch in batches:
        commands = orders(batch, provider, trader, seen)
        seen += len(commands)
        ex.apply_many(commands)
        native.apply_many(commands)
        assert native.native or not seen  # every order here runs in C
        got = native.snapshot_json()
        assert got == reference_json(native)
        assert got == ex.snapshot_json()


@settings(max_examples=25, deadline=None)
@given(st.lists(ORDER, min_size=1, max_size=20), st.lists(ORDER, max_size=20))
def test_ids_restored_from_a_snapshot_are_listed_with_the_new_ones(
        before: list[tuple[str, bool, int, int, bool]],
        after: list[tuple[str, bool, int, int, bool]]) -> None:
    first = NativeExchange()
    first.apply_many(setup("p", "t") + orders(before, "p", "t", 0))
    native = NativeExchange.restore(first.snapshot())
    ex = Exchange.restore(first.snapshot())
    commands = orders(after, "p", "t", len(before))
    ex.apply_many(commands)
    native.apply_many(commands + [c.CancelOrder(oid, "t") for oid, *_ in after[:3]])
    ex.apply_many([c.CancelOrder(oid, "t") for oid, *_ in after[:3]])
    assert native.native
    assert native.snapshot_json() == reference_json(native) == ex.snapshot_json()


def test_the_snapshot_file_is_the_references_and_restores(tmp_path: Path) -> None:
    commands = setup("p", "t") + orders(
        [(f"o{i:x}", i % 3 != 0, 3 + i % 7, 1 + i % 3, i % 5 == 0) for i in range(600)],
        "p", "t", 0)
    for name, engine in (("python", Exchange), ("native", NativeExchange)):
        ex = engine()
        ex.apply_many(commands)
        (tmp_path / name).mkdir()
        write_snapshot(tmp_path / name, 7, ex)
    native_file = next((tmp_path / "native").iterdir()).read_bytes()
    assert native_file == next((tmp_path / "python").iterdir()).read_bytes()
    loaded = load_snapshot(tmp_path / "native", engine_class=NativeExchange)
    assert loaded is not None and loaded[0] == 7
    reference = Exchange()
    reference.apply_many(commands)
    assert loaded[1].state_hash() == reference.state_hash()
    # Written from pieces (snapshot_pieces, saved_pieces): the bytes json.dumps makes whole.
    state = snapshot_of(reference)
    digest = hashlib.sha256(canonical_json(state)).hexdigest()
    assert reference.state_hash() == digest
    assert native_file == canonical_json({"hash": digest, "seq": 7, "state": state})


@given(st.dictionaries(st.text(max_size=6), st.integers() | st.text(max_size=4), max_size=4),
       st.integers(0, 2**63), st.lists(st.binary(max_size=3), max_size=3))
def test_saved_json_of_pieces_is_the_whole_documents_canonical_json(
        labels: dict[str, Any], seq: int, pieces: list[bytes]) -> None:
    labels = {k: v for k, v in labels.items() if k not in ("hash", "seq", "state")}
    state = {"k": [1, "\u00e9"]}
    whole = canonical_json({**labels, "hash": "h", "seq": seq, "state": state})
    assert saved_json(seq, "h", canonical_json(state), labels) == whole
    # a state given in pieces lands whole and in place, whatever its bytes
    joined = b"".join(saved_pieces(seq, "h", [*pieces, b"!"], labels))
    assert joined == saved_json(seq, "h", b"".join(pieces) + b"!", labels)
    assert snapshot_json(Exchange()) == b"".join(snapshot_pieces(Exchange()))


@settings(max_examples=40, deadline=None)
@given(st.lists(ORDER, min_size=2, max_size=40), st.data())
def test_open_orders_are_listed_by_arrival_whatever_bits_their_seqs_use(
        batch: list[tuple[str, bool, int, int, bool]], data: st.DataObject) -> None:
    # C sorts the open orders by seq 11 bits a pass: seqs spread up to 2^63 take one to six.
    ex = Exchange()
    ex.apply_many(setup("p", "t") + orders(batch, "p", "t", 0))
    state = snapshot_of(ex)
    rows = state["orders"]
    top = data.draw(st.sampled_from([2**11, 2**22, 2**40, 2**63 - 1]))
    seqs = sorted(data.draw(st.sets(st.integers(1, top - 1), min_size=len(rows),
                                    max_size=len(rows))))
    for row, seq in zip(rows, seqs, strict=True):
        row[8] = seq
    state["seq"] = top
    native = NativeExchange.restore(state)
    native.apply(c.Deposit("t", 1))
    reference = Exchange.restore(state)
    reference.apply(c.Deposit("t", 1))
    assert native.native
    assert native.snapshot_json() == reference_json(native) == reference.snapshot_json()


def test_an_id_c_cannot_hold_leaves_the_snapshot_to_the_reference() -> None:
    # An id with no UTF-8 form is taken by the reference only; C must not write a used-id
    # list without it, so the reference writes the snapshot, and fails as it does.
    native, ex = NativeExchange(), Exchange()
    odd = c.PlaceOrder("\ud800", "t", Side.BUY, (MARKETS[0],), 5, 1, tif=TimeInForce.IOC)
    for engine in (native, ex):
        engine.apply_many(setup("p", "t") + [odd] + orders([("x", True, 5, 1, False)],
                                                           "p", "t", 1))
    assert native.native
    for engine in (native, ex):
        with pytest.raises(UnicodeEncodeError):
            engine.snapshot_json()


@settings(max_examples=40, deadline=None)
@given(st.lists(ORDER, min_size=1, max_size=40),
       st.tuples(NAME, NAME).filter(lambda names: names[0] != names[1]))
def test_c_writes_the_trade_tapes_as_the_reference_does(
        batch: list[tuple[str, bool, int, int, bool]], names: tuple[str, str]) -> None:
    native = NativeExchange()
    native.apply_many(setup(*names) + orders(batch, *names, 0))
    native.snapshot_json()  # the trades C buffered, handed to the tapes
    tapes = _engine.tapes_json(sorted(native._trades.items()), _TRADED_KEYS, "traded",
                               _SIDE_WORDS)
    assert tapes == canonical_json(snapshot_of(native)["trades"])  # not None: C wrote them
    assert _engine.tapes_json([("m", [(1, 2**63)])], (("a", 1),), "t", ()) is None
    assert _engine.tapes_json([("m", [(1, "\ud800")])], (("a", 1),), "t", ()) is None


@pytest.mark.parametrize(("keys", "words", "error"), [
    (("a",), (), TypeError),
    ((("a",),), (), TypeError),
    ((("a", 1, 2),), (), TypeError),
    (((1, 1),), (), TypeError),
    ((("a", "1"),), (), TypeError),
    ((("a", -2),), (), ValueError),
    ((("a", 2**70),), (), OverflowError),
    ((("a", 1),), ((1,),), TypeError),
    ((("a", 1),), ((1, 2),), TypeError),
    ((("a", 1),), ("x",), TypeError),
])
def test_tapes_json_refuses_keys_and_words_of_another_shape(
        keys: tuple[Any, ...], words: tuple[Any, ...], error: type[Exception]) -> None:
    with pytest.raises(error):
        _engine.tapes_json([("m", [(1, 2)])], keys, "t", words)
    with pytest.raises(TypeError):
        _engine.tapes_json(["m"], (("a", 1),), "t", ())


def test_tapes_json_holds_a_tape_that_its_own_iteration_drops() -> None:
    tapes: list[tuple[str, Any]] = []

    class Tape:
        def __iter__(self) -> Iterator[tuple[int, int]]:
            tapes.clear()  # the last reference to this tape but the one C holds
            yield (1, 2)

    tapes += [("m", Tape()), ("n", [(3, 4)])]
    assert _engine.tapes_json(tapes, (("a", 1),), "t", ()) == b'{"m":[{"a":2}]}'
