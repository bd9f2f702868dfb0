"""The codec: every command and event round-trips through JSON; bad input names the field."""

from __future__ import annotations

import dataclasses
import json
import typing
from dataclasses import fields
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from auctioneer.exchange import ExecutionRule, Market, Role, SelfTrade, Side, TimeInForce, codec
from auctioneer.exchange.commands import COMMAND_TYPES, Command, ListMarket, ModifyOrder, PlaceOrder
from auctioneer.exchange.events import EVENT_TYPES
from auctioneer.exchange.journal import encode_record

names = st.text(min_size=1, max_size=8)
ints = st.integers(-(2**63 - 1), 2**63 - 1)
markets = st.builds(Market, names, names, ints, ints, st.sampled_from(ExecutionRule), ints,
                    st.sampled_from(SelfTrade))
SIMPLE: dict[object, st.SearchStrategy[Any]] = {
    str: names, int: ints, bool: st.booleans(), Market: markets,
    tuple[str, ...]: st.lists(names, max_size=3).map(tuple),
    int | None: st.none() | ints,
    Side: st.sampled_from(Side), TimeInForce: st.sampled_from(TimeInForce),
    Role: st.sampled_from(Role),
}


def instances(cls: type) -> st.SearchStrategy[Any]:
    hints = typing.get_type_hints(cls)
    names = getattr(cls, "_fields", None) or [f.name for f in fields(cls)]
    return st.builds(cls, **{name: SIMPLE[hints[name]] for name in names})


@given(st.one_of([instances(cls) for cls in COMMAND_TYPES.values()]))
def test_commands_round_trip_through_json(command: Any) -> None:
    data = json.loads(json.dumps(codec.encode_command(command)))
    assert codec.decode_command(data) == command


def _sorted_dumps(command: Any) -> bytes:
    """The journal payload as first written: ``json.dumps`` sorting the keys itself."""
    return json.dumps(codec.encode_command(command), sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False).encode()


@given(st.one_of([instances(cls) for cls in COMMAND_TYPES.values()]), st.integers(1, 2**40))
def test_journal_records_are_byte_identical_to_sorted_dumps(command: Any, seq: int) -> None:
    data = codec.encode_command(command)
    assert list(data) == sorted(data)
    assert encode_record(seq, command)[16:] == _sorted_dumps(command)


def test_journal_payloads_golden() -> None:
    m = Market.of("eu-west-1/gpu.h100", tick_size=10, base_price=2_000, half_life_s=60)
    golden: dict[Command, bytes] = {
        PlaceOrder("o1", "ä", Side.BUY, ("r/x", "r/y"), 100, 2, TimeInForce.IOC, ts_ns=5):
            b'{"account":"\xc3\xa4","all_or_none":false,"markets":["r/x","r/y"],'
            b'"order_id":"o1","post_only":false,"price":100,"quantity":2,"side":"buy",'
            b'"tif":"ioc","ts_ns":5,"type":"place_order"}',
        ListMarket(m): b'{"market":{"base_price":2000,"execution":"at_ask","half_life_s":60,'
            b'"instance_type":"gpu.h100","region":"eu-west-1","self_trade":"cancel_newest",'
            b'"tick_size":10},"ts_ns":0,"type":"list_market"}',
        ModifyOrder("o1", "a", quantity=3): b'{"account":"a","order_id":"o1","price":null,'
            b'"quantity":3,"ts_ns":0,"type":"modify_order"}',
    }
    for command, payload in golden.items():
        assert encode_record(1, command)[16:] == payload == _sorted_dumps(command)


@given(st.one_of([instances(cls) for cls in EVENT_TYPES.values()]))
def test_events_round_trip_through_json(event: Any) -> None:
    data = json.loads(json.dumps(codec.encode_event(event)))
    assert codec.decode_event(data) == event


PLACE = {"type": "place_order", "order_id": "o1", "account": "a", "side": "buy",
         "markets": ["r/x"], "price": 100, "quantity": 2}


@pytest.mark.parametrize(("change", "field", "words"), [
    ({"quantity": "2"}, "quantity", "is not an integer"),
    ({"quantity": 2.0}, "quantity", "is not an integer"),
    ({"quantity": True}, "quantity", "is not an integer"),
    ({"price": 2**63}, "price", "outside"),
    ({"side": "hold"}, "side", "is not one of 'buy', 'sell'"),
    ({"tif": "day"}, "tif", "is not one of"),
    ({"markets": "r/x"}, "markets", "is not a list"),
    ({"markets": ["r/x", 3]}, "markets[1]", "is not a string"),
    ({"order_id": ""}, "order_id", "must not be empty"),
    ({"all_or_none": 1}, "all_or_none", "is not true or false"),
    ({"colour": "red"}, "colour", "is not a field of PlaceOrder"),
    ({"type": "buy_now"}, "type", "is not one of"),
])
def test_errors_name_the_field(change: dict[str, Any], field: str, words: str) -> None:
    with pytest.raises(codec.CommandError, match=words) as info:
        codec.decode_command({**PLACE, **change})
    assert info.value.field == field
    assert str(info.value).startswith(f"{field}: ")


def test_missing_fields_and_nested_market_fields_are_named() -> None:
    data = dict(PLACE)
    del data["quantity"]
    with pytest.raises(codec.CommandError, match="quantity: is required"):
        codec.decode_command(data)
    with pytest.raises(codec.CommandError, match="type: is required"):
        codec.decode_command({"account": "a"})
    with pytest.raises(codec.CommandError, match="is not an object"):
        codec.decode_command([1, 2])
    market = {"region": "r", "instance_type": "x", "tick_size": "1", "base_price": 1}
    with pytest.raises(codec.CommandError) as info:
        codec.decode_command({"type": "list_market", "market": market})
    assert info.value.field == "market.tick_size"


def test_optional_fields_take_their_defaults() -> None:
    cmd = codec.decode_command(PLACE)
    assert cmd == codec.decode_command({**PLACE, "tif": "gtc", "all_or_none": False,
                                        "post_only": False, "ts_ns": 0})
    modify = codec.decode_command({"type": "modify_order", "order_id": "o", "account": "a",
                                   "price": None})
    assert modify == codec.decode_command({"type": "modify_order", "order_id": "o",
                                           "account": "a"})


def _either(payload: bytes) -> tuple[str, object]:
    """What the reference decoder makes of ``payload``: the command, or the field it names."""
    try:
        return "ok", codec.decode_command(json.loads(payload))
    except codec.CommandError as exc:
        return "error", exc.field


def _fast(payload: bytes) -> tuple[str, object]:
    try:
        return "ok", codec.decode_command_json(payload)
    except codec.CommandError as exc:
        return "error", exc.field


junk = st.one_of(st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(),
                 st.text(max_size=4), st.lists(st.text(max_size=3) | st.integers(), max_size=2),
                 st.dictionaries(st.text(max_size=3), st.integers(), max_size=2))


@given(st.one_of([instances(cls) for cls in COMMAND_TYPES.values()]))
def test_msgspec_decoder_agrees_with_the_reference_on_valid_commands(command: Any) -> None:
    payload = encode_record(1, command)[16:]
    decoded = codec.decode_command_json(payload)
    assert decoded == codec.decode_command(json.loads(payload)) == command


@given(st.sampled_from(sorted(COMMAND_TYPES)), st.data())
def test_msgspec_decoder_agrees_with_the_reference_on_bad_documents(kind: str,
                                                                    data: st.DataObject) -> None:
    valid = codec.encode_command(data.draw(instances(COMMAND_TYPES[kind])))
    keys = [*valid, "colour"]
    changed = data.draw(st.dictionaries(st.sampled_from(keys), junk, max_size=2))
    dropped = data.draw(st.sets(st.sampled_from(keys)))
    document = {k: v for k, v in {**valid, **changed}.items() if k not in dropped}
    payload = json.dumps(document).encode()
    assert _fast(payload) == _either(payload)


def _reference_json(command: Any) -> bytes:
    return json.dumps(codec.encode_command(command), separators=(",", ":"),
                      ensure_ascii=False).encode()


# Values of any type a caller may put in a command (the engine rejects the ill-typed ones,
# after the journal has written them): msgspec writes some of them otherwise (floats, dicts'
# key order), so the fast encoder must leave them to the reference.
anything = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=4)
    | st.sampled_from([*Side, *TimeInForce, *Role, ExecutionRule.AT_ASK]),
    lambda inner: st.lists(inner, max_size=3) | st.lists(inner, max_size=3).map(tuple)
    | st.dictionaries(st.text(max_size=3), inner, max_size=3), max_leaves=6)


@given(st.sampled_from([cls for cls in COMMAND_TYPES.values() if cls is not ListMarket]),
       st.data())
def test_fast_command_json_agrees_with_the_reference(cls: type, data: st.DataObject) -> None:
    command = data.draw(instances(cls))
    names = [f.name for f in fields(cls)]
    changed = data.draw(st.dictionaries(st.sampled_from(names), anything, max_size=2))
    command = dataclasses.replace(command, **changed)
    try:
        expected = _reference_json(command)
    except (TypeError, ValueError) as exc:  # not JSON, or a lone surrogate
        with pytest.raises(type(exc)):
            codec.encode_command_json(command)
        return
    assert codec.encode_command_json(command) == expected


@pytest.mark.parametrize("value", [2**63, 10**30, -(10**30), 2**64 - 1, 1.5, float("nan"), 1e16])
def test_fast_command_json_writes_out_of_range_numbers_as_the_reference(value: object) -> None:
    command = PlaceOrder("o1", "a", Side.BUY, ("r/x",), value, value, ts_ns=value)  # type: ignore[arg-type]
    assert codec.encode_command_json(command) == _reference_json(command)
