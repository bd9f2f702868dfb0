"""Snapshots restored straight into C (``engine_restore.c``) against the reference's restore.

The native engine reads a snapshot's open orders and used ids from the file's bytes
(:func:`~auctioneer.exchange.durable.split_saved`,
:meth:`~auctioneer.exchange.NativeExchange.restore_parts`); the reference decodes the
whole file and rebuilds its objects (:func:`~auctioneer.exchange.snapshot.restore_into`).
Each test restores the same bytes both ways: the same state hash, the same events for the
commands after, the same bytes for the next snapshot -- or, for a file that is not what
the engines write, the same outcome (C declines and the reference decides, or both refuse).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from auctioneer.exchange import Exchange, NativeExchange, _engine
from auctioneer.exchange import commands as c
from auctioneer.exchange.durable import (
    load_snapshot,
    restore_saved,
    split_saved,
    write_snapshot,
)
from auctioneer.exchange.model import Side, TimeInForce
from auctioneer.exchange.snapshot import canonical_json, decode_saved, saved_json
from auctioneer.exchange.usedids import compact_ids

from .test_native_snapshot import ORDER_ID
from .test_properties import (
    ACCOUNTS,
    IDS,
    TRADERS,
    market_lists,
    prices,
    quantities,
    setup_commands,
)

pytestmark = pytest.mark.native

# An order, a cancel of one, or a block of consecutive counter ids (runs longer than the
# eight ids C hashes ahead when it expands a run).
ORDER = st.tuples(ORDER_ID, st.sampled_from(ACCOUNTS), market_lists, prices, quantities,
                  st.integers(0, 5), st.sampled_from(["place", "place", "place", "cancel"]))
BLOCK = st.tuples(st.integers(0, 2000), st.integers(1, 40))
STEP = st.one_of(ORDER, BLOCK)


def commands_of(steps: list[Any], ts: int) -> list[c.Command]:
    """The commands of ``steps`` from time ``ts`` on: a trader buys (over all its markets, now
    and then all-or-none or post-only), a provider sells in its first market; a block's
    orders are IOC bids that rest nowhere."""
    out: list[c.Command] = []
    for step in steps:
        ts += 1
        if len(step) == 2:
            start, count = step
            out += [c.PlaceOrder(f"b{n:x}", "t1", Side.BUY, (IDS[0],), 2, 1,
                                 tif=TimeInForce.IOC, ts_ns=ts)
                    for n in range(start, start + count)]
            continue
        oid, account, markets, price, quantity, rare, kind = step
        if kind == "cancel":
            out.append(c.CancelOrder(oid, account, ts_ns=ts))
            continue
        buy = account in TRADERS
        out.append(c.PlaceOrder(oid, account, Side.BUY if buy else Side.SELL,
                                tuple(markets) if buy else (markets[0],), price, quantity,
                                all_or_none=rare == 1, post_only=rare == 2, ts_ns=ts))
    return out


def saved_bytes(state: bytes, seq: int = 7) -> bytes:
    """A saved file of canonical state bytes, with their hash."""
    return saved_json(seq, hashlib.sha256(state).hexdigest(), state)


def in_c(data: bytes) -> NativeExchange | None:
    split = split_saved(data)
    assert split is not None
    saved, spans = split
    return NativeExchange.restore_parts(saved.state, *spans)


def outcome(restore: Any) -> str:
    """The state hash an exchange restores to, or that it fails with ValueError (any other
    error fails the test: a bad file must not stop a service's start with a traceback)."""
    try:
        return str(restore().state_hash())
    except ValueError:
        return "ValueError"


@settings(max_examples=80, deadline=None)
@given(st.lists(STEP, max_size=40), st.lists(STEP, max_size=20))
def test_restored_in_c_it_is_the_references_restore_and_goes_on_alike(
        before: list[Any], after: list[Any]) -> None:
    ex = Exchange()
    ex.apply_many(setup_commands(money=10_000, capacity=50) + commands_of(before, 0))
    data = saved_bytes(ex.snapshot_json())
    native = in_c(data)
    assert native is not None  # C takes every snapshot an engine writes
    assert native.native and not native._orders and not native._used_ids  # no object per order
    reference = restore_saved(decode_saved(data), Exchange)
    assert native.state_hash() == reference.state_hash() == ex.state_hash()
    native.check()
    for cmd in commands_of(after, 10**6):  # orders meet the restored ones; used ids refused
        assert native.apply(cmd) == reference.apply(cmd), cmd
    assert native.snapshot_json() == reference.snapshot_json()


def test_load_snapshot_restores_in_c_and_the_service_goes_on(tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch
                                                             ) -> None:
    ex = Exchange()
    ex.apply_many(setup_commands(money=10_000, capacity=50) + commands_of(
        [(f"o{i:x}", ACCOUNTS[i % 5], [IDS[0], IDS[2]][: 1 + i % 2], 94 + 2 * (i % 7), 1 + i % 3,
          i % 6, "place") for i in range(300)] + [(0, 500)], 0))
    write_snapshot(tmp_path, 9, ex)
    monkeypatch.setattr(NativeExchange, "restore", None)  # the reference's path is not taken
    loaded = load_snapshot(tmp_path, engine_class=NativeExchange)
    assert ex.orders("t1") and loaded is not None and loaded[0] == 9
    assert loaded[1].state_hash() == ex.state_hash()
    assert all(loaded[1].orders(a) == ex.orders(a) for a in ACCOUNTS)  # copied out of C


def test_what_c_declines_restores_through_the_reference(tmp_path: Path) -> None:
    # An id too long to decode in C (escaped, over 4 KiB), and one not among the used ids.
    long_id = '"' * 5000
    ex = Exchange()
    ex.apply_many(setup_commands(money=10_000, capacity=50) + commands_of(
        [(long_id, "t1", [IDS[0]], 96, 1, 0, "place"),
         ("x", "t2", [IDS[0]], 96, 1, 0, "place")], 0))
    data = saved_bytes(ex.snapshot_json())
    assert in_c(data) is None
    (tmp_path / "snapshot-00000000000000000007.json").write_bytes(data)
    loaded = load_snapshot(tmp_path, engine_class=NativeExchange)
    assert loaded is not None and loaded[1].state_hash() == ex.state_hash()
    state = json.loads(ex.snapshot_json())
    state["used_ids"] = compact_ids({long_id})  # "x" rests but was never used
    assert in_c(saved_bytes(canonical_json(state))) is None


def base_state() -> dict[str, Any]:
    ex = Exchange()
    ex.apply_many(setup_commands(money=10_000, capacity=50) + commands_of(
        [("k1", "t1", [IDS[0], IDS[1]], 96, 2, 0, "place"),
         ("k2", "p1", [IDS[2]], 110, 1, 0, "place")], 0))
    return dict(json.loads(ex.snapshot_json()))


def same_outcome(state: dict[str, Any]) -> None:
    """``state``'s file restores alike read in C (declining or not) and read whole; what C
    takes, the reference takes too, to the same state."""
    data = saved_bytes(canonical_json(state))
    split = split_saved(data)
    assert split is not None
    whole = outcome(lambda: restore_saved(decode_saved(data), NativeExchange))
    assert outcome(lambda: restore_saved(split[0], NativeExchange, split[1])) == whole
    taken = in_c(data)
    if taken is not None and taken.state_hash() == split[0].state_hash:
        assert outcome(lambda: restore_saved(decode_saved(data), Exchange)) == whole


# Used ids' forms near the canonical one: ids and runs over a few stems (one ending in a
# hex digit, one in zeros, non-ASCII, a quote), then perhaps unsorted, doubled or split.
STEM = st.sampled_from(["o", "o0", "a1", "x-", "\u00e9", 'q"', "", "k"])
NEAR = st.tuples(st.sets(st.one_of(ORDER_ID, st.tuples(STEM, st.integers(0, 40)).map(
    lambda p: p[0] + format(p[1], "x")))).map(lambda ids: compact_ids(ids | {"k1", "k2"})),
    st.sampled_from(["keep", "reverse", "double", "split", "one", "join", "shift", "unshift"]),
    st.integers(0, 100))


def mutated(form: dict[str, list[Any]], how: str, at: int) -> dict[str, list[Any]]:
    ids, runs = list(form["ids"]), [list(r) for r in form["runs"]]
    if how == "reverse":
        ids.reverse()
        runs.reverse()
    elif how == "double" and ids:
        ids.insert(at % len(ids), ids[at % len(ids)])
    elif how == "split" and runs:  # a run cut in two that touch
        stem, first, count = runs[at % len(runs)]
        runs[at % len(runs): at % len(runs) + 1] = [[stem, first, 1], [stem, first + 1,
                                                                          count - 1]]
    elif how == "one" and runs:  # a run of one, which is listed whole
        runs[at % len(runs)][2] = 1
    elif how == "join" and runs:  # a run that takes in the next id, listed whole too
        runs[at % len(runs)][2] += 1
    elif how == "shift" and runs:  # its stem's last hex digit made part of the number
        stem, first, count = runs[at % len(runs)]
        if stem[-1:] in set("0123456789abcdef"):
            runs[at % len(runs)] = [stem[:-1], int(stem[-1] + format(first, "x"), 16), count]
    elif how == "unshift" and runs:  # the number's first digit made part of its stem
        stem, first, count = runs[at % len(runs)]
        digits = format(first, "x")
        runs[at % len(runs)] = [stem + digits[0], int(digits[1:] or "0", 16), count]
    return {"ids": ids, "runs": runs}


@settings(max_examples=150, deadline=None)
@given(NEAR)
def test_a_used_ids_form_restores_in_c_as_the_reference_restores_it(
        near: tuple[dict[str, list[Any]], str, int]) -> None:
    form, how, at = near
    same_outcome({**base_state(), "used_ids": mutated(form, how, at)})


@pytest.mark.parametrize("huge", [2**63, 10**30, -1, 0])
@pytest.mark.parametrize("where", ["price", "remaining", "seq", "ts", "first", "count"])
def test_numbers_out_of_range_restore_as_the_reference_restores_them(huge: int,
                                                                     where: str) -> None:
    state = base_state()
    field = {"price": 4, "remaining": 5, "seq": 8, "ts": 9}
    if where in field:
        state["orders"][0][field[where]] = huge
    else:
        state["used_ids"]["runs"] += [["n", huge, 3] if where == "first" else ["n", 5, huge]]
    same_outcome(state)


def test_spans_finds_each_member_of_a_compact_object() -> None:
    data = b'xx{"a":[1,{"b":"]}"}],"c":"\\"}","d":-4,"e":{}}yy'
    spans = _engine.spans(data, 2, len(data) - 2)
    assert spans is not None
    assert {k: json.loads(data[a:b]) for k, (a, b) in spans.items()} == {
        "a": [1, {"b": "]}"}], "c": '"}', "d": -4, "e": {}}
    assert _engine.spans(b"{}", 0, 2) == {}
    for bad in (b'{"a":1,"a":2}', b'{"a":1,"a":2,"b":3}', b'{"a": 1}', b'{"a":1', b'{"a":"1}',
                b'["a"]', b'{"\\u0061":1}', b'{"a":1}x', b'{"a":}', b""):
        assert _engine.spans(bad, 0, len(bad)) is None, bad
    with pytest.raises(ValueError, match="spans"):
        _engine.spans(b"{}", 1, 3)
