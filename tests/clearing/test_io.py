"""The JSON file format: exact round trips, one clear error per bad file, the schema in step."""

import copy
import json
import math
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from auctioneer.clearing.generate import KINDS, generate
from auctioneer.clearing.io import (
    AuctionFileError,
    dump_auction,
    dump_clearing,
    dumps_auction,
    load_auction,
    loads_auction,
    money_text,
)
from auctioneer.clearing.model import Auction, Bid, Bundle, Resource
from auctioneer.clearing.result import Clearing, Status
from auctioneer.clearing.schema import MONEY_PATTERN, schema_text
from auctioneer.money import MoneyError, parse_money

from .strategies import auctions

ROOT = Path(__file__).resolve().parents[2]
OFFICE = ROOT / "examples" / "clearing" / "office.json"


def _walk(value: object) -> list[object]:
    """Every leaf value of parsed JSON."""
    if isinstance(value, dict):
        return [leaf for v in value.values() for leaf in _walk(v)]
    if isinstance(value, list):
        return [leaf for v in value for leaf in _walk(v)]
    return [value]


# --------------------------------------------------------------------------
# Round trips


@given(auctions(two_sided=True, side_constraints=True, max_resources=3))
def test_dump_then_load_is_the_same_auction(auction: Auction) -> None:
    data = dump_auction(auction)
    assert load_auction(data) == auction
    text = dumps_auction(auction)
    assert json.loads(text) == data
    assert loads_auction(text) == auction
    # Written money is always a string; nothing is a float.
    assert not any(isinstance(leaf, float) for leaf in _walk(data))
    for bid in data["bids"]:
        for bundle in bid["bundles"]:
            assert isinstance(bundle["price"], str)
            assert 0 not in bundle["quantities"].values()


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("sellers", [0.0, 0.3])
def test_generated_auctions_round_trip(kind: str, sellers: float) -> None:
    auction = generate(kind, bids=15, bundles=3, capacity=40, seed=5, reserves=True,
                       sellers=sellers)
    assert loads_auction(dumps_auction(auction)) == auction


@given(st.integers(-(2**63) + 1, 2**63 - 1))
def test_money_text_round_trips_every_amount(micros: int) -> None:
    text = money_text(micros)
    assert "," not in text and "$" not in text
    assert parse_money(text) == micros


def test_defaults_may_be_left_out() -> None:
    auction = load_auction({
        "resources": [{"name": "cpu", "capacity": 4}],
        "bids": [{"name": "a", "bundles": [{"quantities": {"cpu": 2}, "price": "$1,000.5"}]},
                 {"name": "b", "bundles": [{"price": "0"}]},
                 {"name": "c", "bundles": []}],
    })
    assert auction == Auction(
        (Resource("cpu", 4, 0),),
        (Bid("a", (Bundle((2,), 1_000_500_000),)), Bid("b", (Bundle((0,), 0),)), Bid("c", ())),
        0, None,
    )
    assert load_auction({"resources": [], "bids": []}) == Auction((), ())


def test_sources_path_text_and_mapping(tmp_path: Path) -> None:
    expected = load_auction(OFFICE)
    text = OFFICE.read_text()
    assert load_auction(str(OFFICE)) == expected
    assert load_auction(text) == expected
    assert load_auction(json.loads(text)) == expected
    copy_path = tmp_path / "copy.json"
    copy_path.write_text(dumps_auction(expected))
    assert load_auction(copy_path) == expected


def test_office_example_is_kellys_auction() -> None:
    auction = load_auction(OFFICE)
    assert [r.name for r in auction.resources] == ["rooms", "parking"]
    assert auction.capacities == (10, 20)
    assert auction.bids[0].bundles[0] == Bundle((3, 6), 18_000_000_000)
    assert [b.name for b in auction.bids] == ["acme", "bolt", "core"]


def test_the_documented_example_is_the_example_file() -> None:
    doc = (ROOT / "docs" / "clearing-format.md").read_text()
    first_block = re.search(r"```json\n(.*?)```", doc, re.DOTALL)
    assert first_block is not None
    assert load_auction(first_block.group(1)) == load_auction(OFFICE)


@pytest.mark.parametrize("path", sorted((ROOT / "examples" / "clearing").glob("*.json")),
                         ids=lambda p: p.name)
def test_example_files_load(path: Path) -> None:
    auction = load_auction(path)
    assert auction.bids
    # Each example is written exactly as dumps_auction writes it.
    assert dumps_auction(auction) == path.read_text()


# --------------------------------------------------------------------------
# Errors: one line naming where and the bad value


def _base() -> dict[str, Any]:
    return {
        "resources": [{"name": "cpu", "capacity": 10, "reserve": "0.01"},
                      {"name": "mem", "capacity": 20}],
        "bids": [
            {"name": "bob", "bundles": [{"quantities": {"cpu": 1}, "price": "1"}]},
            {"name": "carol", "bundles": [{"quantities": {"mem": 2}, "price": "2"}]},
            {"name": "dave", "bundles": []},
            {"name": "alice", "must_win": False, "bundles": [
                {"quantities": {"cpu": 3, "mem": 6}, "price": "18.00"},
                {"quantities": {"cpu": 4, "mem": 8}, "price": "26.00"},
            ]},
        ],
        "min_winners": 0,
        "max_winners": None,
    }


def _set(*path: Any, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(data: dict[str, Any]) -> None:
        node = data
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value
    return change


def _drop(*path: Any) -> Callable[[dict[str, Any]], None]:
    def change(data: dict[str, Any]) -> None:
        node = data
        for key in path[:-1]:
            node = node[key]
        del node[path[-1]]
    return change


BAD_FILES = [
    ("bad amount", _set("bids", 3, "bundles", 1, "price", value="1.2.3"),
     ["bids[3] 'alice' bundles[1].price", "'1.2.3'", "is not an amount"]),
    ("float price", _set("bids", 3, "bundles", 1, "price", value=26.5),
     ["bids[3] 'alice' bundles[1].price", "26.5 is a float", "micro-units as an integer"]),
    ("bool price", _set("bids", 3, "bundles", 0, "price", value=True),
     ["bids[3] 'alice' bundles[0].price", "True is not an amount"]),
    ("sub-micro price", _set("bids", 3, "bundles", 1, "price", value="0.0000001"),
     ["bids[3] 'alice' bundles[1].price", "'0.0000001'", "six decimal places"]),
    ("float quantity", _set("bids", 3, "bundles", 1, "quantities", "cpu", value=4.0),
     ["bids[3] 'alice' bundles[1].quantities.cpu", "4.0", "not an integer"]),
    ("string quantity", _set("bids", 3, "bundles", 1, "quantities", "cpu", value="4"),
     ["bids[3] 'alice' bundles[1].quantities.cpu", "'4'", "not an integer"]),
    ("bool quantity", _set("bids", 3, "bundles", 0, "quantities", "mem", value=True),
     ["bids[3] 'alice' bundles[0].quantities.mem", "True", "not an integer"]),
    ("unknown resource", _set("bids", 3, "bundles", 1, "quantities", "gpu", value=1),
     ["bids[3] 'alice' bundles[1].quantities", "'gpu'", "not a resource", "cpu, mem"]),
    ("negative capacity", _set("resources", 1, "capacity", value=-5),
     ["resources[1] 'mem' capacity", "-5", ">= 0"]),
    ("float capacity", _set("resources", 0, "capacity", value=10.0),
     ["resources[0] 'cpu' capacity", "10.0", "not an integer"]),
    ("float reserve", _set("resources", 0, "reserve", value=0.01),
     ["resources[0] 'cpu' reserve", "0.01", "string"]),
    ("negative reserve", _set("resources", 0, "reserve", value="-0.01"),
     ["resources[0] 'cpu' reserve", "'-0.01'", "negative"]),
    ("missing price", _drop("bids", 3, "bundles", 1, "price"),
     ["bids[3] 'alice' bundles[1].price", "missing"]),
    ("missing capacity", _drop("resources", 0, "capacity"),
     ["resources[0] 'cpu' capacity", "missing"]),
    ("missing bundles", _drop("bids", 3, "bundles"), ["bids[3] 'alice' bundles", "missing"]),
    ("missing bids", _drop("bids"), ["bids", "missing"]),
    ("missing bid name", _drop("bids", 1, "name"), ["bids[1].name", "missing"]),
    ("empty bid name", _set("bids", 1, "name", value=""), ["bids[1].name", "''", "empty"]),
    ("duplicate bid", _set("bids", 3, "name", value="bob"),
     ["bids[3] 'bob' name", "'bob'", "repeats", "bids[0]"]),
    ("duplicate resource", _set("resources", 1, "name", value="cpu"),
     ["resources[1] 'cpu' name", "'cpu'", "repeats", "resources[0]"]),
    ("must_win with only zero bundles", _set("bids", 2, "must_win", value=True),
     ["bids[2] 'dave' must_win", "non-zero"]),
    ("must_win with an explicit zero bundle",
     lambda d: d["bids"][1].update(must_win=True, bundles=[{"quantities": {"cpu": 0},
                                                           "price": "3"}]),
     ["bids[1] 'carol' must_win", "non-zero", "every bundle is empty"]),
    ("must_win not a bool", _set("bids", 3, "must_win", value="yes"),
     ["bids[3] 'alice' must_win", "'yes'", "true or false"]),
    ("unknown bundle field", _set("bids", 3, "bundles", 0, "colour", value="red"),
     ["bids[3] 'alice' bundles[0].colour", "'red'", "not a field"]),
    ("unknown top field", _set("currency", value="EUR"), ["currency", "'EUR'", "not a field"]),
    ("bid not an object", _set("bids", 2, value=["dave"]), ["bids[2]", "['dave']", "object"]),
    ("bundles not a list", _set("bids", 3, "bundles", value={"price": "1"}),
     ["bids[3] 'alice' bundles", "not a list"]),
    ("negative min_winners", _set("min_winners", value=-1), ["min_winners", "-1", ">= 0"]),
    ("max below min", lambda d: d.update(min_winners=3, max_winners=2),
     ["max_winners", "2", "min_winners 3"]),
    ("wrong version", _set("version", value=2), ["version", "2", "must be 1"]),
]


@pytest.mark.parametrize(("change", "expected"), [(c, e) for _, c, e in BAD_FILES],
                         ids=[name for name, _, _ in BAD_FILES])
def test_bad_file_names_the_place_and_value(
    change: Callable[[dict[str, Any]], None], expected: list[str], tmp_path: Path
) -> None:
    data = _base()
    change(data)
    with pytest.raises(AuctionFileError) as info:
        load_auction(data)
    message = str(info.value)
    assert "\n" not in message
    for part in expected:
        assert part in message, f"{part!r} not in {message!r}"
    # The same file on disk: the message starts with the file's name.
    path = tmp_path / "auction.json"
    path.write_text(json.dumps(data))
    with pytest.raises(AuctionFileError) as on_disk:
        load_auction(path)
    assert str(on_disk.value) == f"{path}: {message}"
    assert on_disk.value.source == str(path)


def test_the_documented_message_shape() -> None:
    data = _base()
    data["bids"][3]["bundles"][1]["price"] = "1.2.3"
    with pytest.raises(AuctionFileError, match=re.escape(
        "bids[3] 'alice' bundles[1].price: '1.2.3' is not an amount"
    )):
        load_auction(data)


def test_auction_file_error_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="not an object"):
        loads_auction("[1, 2]")


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ('{\n  "resources": [],\n  "bids": [,]\n}', "line 3 column 12"),
        ('{"resources": [], "bids": []', "line 1 column 29"),
        ("", "line 1 column 1"),
        ('{"resources": [], "bids": [], }', "line 1 column 31"),
    ],
)
def test_malformed_json_names_line_and_column(text: str, where: str, tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text(text)
    with pytest.raises(AuctionFileError) as info:
        load_auction(path)
    message = str(info.value)
    assert message.startswith(f"{path}: {where}: malformed JSON: ")
    assert "\n" not in message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"resources": [], "bids": [], "bids": []}', "key 'bids' appears twice"),
        ('{"resources": [{"name": "x", "capacity": NaN}], "bids": []}', "NaN"),
        ('{"resources": [{"name": "x", "capacity": Infinity}], "bids": []}', "Infinity"),
        ('{"resources": [{"name": "x", "capacity": 1e3}], "bids": []}', "1000.0"),
        ("[]", "(top level): [] is not an object"),
        ('"office"', "(top level): 'office' is not an object"),
    ],
)
def test_json_that_is_not_an_auction(text: str, expected: str) -> None:
    with pytest.raises(AuctionFileError, match=re.escape(expected)):
        loads_auction(text, "x.json")


def test_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(AuctionFileError, match="cannot read the file"):
        load_auction(tmp_path / "missing.json")
    with pytest.raises(AuctionFileError, match="cannot read the file"):
        load_auction(tmp_path)
    binary = tmp_path / "binary.json"
    binary.write_bytes(b"\xff\xfe{}")
    with pytest.raises(AuctionFileError, match="not UTF-8"):
        load_auction(binary)


def test_first_of_several_problems_is_reported() -> None:
    data = _base()
    data["bids"][0]["bundles"][0]["price"] = 1.5
    data["bids"][3]["bundles"][0]["price"] = "x"
    with pytest.raises(AuctionFileError, match=r"bids\[0\] 'bob' bundles\[0\]\.price"):
        load_auction(data)


def test_input_is_not_modified() -> None:
    data = _base()
    before = copy.deepcopy(data)
    load_auction(data)
    assert data == before


# --------------------------------------------------------------------------
# The schema and the money pattern


def test_schema_file_is_up_to_date() -> None:
    committed = (ROOT / "docs" / "clearing.schema.json").read_text()
    assert committed == schema_text(), (
        "docs/clearing.schema.json is stale: run "
        "python -m auctioneer.clearing.schema > docs/clearing.schema.json"
    )


def test_schema_describes_the_format() -> None:
    schema = json.loads(schema_text())
    assert schema["$schema"].endswith("2020-12/schema")
    assert set(schema["required"]) == {"resources", "bids"}
    bundle = schema["$defs"]["BundleSpec"]
    price = bundle["properties"]["price"]["anyOf"]
    assert price == [{"type": "string", "pattern": MONEY_PATTERN}, {"type": "integer"}]
    assert bundle["properties"]["quantities"]["additionalProperties"] == {"type": "integer"}
    assert bundle["additionalProperties"] is False


@given(st.text(alphabet="0123456789.,$+- ", max_size=12))
def test_money_pattern_matches_what_parse_money_reads(text: str) -> None:
    matches = re.fullmatch(MONEY_PATTERN, text) is not None
    try:
        parse_money(text)
    except MoneyError as exc:
        # The pattern cannot count decimal places or range; everything else agrees.
        assert not matches or "decimal places" in str(exc) or "outside" in str(exc)
    else:
        assert matches


# --------------------------------------------------------------------------
# Writing a clearing


def _office_clearing() -> tuple[Auction, Clearing]:
    auction = load_auction(OFFICE)
    clearing = Clearing(Status.OPTIMAL, "dp", 56_000_000_000, (1, 0, None), (10, 14),
                        stats={"form": "dense", "bound": math.inf})
    return auction, clearing


def test_dump_clearing_pay_as_bid() -> None:
    auction, clearing = _office_clearing()
    out = dump_clearing(auction, clearing)
    assert out["status"] == "optimal" and out["optimal"] is True
    assert out["revenue"] == {"amount": "56000.00", "micros": 56_000_000_000}
    assert out["payment_rule"] == "bid"
    assert [(w["bid"], w["bid_index"], w["bundle"]) for w in out["winners"]] == [
        ("acme", 0, 1), ("bolt", 1, 0)
    ]
    assert out["winners"][0]["quantities"] == {"rooms": 4, "parking": 8}
    assert out["winners"][0]["payment"] == out["winners"][0]["price"]
    assert out["payments_total"]["micros"] == 56_000_000_000
    assert out["resources"] == [{"name": "rooms", "used": 10, "capacity": 10},
                                {"name": "parking", "used": 14, "capacity": 20}]
    assert out["stats"] == {"form": "dense", "bound": "inf"}
    assert "budget_balance" not in out
    json.dumps(out, allow_nan=False)


def test_dump_clearing_with_payments() -> None:
    auction, clearing = _office_clearing()
    priced = Clearing(clearing.status, "dp", clearing.revenue, clearing.choice, clearing.used,
                      payments=(14_000_000_000, 14_000_000_000, 0))
    out = dump_clearing(auction, priced)
    assert out["payment_rule"] == "vcg"
    assert [w["payment"]["amount"] for w in out["winners"]] == ["14000.00", "14000.00"]
    assert out["payments_total"] == {"amount": "28000.00", "micros": 28_000_000_000}


def test_dump_clearing_without_allocation() -> None:
    auction, _ = _office_clearing()
    out = dump_clearing(auction, Clearing(Status.INFEASIBLE, "dp", stats={"reason": "why"}))
    assert out["status"] == "infeasible" and out["optimal"] is False
    assert out["winners"] == []
    assert [r["used"] for r in out["resources"]] == [0, 0]


def test_dump_clearing_two_sided_reports_budget_balance() -> None:
    auction = Auction((Resource("cpu", 0),), (
        Bid("ann", (Bundle((-4,), -20),)), Bid("bob", (Bundle((4,), 30),))))
    assert auction.is_two_sided
    assert not load_auction(OFFICE).is_two_sided
    out = dump_clearing(auction, Clearing(Status.OPTIMAL, "hand", 10, (0, 0), (0,)))
    budget = out["budget_balance"]
    assert budget["buyers_pay"]["micros"] == 30
    assert budget["sellers_receive"]["micros"] == 20
    assert budget["surplus"] == {"amount": "0.00001", "micros": 10}
    assert budget["balanced"] is True
    assert budget["under_payments"] is None
    assert budget["bought"] == {"cpu": 4} and budget["sold"] == {"cpu": 4}
