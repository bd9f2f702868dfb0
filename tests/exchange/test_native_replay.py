"""Journal replay on the native engine's C path against the Python reference.

Replay reads each record straight into C values and applies it there, with
order ids, accounts and markets in C tables and the replayed trades kept in C
until read. These tests recover the same journal with both engines and
require the same state, then go on applying commands to both and require the
same events (so the used ids, open orders, tapes and price indexes C rebuilt
are the reference's). A second test damages or rewrites records -- ints at
2**63 and 10**30, floats, escapes, non-ASCII, unknown keys, flipped bytes with
and without a fresh checksum, torn tails -- and requires both engines to
reach the same outcome, state or error.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from auctioneer.exchange import (
    AddCapacity,
    CancelOrder,
    Command,
    Deposit,
    Exchange,
    FsyncPolicy,
    MarketOrder,
    ModifyOrder,
    NativeExchange,
    OpenAccount,
    PlaceOrder,
    RemoveCapacity,
    Role,
    Side,
    Tick,
    TimeInForce,
    Withdraw,
    open_exchange,
)
from auctioneer.exchange.journal import encode_record, segments

from .test_native_engine import journal_of, record
from .test_properties import (
    ACCOUNTS,
    IDS,
    PROVIDERS,
    market_lists,
    prices,
    quantities,
    setup_commands,
    tifs,
)

pytestmark = pytest.mark.native

ORDER_IDS = ["o0", "o1", "o2", "o3", "o4", "o5", "é6", "o 7", "o\\8"]
"""A few ids, so orders reuse them (refused as used), and two the C path declines (one
not ASCII, one escaped in the JSON)."""


@st.composite
def commands(draw: st.DrawFn) -> Command:
    kind = draw(st.sampled_from(["place"] * 4 + ["market", "cancel", "modify", "money",
                                                 "capacity", "tick"]))
    order_id = draw(st.sampled_from(ORDER_IDS))
    account = draw(st.sampled_from(ACCOUNTS))
    market = draw(st.sampled_from(IDS))
    buy = draw(st.booleans())
    side = Side.BUY if buy else Side.SELL
    seller = account if buy else draw(st.sampled_from(PROVIDERS))
    ts = draw(st.integers(0, 3_000_000_000))  # prices publish at each new second
    quantity = draw(quantities)
    markets = tuple(draw(market_lists)) if buy else (market,)  # a bid may be cross-market
    if kind == "place":
        return PlaceOrder(order_id, seller, side, markets, draw(prices), quantity,
                          draw(tifs), all_or_none=draw(st.integers(0, 3)) == 0, ts_ns=ts)
    if kind == "market":
        return MarketOrder(order_id, seller, side, markets, quantity,
                           draw(st.integers(1, 800)) if buy else None,
                           draw(st.sampled_from([TimeInForce.IOC, TimeInForce.FOK])), ts)
    if kind == "cancel":
        return CancelOrder(order_id, seller, ts)
    if kind == "modify":
        return ModifyOrder(order_id, seller, draw(st.none() | prices),
                           draw(st.none() | quantities), ts)
    if kind == "money":
        return (Deposit if buy else Withdraw)(account, quantity * 100, ts)
    if kind == "capacity":
        return (AddCapacity if buy else RemoveCapacity)(seller, market, quantity, ts)
    return Tick(ts)


def recover(directory: Path, engine: type[Exchange]) -> Exchange | str:
    """The exchange recovered from a copy of ``directory`` (opening cuts a torn tail) with
    ``engine``, or its error."""
    copy = directory.with_name(f"{directory.name}-{engine.__name__}")
    shutil.copytree(directory, copy)
    try:
        exchange, journal = open_exchange(copy, FsyncPolicy.NEVER, engine)
    except Exception as exc:  # compared between engines, not expected
        return f"{type(exc).__name__}: {exc}"
    journal.close()
    return exchange


@settings(max_examples=60, deadline=None)
@given(st.lists(commands(), max_size=50), st.lists(commands(), max_size=15))
def test_replay_then_apply_gives_the_reference_events(
        tmp_path_factory: pytest.TempPathFactory, before: list[Command],
        after: list[Command]) -> None:
    directory = tmp_path_factory.mktemp("journal")
    journal_of(directory, [*setup_commands(money=5_000, capacity=20), *before])
    want, got = recover(directory, Exchange), recover(directory, NativeExchange)
    assert isinstance(want, Exchange) and isinstance(got, NativeExchange)
    event(f"native after replay: {got.native}")
    assert got.state_hash() == want.state_hash()
    for cmd in after:  # used ids, open orders, tapes and prices as the reference has them
        assert got.apply(cmd) == want.apply(cmd), cmd
    for market in IDS:
        assert got.ohlc(market, 1_000_000_000) == want.ohlc(market, 1_000_000_000)
    assert got.state_hash() == want.state_hash()


def payload_of(cmd: Command) -> bytes:
    return encode_record(1, cmd)[16:]


ODD_VALUES = [2**63, 2**63 - 1, 10**30, -(2**63) - 1, -1, 0, 1.5, "x", None, True, [], {},
              "é", "a\"b", "\\u0031", 10**18, 10**19 - 1, -(2**63), 12345678901234567,
              "abcdefgh\"ij", "abcdefghijé", "abcdefghijklmno\n", "abcdefg\x7f", "buyer",
              "sell", "fok", ["m1", "m2"], [1], "01", "-"]
"""Values a rewritten field takes: past each field's range, of the wrong JSON type, and
strings whose escape, quote, control or non-ASCII byte falls at different places of the
8-byte words the C scan reads."""


@settings(max_examples=120, deadline=None)
@given(st.lists(commands(), min_size=1, max_size=6), st.data())
def test_a_rewritten_or_damaged_record_gives_both_engines_one_outcome(
        tmp_path_factory: pytest.TempPathFactory, cmds: list[Command],
        data: st.DataObject) -> None:
    directory = tmp_path_factory.mktemp("journal")
    setup = setup_commands(money=5_000, capacity=20)
    journal_of(directory, setup)
    payloads = [payload_of(cmd) for cmd in cmds]
    at = data.draw(st.integers(0, len(payloads) - 1))
    how = data.draw(st.sampled_from(["value", "key", "order", "byte", "damage", "torn"]))
    event(how)
    fields = json.loads(payloads[at])
    if how == "value":  # checksummed, so the reader decodes it (or refuses it) itself
        key = data.draw(st.sampled_from(sorted(fields)))
        fields[key] = data.draw(st.sampled_from(ODD_VALUES))
        payloads[at] = json.dumps(fields, separators=(",", ":"), sort_keys=True,
                                  ensure_ascii=data.draw(st.booleans())).encode()
    elif how == "order":  # the same command, its keys in another order: C reads it too
        keys = data.draw(st.permutations(sorted(fields)))
        payloads[at] = json.dumps({k: fields[k] for k in keys}, separators=(",", ":")).encode()
    elif how == "key":
        fields[data.draw(st.sampled_from(["extra", "type", "ts_ns"]))] = 1
        payloads[at] = json.dumps(fields, separators=(",", ":")).encode()
    elif how == "byte":
        raw = bytearray(payloads[at])
        raw[data.draw(st.integers(0, len(raw) - 1))] ^= data.draw(st.integers(1, 255))
        payloads[at] = bytes(raw)
    seq = len(setup)
    blob = bytearray(b"".join(record(seq + 1 + i, p) for i, p in enumerate(payloads)))
    if how in ("damage", "torn"):  # a bad checksum: corruption, or a torn tail at the end
        cut = data.draw(st.integers(16, len(blob) - 1))
        if how == "damage":
            blob[cut] ^= data.draw(st.integers(1, 255))
        else:
            del blob[cut:]
    with segments(directory)[-1].open("ab") as out:
        out.write(blob)
    want, got = recover(directory, Exchange), recover(directory, NativeExchange)
    if isinstance(want, Exchange) and isinstance(got, Exchange):
        assert got.state_hash() == want.state_hash()
    else:
        assert got == want


def test_a_replay_past_the_tape_length_keeps_the_reference_tape(tmp_path: Path) -> None:
    """More trades than a tape holds (TRADE_HISTORY), some across a publication: the
    tape keeps the same last ones, the price index the same pending trades."""
    crossing = [PlaceOrder(f"s{i}", PROVIDERS[i % 2], Side.SELL, (IDS[0],), 100, 1,
                           ts_ns=i * 2_000_000) for i in range(1200)]
    crossing += [PlaceOrder(f"b{i}", "t1", Side.BUY, (IDS[0],), 100, 1,
                            ts_ns=2_400_000_000 + i) for i in range(1100)]
    journal_of(tmp_path, [*setup_commands(money=10**6, capacity=2_000), *crossing])
    want, got = recover(tmp_path, Exchange), recover(tmp_path, NativeExchange)
    assert isinstance(want, Exchange) and isinstance(got, NativeExchange) and got.native
    assert len(want._trades[IDS[0]]) == want._trades[IDS[0]].maxlen
    assert got.state_hash() == want.state_hash()


SAMPLES = [PlaceOrder("x", "t1", Side.BUY, (IDS[0],), 100, 2, ts_ns=5),
           MarketOrder("x", "t1", Side.BUY, (IDS[0],), 2, 300, TimeInForce.IOC, 5),
           ModifyOrder("b", "t1", 98, 3, 5), CancelOrder("b", "t1", 5),
           Deposit("t1", 7, 5), Withdraw("t1", 7, 5), AddCapacity("p1", IDS[0], 3, 5),
           RemoveCapacity("p1", IDS[0], 3, 5), Tick(5)]
INT_FIELDS = [(cmd, key) for cmd in SAMPLES for key, value in json.loads(payload_of(cmd)).items()
              if type(value) is int]


@pytest.mark.parametrize("value", [2**63, 10**30, 2**63 - 1, -1], ids=str)
@pytest.mark.parametrize(("cmd", "key"), INT_FIELDS,
                         ids=[f"{cmd.kind}.{key}" for cmd, key in INT_FIELDS])
def test_every_int_a_replayed_record_carries_is_range_checked_in_c(
        tmp_path: Path, cmd: Command, key: str, value: int) -> None:
    """Each int field at 2**63, 10**30, the 64-bit maximum and -1, after a resting bid "b"
    (so a modify or cancel finds an order): the reference's outcome, state or error."""
    fields = json.loads(payload_of(cmd))
    fields[key] = value
    setup = [*setup_commands(money=5_000, capacity=20),
             PlaceOrder("b", "t1", Side.BUY, (IDS[0],), 96, 2, ts_ns=1)]
    journal_of(tmp_path, setup)
    with segments(tmp_path)[-1].open("ab") as out:
        out.write(record(len(setup) + 1,
                         json.dumps(fields, separators=(",", ":"), sort_keys=True).encode()))
    want, got = recover(tmp_path, Exchange), recover(tmp_path, NativeExchange)
    if isinstance(want, Exchange) and isinstance(got, Exchange):
        assert got.state_hash() == want.state_hash()
    else:
        assert got == want


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(INT_FIELDS), st.integers(1, 21), st.integers(0, 10**21),
       st.booleans(), st.booleans())
def test_an_int_of_every_length_reads_as_the_reference_reads_it(
        tmp_path_factory: pytest.TempPathFactory, field: tuple[Command, str], length: int,
        digits: int, negative: bool, last: bool) -> None:
    """An int field of 1 to 21 digits (C counts them eight bytes at a time), either sign, in
    the journal's key order or last of all (the few bytes after it are read one at a time):
    the reference's outcome, state or error."""
    cmd, key = field
    value = digits % 10**length * (-1 if negative else 1)
    fields = json.loads(payload_of(cmd))
    fields[key] = value
    keys = sorted(fields, key=lambda k: (last and k == key, k))
    directory = tmp_path_factory.mktemp("ints")
    setup = [*setup_commands(money=5_000, capacity=20),
             PlaceOrder("b", "t1", Side.BUY, (IDS[0],), 96, 2, ts_ns=1)]
    journal_of(directory, setup)
    with segments(directory)[-1].open("ab") as out:
        out.write(record(len(setup) + 1, json.dumps({k: fields[k] for k in keys},
                                                    separators=(",", ":")).encode()))
    want, got = recover(directory, Exchange), recover(directory, NativeExchange)
    if isinstance(want, Exchange) and isinstance(got, Exchange):
        assert got.state_hash() == want.state_hash()
    else:
        assert got == want


PREFIXED = {"a": Role.TRADER, "ab": Role.TRADER, "abc": Role.TRADER, "b": Role.TRADER,
            "p": Role.PROVIDER, "pq": Role.PROVIDER}
"""Accounts whose names are prefixes of one another."""


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(sorted(PREFIXED)), st.sampled_from(IDS),
                          st.booleans(), prices, quantities), min_size=1, max_size=40))
def test_names_that_prefix_one_another_are_each_found_as_themselves(
        tmp_path_factory: pytest.TempPathFactory,
        steps: list[tuple[str, str, bool, int, int]]) -> None:
    """Replay takes a record's account or market as one of the last two it found by their
    bytes and the closing quote after them: names that are prefixes of one another, in any
    order, each reach the reference's state, all of it replayed in C."""
    directory = tmp_path_factory.mktemp("prefixed")
    setup = setup_commands(money=5_000, capacity=20)
    for name, role in PREFIXED.items():
        setup += [OpenAccount(name, role), Deposit(name, 10_000)]
        setup += [AddCapacity(name, m, 30) for m in IDS if role is Role.PROVIDER]
    cmds: list[Command] = []
    for i, (name, market, money, price, quantity) in enumerate(steps):
        if money:
            cmds.append(Deposit(name, quantity * 100 + i, ts_ns=i))
        else:
            sell = PREFIXED[name] is Role.PROVIDER
            cmds.append(PlaceOrder(f"o{i}", name, Side.SELL if sell else Side.BUY, (market,),
                                   price, quantity, ts_ns=i))
    journal_of(directory, [*setup, *cmds])
    want, got = recover(directory, Exchange), recover(directory, NativeExchange)
    assert isinstance(want, Exchange) and isinstance(got, NativeExchange) and got.native
    assert got.state_hash() == want.state_hash()


@pytest.mark.parametrize("tail", [1, 40], ids=["set-asked", "set-copied"])
def test_an_id_used_before_a_fallback_stays_used(tmp_path: Path, tail: int) -> None:
    """Orders, then a refusal (the reference takes it, so the next core starts from the
    used-id set), then orders reusing every id: each refused, whether C asks the set (few
    records ahead) or copies it (many)."""
    placed = [PlaceOrder(f"u{i}", "t1", Side.BUY, (IDS[0],), 60, 1, TimeInForce.IOC, ts_ns=i)
              for i in range(8)]  # closed at once: their ids are only in the used set
    again = [PlaceOrder(f"u{i % 8}", "t2", Side.BUY, (IDS[1],), 60, 1, ts_ns=20 + i)
             for i in range(tail)]
    journal_of(tmp_path, [*setup_commands(money=5_000, capacity=20), *placed,
                          Withdraw("t3", 10**9, 9), *again])
    want, got = recover(tmp_path, Exchange), recover(tmp_path, NativeExchange)
    assert isinstance(want, Exchange) and isinstance(got, NativeExchange)
    assert len(want.orders("t2")) == 0
    assert got.state_hash() == want.state_hash()
