"""Bid files: every bad field named, nothing half-resolved; the map layouts' range checks."""

from __future__ import annotations

from pathlib import Path

import pytest

from auctioneer.kernel import MAX_BID, Bid, BidFileError, load_bids, parse_bids
from auctioneer.kernel.layout import AGENT_CGROUP, agent_key, pack_bid, pack_page, unpack_bid


@pytest.fixture
def cgroups(tmp_path: Path) -> Path:
    gold = tmp_path / "agents" / "gold"
    gold.mkdir(parents=True)
    (gold / "cgroup.procs").write_text("")
    return tmp_path


def test_process_and_cgroup_bids(cgroups: Path) -> None:
    specs = parse_bids({"bids": [{"pid": 1, "price": 5, "units": 2, "budget": 7},
                                 {"cgroup": "agents/gold", "price": MAX_BID}]}, "f", cgroups)
    assert specs[0].key == 1 and specs[0].bid == Bid(price=5, units=2, budget=7)
    assert specs[1].key == AGENT_CGROUP | (cgroups / "agents" / "gold").stat().st_ino
    assert specs[1].bid == Bid(price=MAX_BID, units=1, budget=0)


@pytest.mark.parametrize(("entry", "message"), [
    ({"pid": 1, "price": -1}, "bids[0].price: -1 is negative"),
    ({"pid": 1, "price": 2**32}, "bids[0].price: 4294967296 is above 4294967295"),
    ({"pid": 1, "price": 2**63}, "bids[0].price: 9223372036854775808 is above"),
    ({"pid": 1, "price": 10**30}, "bids[0].price: 1000000000000000000000000000000 is above"),
    ({"pid": 1, "price": MAX_BID + 1}, "above the scheduler's cap"),
    ({"pid": 1, "price": 1.5}, "bids[0].price: 1.5 is not an integer"),
    ({"pid": 1, "price": True}, "bids[0].price: True is not an integer"),
    ({"pid": 1}, "bids[0].price: missing"),
    ({"pid": 1, "price": 1, "units": 17}, "bids[0].units: 17 is above 16"),
    ({"pid": 1, "price": 1, "budget": 2**64}, "bids[0].budget: 18446744073709551616 is above"),
    ({"pid": 1, "price": 1, "budget": -3}, "bids[0].budget: -3 is negative"),
    ({"cgroup": "agents/nope", "price": 1}, "bids[0].cgroup: unknown cgroup 'agents/nope'"),
    ({"pid": 2**31 - 1, "price": 1}, "bids[0].pid: no process 2147483647"),
    ({"pid": 1, "cgroup": "agents/gold", "price": 1}, "give exactly one of pid and cgroup"),
    ({"pid": 1, "price": 1, "colour": 3}, "unknown field 'colour'"),
])
def test_bad_entries_are_named(cgroups: Path, entry: dict[str, object], message: str) -> None:
    with pytest.raises(BidFileError, match=message.replace("(", r"\(").replace("[", r"\[")):
        parse_bids({"bids": [entry]}, "f", cgroups)


def test_file_errors(tmp_path: Path) -> None:
    bad = tmp_path / "b.yaml"
    bad.write_text("bids: [\n")
    with pytest.raises(BidFileError, match="not YAML"):
        load_bids(bad)
    with pytest.raises(BidFileError, match="cannot read"):
        load_bids(tmp_path / "missing.yaml")
    bad.write_text("- 1\n")
    with pytest.raises(BidFileError, match="expected a mapping with a 'bids' list"):
        load_bids(bad)


@pytest.mark.parametrize("value", [2**63, 10**30, -1])
def test_layouts_refuse_what_does_not_fit(value: int) -> None:
    with pytest.raises(ValueError, match="out of range"):
        pack_bid(Bid(price=1, units=1, budget=0), seq=value if value < 0 else value * 2**1)
    with pytest.raises(ValueError, match="out of range"):
        pack_page(0, 0, value, 1)
    with pytest.raises(ValueError, match="out of range"):
        agent_key(cgroup_id=value)


def test_bid_round_trip() -> None:
    bid = Bid(price=2**32 - 1, units=16, budget=2**64 - 1)
    assert unpack_bid(pack_bid(bid, seq=2**64 - 1)) == bid
