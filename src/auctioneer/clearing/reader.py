"""The auction file's fields checked in plain Python: the fast path of loading a file.

:mod:`auctioneer.clearing.schema`'s pydantic models are the format's
reference; importing pydantic and building them costs about 80 ms, a third
of ``auctioneer clear``'s 250 ms start-up budget on a small file. So
:func:`read_fields` checks the same field rules (unknown fields, strict
types, bounds, money) without pydantic and returns the fields with the
defaults filled in, exactly as ``AuctionFile.model_validate(data).model_dump()``
would. It never explains a refusal: it returns None for anything it does not
accept, and the caller (:func:`auctioneer.clearing.io.load_auction`) then
runs the reference models, whose error names the field. So the errors are
the reference's by construction, and the only claim this module makes,
"whatever it accepts, the models accept with the same fields", is what the
differential test (``tests/clearing/test_reader.py``) checks with
hypothesis.

The checks are deliberately narrower than the models where that is
simpler: exact ``dict``/``list``/``str``/``int`` types only (a JSON file
never holds anything else), so any subclass or Python-only input goes to
the reference.

Example:
    >>> read_fields({"resources": [{"name": "cpu", "capacity": 8}],
    ...              "bids": [{"name": "a", "bundles": [{"price": "5"}]}]})["bids"]
    [{'name': 'a', 'must_win': False, 'bundles': [{'quantities': {}, 'price': '5'}]}]
    >>> read_fields({"resources": [], "bids": [], "colour": "red"}) is None
    True
"""

from __future__ import annotations

from typing import Any

from auctioneer.money import MoneyError, parse_money

__all__ = ["FIELDS", "read_fields"]

_Fields = dict[str, Any]

# Each object's fields: name -> (required, default). The defaults must equal the
# models' (a test compares them with the models' field defaults).
_Spec = dict[str, tuple[bool, Any]]
_AUCTION: _Spec = {"version": (False, 1), "resources": (True, None), "bids": (True, None),
            "min_winners": (False, 0), "max_winners": (False, None)}
_RESOURCE: _Spec = {"name": (True, None), "capacity": (True, None), "reserve": (False, "0")}
_BID: _Spec = {"name": (True, None), "must_win": (False, False), "bundles": (True, None)}
_BUNDLE: _Spec = {"quantities": (False, {}), "price": (True, None)}

FIELDS = {"AuctionFile": _AUCTION, "ResourceSpec": _RESOURCE, "BidSpec": _BID,
          "BundleSpec": _BUNDLE}
"""Every object's fields, named by the model of :mod:`~auctioneer.clearing.schema` they mirror."""


class _Refused(Exception):
    """A value the plain checks do not accept (the reference will say why)."""


def _object(node: object, fields: _Spec) -> _Fields:
    """``node``'s fields with defaults filled in, if it is a dict of exactly those fields."""
    if type(node) is not dict or not node.keys() <= fields.keys():
        raise _Refused
    out: _Fields = {}
    for name, (required, default) in fields.items():
        if name in node:
            out[name] = node[name]
        elif required:
            raise _Refused
        else:
            out[name] = dict(default) if type(default) is dict else default
    return out


def _list(node: object) -> list[Any]:
    if type(node) is not list:
        raise _Refused
    return node


def _name(node: object) -> str:
    if type(node) is not str or not node:
        raise _Refused
    return node


def _count(node: object) -> int:
    """A non-negative integer (strict: bools and floats are not integers)."""
    if type(node) is not int or node < 0:
        raise _Refused
    return node


def _money(node: object) -> str | int:
    """An amount as written: a string of currency units or an int of micro-units."""
    if type(node) is not str and type(node) is not int:
        raise _Refused
    try:
        parse_money(node, field="")
    except MoneyError:
        raise _Refused from None
    return node


def _quantities(node: object) -> dict[str, int]:
    if type(node) is not dict:
        raise _Refused
    for value in node.values():
        if type(value) is not int:
            raise _Refused
    return dict(node)


def _bundle(node: object) -> _Fields:
    out = _object(node, _BUNDLE)
    out["quantities"] = _quantities(out["quantities"])
    out["price"] = _money(out["price"])
    return out


def _bid(node: object) -> _Fields:
    out = _object(node, _BID)
    _name(out["name"])
    if type(out["must_win"]) is not bool:
        raise _Refused
    out["bundles"] = [_bundle(b) for b in _list(out["bundles"])]
    return out


def _resource(node: object) -> _Fields:
    out = _object(node, _RESOURCE)
    _name(out["name"])
    _count(out["capacity"])
    _money(out["reserve"])
    return out


def read_fields(data: object) -> _Fields | None:
    """The auction file's fields, defaults filled in, or None when the checks do not pass.

    None means "not vouched for", not "invalid": the reference models decide.
    """
    try:
        out = _object(data, _AUCTION)
        if type(out["version"]) is not int or out["version"] != 1:
            raise _Refused
        out["resources"] = [_resource(r) for r in _list(out["resources"])]
        out["bids"] = [_bid(b) for b in _list(out["bids"])]
        _count(out["min_winners"])
        if out["max_winners"] is not None:
            _count(out["max_winners"])
    except _Refused:
        return None
    return out
