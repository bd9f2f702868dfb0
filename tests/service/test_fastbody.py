"""The fast order decoder against pydantic (the reference): it accepts exactly what pydantic
accepts (bar the field's Python name ``markets_``), with the same values."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from auctioneer.exchange.orderbatch import valid_orders
from auctioneer.service.fastbody import FastOrder, decode_batch, decode_order
from auctioneer.service.schemas import MAX_BATCH, BatchIn, OrderIn

_INTS = st.sampled_from([0, 1, -1, 7, 1_000, 2**63 - 1, 2**63, 10**30])
_IDS = st.sampled_from(["a/b", "us-east-1/gpu.a100", "a/b\n", "A/b", "ab", "a/b/c", "-a/b",
                        "a/" + "b" * 127, "a/" + "b" * 128, "é/b", ""])
_VALUES: dict[str, st.SearchStrategy[Any]] = {
    "type": st.sampled_from(["limit", "market", "stop", None]),
    "side": st.sampled_from(["buy", "sell", "BUY", None]),
    "market": st.one_of(_IDS, st.none()),
    "markets": st.one_of(st.lists(_IDS, max_size=17), st.none(), _IDS),
    "price": st.one_of(_INTS, st.none(), st.just(5.0), st.just("5"), st.just(True)),
    "quantity": st.one_of(_INTS, st.just(2.0), st.just(False)),
    "max_spend": st.one_of(_INTS, st.none()),
    "tif": st.sampled_from(["gtc", "ioc", "fok", "day", None]),
    "all_or_none": st.sampled_from([True, False, None, 0]),
    "post_only": st.sampled_from([True, False, 1]),
    "extra": st.just(1),
}
_VALID: dict[str, st.SearchStrategy[Any]] = {  # values some valid order takes
    "type": st.sampled_from(["limit", "market"]),
    "side": st.sampled_from(["buy", "sell"]),
    "market": st.sampled_from(["a/b", "c/d"]),
    "markets": st.lists(st.sampled_from(["a/b", "c/d", "e/f"]), min_size=1, max_size=3),
    "price": st.sampled_from([1, 1_000, 2**63 - 1]),
    "quantity": st.sampled_from([1, 3, 2**63 - 1]),
    "max_spend": st.sampled_from([1, 10**9]),
    "tif": st.sampled_from(["gtc", "ioc", "fok"]),
    "all_or_none": st.booleans(),
    "post_only": st.booleans(),
}


def _orders(values: dict[str, st.SearchStrategy[Any]]) -> st.SearchStrategy[dict[str, Any]]:
    return st.lists(st.sampled_from(sorted(values)), unique=True).flatmap(
        lambda keys: st.fixed_dictionaries({k: values[k] for k in keys}))




@st.composite
def _near_valid(draw: st.DrawFn) -> dict[str, Any]:
    """A valid-looking order (side, quantity, one market field), one field maybe changed."""
    data = draw(_orders(_VALID))
    data.setdefault("side", draw(_VALID["side"]))
    data.setdefault("quantity", draw(_VALID["quantity"]))
    if "market" not in data and "markets" not in data:
        data["market"] = draw(_VALID["market"])
    if draw(st.booleans()):
        key = draw(st.sampled_from(sorted(_VALUES)))
        data[key] = draw(_VALUES[key])
    return data


_ANY_ORDER = st.one_of(_orders(_VALUES), _near_valid())


def _fields(order: OrderIn | FastOrder) -> tuple[Any, ...]:
    return (order.type, order.side, order.markets(), order.market, order.price, order.quantity,
            order.max_spend, order.time_in_force(), order.all_or_none, order.post_only)


def _reference(data: Any) -> OrderIn | None:
    try:
        return OrderIn.model_validate(data)
    except ValidationError:
        return None


@settings(max_examples=600, deadline=None)
@given(_ANY_ORDER)
def test_an_order_is_accepted_as_pydantic_accepts_it(data: dict[str, Any]) -> None:
    fast = decode_order(json.dumps(data).encode())
    reference = _reference(data)
    assert (fast is None) == (reference is None), (data, fast, reference)
    if fast is not None and reference is not None:
        assert _fields(fast) == _fields(reference)


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.lists(_ANY_ORDER, max_size=4), st.just([]), _ANY_ORDER),
       st.sampled_from([{}, {"x": 1}]))
def test_a_batch_is_accepted_as_pydantic_accepts_it(orders: Any, more: dict[str, Any]) -> None:
    body = {"orders": orders, **more}
    fast = decode_batch(json.dumps(body).encode())
    try:
        reference: BatchIn | None = BatchIn.model_validate(body)
    except ValidationError:
        reference = None
    assert (fast is None) == (reference is None), (body, fast, reference)
    if fast is not None and reference is not None:
        assert [_fields(o) for o in fast] == [_fields(o) for o in reference.orders]


@pytest.mark.parametrize("body", [
    b"", b"{", b"[]", b"null", b'"x"', b'{"side":"buy","market":"a/b","price":1,"quantity":1,'
    b'"quantity":1.5}', b'{"side":"buy","market":"a/b","price":NaN,"quantity":1}',
    b'{"side":"buy","market":"a/b","price":1,"quantity":1e3}', b"\xff\xfe",
    b'{"side":"buy","markets_":["a/b"],"price":1,"quantity":1}',
])
def test_what_only_pydantic_can_word_goes_to_it(body: bytes) -> None:
    assert decode_order(body) is None


def test_duplicate_keys_keep_the_last_as_json_loads_does() -> None:
    body = b'{"side":"sell","side":"buy","market":"a/b","price":1,"quantity":1}'
    fast = decode_order(body)
    assert fast is not None and fast.side == json.loads(body)["side"] == "buy"


def test_a_batch_is_bounded() -> None:
    one = {"side": "buy", "market": "a/b", "price": 1, "quantity": 1}
    assert decode_batch(json.dumps({"orders": [one] * MAX_BATCH}).encode()) is not None
    assert decode_batch(json.dumps({"orders": [one] * (MAX_BATCH + 1)}).encode()) is None


_TEXT_IDS = st.text(alphabet="ab09._-/Z\né", max_size=8).filter(lambda t: 3 <= len(t) <= 129)
_UNCHECKED = msgspec.json.Decoder(FastOrder)  # the decoder without valid()


def _unchecked(data: dict[str, Any]) -> FastOrder | None:
    try:
        return _UNCHECKED.decode(json.dumps(data).encode())
    except msgspec.DecodeError:
        return None


@pytest.mark.native
@settings(max_examples=600, deadline=None)
@given(st.lists(st.one_of(_ANY_ORDER, st.fixed_dictionaries(
    {"side": st.just("buy"), "quantity": st.just(1), "price": st.just(1),
     "market": st.one_of(_TEXT_IDS, st.none()),
     "markets": st.one_of(st.lists(_TEXT_IDS, max_size=4), st.none())})), max_size=5))
def test_the_c_check_of_a_batch_is_fast_orders_valid(orders: list[dict[str, Any]]) -> None:
    decoded = [o for o in map(_unchecked, orders) if o is not None]
    for order in decoded:
        assert valid_orders([order]) == order.valid(), order
    assert valid_orders(decoded) == all(order.valid() for order in decoded)


class _Sub(FastOrder, frozen=True):
    """A subclass: the same slots, learnt again for its own type."""


class _Overridden:
    """An order whose market is a property: read by getattr, not from a slot."""

    markets_ = None
    type = "limit"
    price = 1
    all_or_none = post_only = False

    @property
    def market(self) -> str:
        return "a/b/c"


@pytest.mark.native
def test_orders_of_other_types_are_read_as_their_attributes_say() -> None:
    fast = FastOrder(side="buy", quantity=1, market="a/b", price=1)
    plain = SimpleNamespace(markets_=["a/b", "c/d"], market=None, type="market", price=None,
                            all_or_none=False, post_only=True)
    kinds = [fast, _Sub(side="buy", quantity=1, market="x/y", price=2), plain, _Overridden(),
             fast]
    for order in kinds:
        assert valid_orders([order]) == FastOrder.valid(order)  # type: ignore[arg-type]
    assert valid_orders([fast, kinds[1], fast, kinds[1]]) is True
    assert valid_orders([fast, plain]) is valid_orders([plain, fast]) is False
    with pytest.raises(AttributeError):
        valid_orders([SimpleNamespace(markets_=None)])
    with pytest.raises(TypeError):
        valid_orders((fast,))  # type: ignore[arg-type]
