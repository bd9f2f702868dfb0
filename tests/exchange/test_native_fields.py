"""The C batch path's field reader (``engine_fields.h``) against Python's attribute reads.

``valid_orders`` and ``place_orders`` read an order's fields straight from its slots where the
type's member descriptors say they lie, learnt once per type; the reference
(``FastOrder.valid``) reads them with getattr. Each test gives C an order whose type makes a
slot read wrong unless the reader checks it: another type's descriptor, a type patched after
C learnt it, values the reference reads generically.
"""

from __future__ import annotations

from typing import Any

import pytest
from msgspec.structs import force_setattr

from auctioneer.exchange.model import Role
from auctioneer.exchange.orderbatch import place_orders, valid_orders
from auctioneer.service.fastbody import FastOrder

pytestmark = pytest.mark.native

_FIELDS = ("markets_", "market", "type", "price", "all_or_none", "post_only", "side",
           "quantity", "tif")


class _Big:
    __slots__ = ("s0",)


class _Small(float):
    """A float whose fields are ``_Big``'s slot: Python's getattr refuses the descriptor,
    a slot read would take the float's bits for a pointer."""


for _name in _FIELDS:
    setattr(_Small, _name, _Big.__dict__["s0"])


def test_another_types_member_descriptor_is_read_as_python_reads_it() -> None:
    small = _Small(1.5)
    with pytest.raises(TypeError):
        FastOrder.valid(small)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        valid_orders([small])
    with pytest.raises(TypeError):
        place_orders([small], 0, [], "t", Role.TRADER, {"a/b": 1}, 1)


class _Sub(FastOrder, frozen=True):
    """Patched below, after C has learnt where its fields lie."""


def test_a_type_changed_after_c_learnt_it_is_learnt_again() -> None:
    order = _Sub(side="buy", quantity=1, market="a/b", price=1)
    assert valid_orders([order]) is FastOrder.valid(order) is True
    slot = _Sub.__dict__.get("market")
    _Sub.market = property(lambda self: "not an id")  # type: ignore[assignment,method-assign]
    try:
        assert valid_orders([order]) is FastOrder.valid(order) is False
    finally:
        if slot is None:
            del _Sub.market
        else:
            _Sub.market = slot  # type: ignore[method-assign]
    assert valid_orders([order]) is FastOrder.valid(order) is True


class _Asked(FastOrder, frozen=True):
    """Its own ``__getattribute__``: the slots are not what Python reads."""

    def __getattribute__(self, name: str) -> Any:
        return "not an id" if name == "market" else super().__getattribute__(name)


def test_a_type_with_its_own_getattribute_is_read_through_it() -> None:
    order = _Asked(side="buy", quantity=1, market="a/b", price=1)
    assert valid_orders([order]) is FastOrder.valid(order) is False


class _Text(str):
    """A str subclass: the reference compares and matches it as its text."""


class _Anything:
    """Unequal to everything."""

    def __eq__(self, other: object) -> bool:
        return False

    __hash__ = object.__hash__


@pytest.mark.parametrize("fields", [
    {"markets_": ("a/b", "c/d")},
    {"markets_": ("a/b", "a/b")},
    {"markets_": ("a/b", "A/b")},
    {"markets_": ()},
    {"markets_": [_Text("a/b"), "c/d"]},
    {"markets_": [_Text("a/b"), "a/b"]},
    {"markets_": {"a/b": 1, "c/d": 2}},
    {"markets_": "a/b"},
    {"market": _Text("a/b")},
    {"market": _Text("a/b/c")},
    {"market": "a/b", "type": _Text("limit")},
    {"market": "a/b", "type": _Text("market"), "price": None},
    {"market": "a/b", "type": _Anything(), "price": None},
])
def test_values_the_decoder_never_gives_are_judged_as_the_reference_judges_them(
        fields: dict[str, Any]) -> None:
    order = FastOrder(side="buy", quantity=1, market="x/y", price=1)
    for name, value in {"market": None, **fields}.items():
        force_setattr(order, name, value)
    assert valid_orders([order]) is FastOrder.valid(order), fields


@pytest.mark.parametrize("many", [[1, "a/b"], ("a/b", 1), [["a/b"]]])
def test_a_market_that_is_not_text_raises_as_in_the_reference(many: object) -> None:
    order = FastOrder(side="buy", quantity=1, price=1, markets_=["x/y"])
    force_setattr(order, "markets_", many)
    with pytest.raises(TypeError):
        FastOrder.valid(order)
    with pytest.raises(TypeError):
        valid_orders([order])
