"""The plain-Python reader of auction files against the pydantic models it mirrors.

The claim under test: whatever :func:`read_fields` accepts, the reference
models accept with the same fields (defaults included); whatever the models
refuse, the reader refuses too, so ``load_auction`` raises the models' error,
naming the field, and returns what the models alone would. The reader may
refuse more than the models (``"version": true`` passes the models'
``Literal[1]``); the models then decide. Valid files as a user writes them
are accepted by the reader, else the fast path would be no path.
"""

from __future__ import annotations

import copy
from typing import Any
from unittest import mock

from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from auctioneer.clearing import io
from auctioneer.clearing.io import AuctionFileError, load_auction
from auctioneer.clearing.reader import FIELDS, read_fields
from auctioneer.clearing.schema import AuctionFile, BidSpec, BundleSpec, ResourceSpec

_ODD = [None, True, False, 0, 1, -1, 2**63, 10**30, -(10**30), 1.5, 3.0, float("nan"), "",
        "x", "1.5", "$1,000.50", "1.0000001", "-3", " 7 ", "1e3", [], {}, [1], {"a": 1}]

_names = st.sampled_from(["a", "b", "cpu", "gpu", "ram", "é"])
_money = st.one_of(st.sampled_from(["0", "18.25", "$1,000.50", "-3", "0.000001", ".5"]),
                   st.integers(-(10**12), 10**12))


@st.composite
def _auction(draw: st.DrawFn) -> dict[str, Any]:
    """A valid file, with optional fields left out at random."""
    resources = []
    for name in draw(st.lists(_names, max_size=3, unique=True)):
        r: dict[str, Any] = {"name": name, "capacity": draw(st.integers(0, 100))}
        if draw(st.booleans()):
            r["reserve"] = draw(_money)
        resources.append(r)
    bids = []
    for name in draw(st.lists(_names, max_size=3, unique=True)):
        bundles = []
        for _ in range(draw(st.integers(0, 2))):
            bundle: dict[str, Any] = {"price": draw(_money)}
            if resources and draw(st.booleans()):
                bundle["quantities"] = {r["name"]: draw(st.integers(-5, 5)) for r in resources}
            bundles.append(bundle)
        bid: dict[str, Any] = {"name": name, "bundles": bundles}
        if draw(st.booleans()):
            bid["must_win"] = False
        bids.append(bid)
    data: dict[str, Any] = {"resources": resources, "bids": bids}
    for key, value in (("version", 1), ("min_winners", 0), ("max_winners", None)):
        if draw(st.booleans()):
            data[key] = value
    return data


def _odd(draw: st.DrawFn) -> Any:
    """One of :data:`_ODD`, copied: the same list put in twice (or edited, then put into
    itself) would make the file a cycle and change the constant for later examples."""
    return copy.deepcopy(draw(st.sampled_from(_ODD)))


def _nodes(data: Any) -> list[Any]:
    """Every dict and list in ``data``, the top included."""
    out = [data]
    children = data.values() if isinstance(data, dict) else data if isinstance(data, list) else []
    for child in children:
        if isinstance(child, dict | list):
            out.extend(_nodes(child))
    return out


@st.composite
def _mutated(draw: st.DrawFn) -> dict[str, Any]:
    """A valid file with a few edits: a value replaced, a field dropped, a field added."""
    data = copy.deepcopy(draw(_auction()))
    for _ in range(draw(st.integers(0, 3))):
        node = draw(st.sampled_from(_nodes(data)))
        edit = draw(st.sampled_from(["replace", "drop", "add"]))
        if isinstance(node, list):
            if node and edit != "add":
                node[draw(st.integers(0, len(node) - 1))] = _odd(draw)
            else:
                node.append(_odd(draw))
        elif edit == "add":
            node[draw(st.sampled_from(["extra", "name", "price", "capacity"]))] = draw(
                st.sampled_from(_ODD))
        elif node:
            key = draw(st.sampled_from(sorted(node)))
            if edit == "drop":
                del node[key]
            else:
                node[key] = _odd(draw)
    return data


def _reference(data: object) -> dict[str, Any] | None:
    try:
        return AuctionFile.model_validate(data).model_dump()
    except ValidationError:
        return None


def _judged_alike(data: dict[str, Any]) -> bool:
    """The reader accepts only what the models accept, with their fields (it may refuse
    more: the models then decide), and ``load_auction`` gives what the models alone give."""
    fields = read_fields(copy.deepcopy(data))
    if fields is not None and fields != _reference(data):
        return False
    with mock.patch.object(io, "read_fields", return_value=None):
        reference_only = _loaded(data)
    return _loaded(data) == reference_only


def _loaded(data: dict[str, Any]) -> object:
    """What ``load_auction`` gives: the auction, or the error's message."""
    try:
        return load_auction(copy.deepcopy(data))
    except AuctionFileError as exc:
        return str(exc)


@settings(max_examples=150, deadline=None)
@given(_mutated())
def test_the_reader_accepts_exactly_what_the_models_accept(data: dict[str, Any]) -> None:
    assert _judged_alike(data)


_RICH = {
    "version": 1,
    "resources": [{"name": "cpu", "capacity": 8, "reserve": "0.5"}, {"name": "gpu", "capacity": 2}],
    "bids": [
        {"name": "a", "must_win": True, "bundles": [
            {"quantities": {"cpu": 2, "gpu": 1}, "price": "18.25"}, {"price": 5}]},
        {"name": "b", "bundles": [{"quantities": {"gpu": -1}, "price": "-3"}]},
    ],
    "min_winners": 1,
    "max_winners": 2,
}


def _slots(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """The path of every value in ``node``."""
    keys = list(node) if isinstance(node, dict) else range(len(node)) if isinstance(
        node, list) else []
    out = []
    for key in keys:
        out.append((*path, key))
        out.extend(_slots(node[key], (*path, key)))
    return out


def test_every_single_edit_of_a_file_is_judged_as_the_models_judge_it() -> None:
    """Exhaustive: each value replaced by each odd value, dropped, or given a sibling."""
    assert read_fields(_RICH) == _reference(_RICH) is not None
    for path in _slots(_RICH):
        edits: list[Any] = [*_ODD, "drop", "extra"]
        for edit in edits:
            data = copy.deepcopy(_RICH)
            parent = data
            for key in path[:-1]:
                parent = parent[key]
            if edit == "drop":
                parent.pop(path[-1]) if isinstance(parent, dict) else parent.pop(path[-1])
            elif edit == "extra":
                if isinstance(parent, dict):
                    parent["extra"] = 1
                else:
                    parent.append({})
            else:
                parent[path[-1]] = edit
            assert _judged_alike(data), (path, edit)


@settings(max_examples=50, deadline=None)
@given(_auction())
def test_every_valid_file_takes_the_fast_path(data: dict[str, Any]) -> None:
    assert read_fields(data) == AuctionFile.model_validate(data).model_dump()


def test_the_readers_fields_and_defaults_are_the_models() -> None:
    for model in (AuctionFile, ResourceSpec, BidSpec, BundleSpec):
        fields = FIELDS[model.__name__]
        assert list(fields) == list(model.model_fields), model
        for name, (required, default) in fields.items():
            info = model.model_fields[name]
            assert info.is_required() == required, (model, name)
            if not required:
                assert info.default == default, (model, name)


def test_integers_at_the_boundary_take_the_same_path() -> None:
    for capacity in (2**63, 10**30):
        data = {"resources": [{"name": "cpu", "capacity": capacity}], "bids": []}
        assert read_fields(data) == _reference(data)
