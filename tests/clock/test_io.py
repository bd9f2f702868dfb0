"""The market file: round trips, and errors that name the user, bundle and field."""

import json
from pathlib import Path
from typing import Any

import pytest

from auctioneer.clock import (
    DEFAULT_CURVE,
    Market,
    MarketFileError,
    ReserveCurve,
    dump_market,
    dump_result,
    dumps_market,
    generate_market,
    load_market,
    loads_market,
    run_clock,
)

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "clock" / "planet.json"


def _good() -> dict[str, Any]:
    return {
        "pools": [{"cluster": "east", "resource": "cpu", "capacity": 10, "used": 9,
                   "base_price": "0.04"},
                  {"cluster": "west", "resource": "cpu", "capacity": 10, "base_price": "0.04"}],
        "users": [{"name": "alice", "budget": "1.00",
                   "bundles": [{"east/cpu": 4}, {"west/cpu": 4}]},
                  {"name": "bob", "budget": "-0.10", "bundles": [{"west/cpu": -2}]}],
    }


def test_round_trip_generated_and_example(tmp_path: Path) -> None:
    market = generate_market(clusters=3, resources=4, users=50, seed=5, sellers=0.2,
                             traders=0.1)
    path = tmp_path / "m.json"
    path.write_text(dumps_market(market))
    assert load_market(path) == market
    assert load_market(str(path)) == market
    assert loads_market(json.dumps(dump_market(market))) == market
    example = load_market(EXAMPLE)
    assert example.shape[0] == 11
    assert dumps_market(example) == EXAMPLE.read_text()


def test_custom_curve_round_trips() -> None:
    data = _good()
    data["reserve_curve"] = [{"utilisation": "0", "multiplier": "1"},
                             {"utilisation": "80%", "multiplier": "1.25"},
                             {"utilisation": "1", "multiplier": "300%"}]
    market = load_market(data)
    assert market.curve == ReserveCurve(((0, 10_000), (8_000, 12_500), (10_000, 30_000)))
    assert load_market(dump_market(market)) == market
    assert load_market(_good()).curve == DEFAULT_CURVE


def _error(data: Any) -> str:
    with pytest.raises(MarketFileError) as info:
        load_market(data)
    return str(info.value)


def _with(path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    data = _good()
    node: Any = data
    for key in path[:-1]:
        node = node[key]
    if value is KeyError:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return data


@pytest.mark.parametrize("path, value, message", [
    (("users", 0, "bundles", 1, "west/cpu"), 4.0,
     "users[0] 'alice' bundles[1]['west/cpu']: 4.0 is not an integer: floats are not allowed"),
    (("users", 0, "bundles", 1, "west/gpu"), 1,
     "users[0] 'alice' bundles[1]['west/gpu']: is not a pool (pools: east/cpu, west/cpu)"),
    (("users", 1, "budget"), -0.1,
     "users[1] 'bob' budget: -0.1 is a float: write currency units as a string"),
    (("users", 1, "budget"), "0.0000001",
     "users[1] 'bob' budget: '0.0000001' has more than six decimal places"),
    (("users", 0, "bundles"), [],
     "users[0] 'alice' bundles: is empty: list at least one acceptable bundle"),
    (("users", 0, "bundles", 0), {"east/cpu": 0},
     "users[0] 'alice' bundles[0]: {'east/cpu': 0} moves no unit"),
    (("users", 1, "name"), "alice",
     "users[1] 'alice' name: 'alice' repeats the name of users[0]"),
    (("users", 1, "bundles"), KeyError, "users[1] 'bob' bundles: is required but missing"),
    (("users", 1, "colour"), "red", "users[1] 'bob' colour: is not a field of this format"),
    (("pools", 0, "used"), 11, "pools[0] 'east/cpu' used: 11 exceeds the capacity 10"),
    (("pools", 1, "cluster"), "east", "pools[1] 'east/cpu': repeats pools[0]"),
    (("pools", 0, "base_price"), "0", "pools[0] 'east/cpu' base_price: '0' must be at least"),
    (("pools", 0, "capacity"), -1, "pools[0] 'east/cpu' capacity: -1 must be >= 0"),
    (("pools", 1, "base_price"), 0.04, "pools[1] 'west/cpu' base_price: 0.04 is a float"),
    (("reserve_curve",), [{"utilisation": "0", "multiplier": "1"},
                          {"utilisation": "0.5", "multiplier": "0.9"},
                          {"utilisation": "1", "multiplier": "2"}],
     "reserve_curve: point 1 multiplier 9000 is below the previous knot's 10000"),
    (("reserve_curve",), [{"utilisation": "0.00001", "multiplier": "1"}],
     "reserve_curve[0].utilisation: '0.00001' is finer than a basis point"),
    (("version",), 2, "version: 2 must be 1"),
    # Issue 12 #6: integers beyond 64 bits were an OverflowError traceback.
    (("pools", 0, "capacity"), 10**30,
     "pools[0] 'east/cpu' capacity: 1000000000000000000000000000000 must be <= 92233720368"),
    (("pools", 0, "capacity"), 2**63, "capacity: 9223372036854775808 must be <= "),
    (("pools", 0, "used"), 2**63, "used: 9223372036854775808 must be <= "),
    (("users", 0, "bundles", 0, "east/cpu"), 10**30,
     "users[0] 'alice' bundles[0]['east/cpu']: 1000000000000000000000000000000 must be <= "),
    (("users", 0, "bundles", 0, "east/cpu"), -(2**63),
     "bundles[0]['east/cpu']: -9223372036854775808 must be >= -9223372036854775807"),
    # Issue 12 #7: 2**63 - 1 and 256 wrapped in an int64 sum and the file was accepted.
    (("users", 0, "bundles", 0), {"east/cpu": 2**63 - 1, "west/cpu": 256},
     "users[0] 'alice' bundles[0]: moves 9223372036854776063 units in all, more than "),
])
def test_errors_name_where_and_what(path: tuple[Any, ...], value: Any, message: str) -> None:
    assert message in _error(_with(path, value))


def test_malformed_json_and_files(tmp_path: Path) -> None:
    with pytest.raises(MarketFileError, match="line 1 column 2: malformed JSON"):
        loads_market("{,}", "m.json")
    with pytest.raises(MarketFileError, match="key 'users' appears twice"):
        loads_market('{"pools": [], "users": [], "users": []}')
    with pytest.raises(MarketFileError, match="NaN is not a number JSON allows"):
        loads_market('{"pools": [], "users": [], "x": NaN}')
    with pytest.raises(MarketFileError, match="cannot read the file"):
        load_market(tmp_path / "missing.json")
    with pytest.raises(MarketFileError, match=r"\(top level\): \[\] is not an object"):
        loads_market("[]")


def test_dump_result_is_json_and_complete() -> None:
    market = load_market(EXAMPLE)
    result = run_clock(market)
    data = json.loads(json.dumps(dump_result(market, result)))
    assert data["status"] == "cleared"
    assert data["rounds"] == result.rounds
    assert len(data["pools"]) == 9 and len(data["users"]) == 11
    assert sum(u["payment"]["micros"] for u in data["users"]) == result.revenue
    first = data["pools"][0]
    assert set(first) >= {"pool", "reserve", "price", "free", "taken", "unsold"}
    assert data["trace"]["prices_micros"][0] == result.reserves.tolist()
    assert len(data["trace"]["excess_demand"]) == result.rounds + 1
    ads = next(u for u in data["users"] if u["user"] == "ads-training")
    assert ads["quantities"] == {"eu-west/gpu": 6, "eu-west/cpu": 32, "eu-west/ram": 256}
    assert "trace" not in dump_result(market, result, trace=False)


def test_a_market_is_not_loaded_from_objects_other_than_mappings() -> None:
    with pytest.raises(MarketFileError):
        load_market({"pools": "none", "users": []})
    assert isinstance(load_market({"pools": [], "users": []}), Market)
