"""The project's JSON files at the boundary: strict pydantic models, exact money, clear errors.

Every file format (auctions, markets) reads through here (the parts that need
no pydantic, re-exported here, live in :mod:`auctioneer.jsontext`): duplicate keys,
NaN and malformed JSON are refused with the line and column; pydantic
validates strictly (no coercion of ``"3"`` or ``3.0`` to 3); and the first
problem becomes one :class:`FileError` line naming the file, the place
(``bids[3] 'alice' bundles[1].price``) and the value. Money follows the
one rule of :mod:`auctioneer.money`: a decimal string is currency units
(``"18.25"``), a JSON integer is micro-units (``18250000``), and a JSON
float is refused.

Example:
    >>> class Item(Strict):
    ...     name: Name
    ...     price: Money
    >>> validate(Item, {"name": "a", "price": 1.5}, "f.json", FileError, lambda node: None)
    Traceback (most recent call last):
      ...
    auctioneer.jsontext.FileError: f.json: price: 1.5 is a float: write currency units as ...
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, PlainValidator, ValidationError, WithJsonSchema

from auctioneer.jsontext import (
    FileError,
    money_json,
    money_text,
    parse_json,
    read_json,
    read_text,
)
from auctioneer.money import MoneyError, parse_money

__all__ = [
    "MONEY_PATTERN",
    "FileError",
    "Label",
    "Money",
    "Name",
    "Strict",
    "describe",
    "locate",
    "money_json",
    "money_text",
    "parse_json",
    "read_json",
    "read_text",
    "validate",
]

_M = TypeVar("_M", bound=BaseModel)

Label = Callable[[object], "str | None"]
"""What to show after a list index for the item there (its name), if anything."""


def _valid_money(value: object) -> str | int:
    """A file's amount as written: a string of currency units or an int of micro-units."""
    if isinstance(value, float):
        raise ValueError(f'{value!r} is a float: write currency units as a string such as '
                         f'"{value}", or micro-units as an integer')
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ValueError(f"{value!r} is not an amount: a string of currency units such as "
                         '"18.25", or an integer of micro-units')
    try:
        parse_money(value, field="")
    except MoneyError as exc:
        raise ValueError(str(exc).strip()) from None
    return value


MONEY_PATTERN = (
    r"^\s*[+-]?\s*\$?\s*(?:(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d*)?|\.\d+)\s*$"
)
"""What :func:`auctioneer.money.parse_money` reads from a string, as the schema's regular
expression.

Amounts finer than a micro-unit also match; the loader refuses those."""

Money = Annotated[
    str | int,
    PlainValidator(_valid_money),
    WithJsonSchema({"anyOf": [{"type": "string", "pattern": MONEY_PATTERN},
                              {"type": "integer"}],
                    "description": "currency units as a decimal string, or micro-units as "
                    "an integer", "examples": ["18.25", "$0.04", 18250000]}),
]
Name = Annotated[str, Field(min_length=1)]


class Strict(BaseModel):
    """A file model: unknown fields refused, no type coercion, no NaN or infinity, immutable."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, allow_inf_nan=False)


def locate(loc: Sequence[int | str], data: object, label: Label,
           keyed_under: tuple[str, ...] = ()) -> str:
    """A pydantic error location in words, showing each list item's label.

    ``('bids', 3, 'bundles', 1, 'price')`` reads ``bids[3] 'alice' bundles[1].price``;
    keys of the mappings held by a field in ``keyed_under`` read ``['eu-west/gpu']``.
    """
    text = ""
    node: object = data
    after_label = keyed = False
    for key in loc:
        if isinstance(key, int):
            text += f"[{key}]"
            node = node[key] if isinstance(node, list) and 0 <= key < len(node) else None
            name = label(node)
            after_label = name is not None
            if after_label:
                text += f" {name!r}"
            continue
        if keyed:
            text += f"[{key!r}]"
        else:
            shown = key if key.isidentifier() else repr(key)
            text += f"{' ' if after_label else ('.' if text else '')}{shown}"
        keyed = key in keyed_under
        node = node.get(key) if isinstance(node, Mapping) else None
        after_label = False
    return text or "(top level)"


_BOUNDS = {"greater_than": (">", "gt"), "greater_than_equal": (">=", "ge"),
           "less_than": ("<", "lt"), "less_than_equal": ("<=", "le")}


def describe(error: Mapping[str, Any]) -> str:
    """What is wrong with one value, in words, quoting the value."""
    kind, value, ctx = error["type"], error.get("input"), error.get("ctx") or {}
    shown = repr(value)
    if kind == "missing":
        return "is required but missing"
    if kind == "extra_forbidden":
        return f"is not a field of this format (value {shown})"
    if kind == "string_type" and isinstance(value, int | float) and not isinstance(value, bool):
        return f'{shown} is a number: write it as a string such as "{value}"'
    if kind.startswith("int_"):
        if isinstance(value, float):
            return f"{shown} is not an integer: floats are not allowed here"
        return f"{shown} is not an integer"
    if kind == "value_error":
        return str(ctx.get("error", error["msg"]))
    simple = {
        "string_type": "is not a string",
        "bool_type": "is not true or false",
        "dict_type": "is not an object",
        "model_type": "is not an object",
        "model_attributes_type": "is not an object",
        "list_type": "is not a list",
        "string_too_short": "must not be empty",
    }
    if kind in simple:
        return f"{shown} {simple[kind]}"
    if kind in _BOUNDS:
        sign, key = _BOUNDS[kind]
        return f"{shown} must be {sign} {ctx.get(key)}"
    if kind == "finite_number":
        return f"{shown} is not a finite number"
    if kind in ("float_type", "float_parsing"):
        return f"{shown} is not a number"
    if kind == "literal_error":
        return f"{shown} must be {ctx.get('expected')}"
    return f"{shown}: {error['msg']}"


def validate(model: type[_M], data: object, source: str | None, error: type[FileError],
             label: Label, *, keyed_under: tuple[str, ...] = ()) -> _M:
    """``model`` validated from ``data``, or ``error`` naming the first problem's place."""
    if not isinstance(data, Mapping):
        text = repr(data)
        short = text if len(text) <= 40 else text[:37] + "..."
        raise error("(top level)", f"{short} is not an object", source)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        loc = _strip_tags(tuple(first["loc"]), data)
        kind, ctx = first["type"], first.get("ctx") or {}
        if kind in ("union_tag_invalid", "union_tag_not_found"):
            # A tagged union's error sits on the union; the user wrote the tag field.
            loc = (*loc, ctx["discriminator"].strip("'"))
            detail = ("is required but missing" if kind == "union_tag_not_found"
                      else f"{ctx['tag']!r} is not one of {ctx['expected_tags']}")
        else:
            detail = describe({**first, "loc": loc})
        raise error(locate(loc, data, label, keyed_under), detail, source) from None


def _strip_tags(loc: tuple[int | str, ...], data: object) -> tuple[int | str, ...]:
    """pydantic's location without the union tags it inserts (``value.lognormal.sigma``)."""
    out: list[int | str] = []
    node = data
    for i, key in enumerate(loc):
        is_last = i == len(loc) - 1
        if isinstance(key, str) and isinstance(node, Mapping) and key not in node and not is_last:
            continue
        out.append(key)
        if isinstance(key, int) and isinstance(node, list) and 0 <= key < len(node):
            node = node[key]
        elif isinstance(node, Mapping):
            node = node.get(key)
        else:
            node = None
    return tuple(out)
