"""``auctioneer generate clearing`` and ``auctioneer clear``: round trips, output, exit codes."""

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from auctioneer.clearing.io import dumps_auction, load_auction
from auctioneer.clearing.kbest import k_best
from auctioneer.clearing.model import Auction, Bid, Bundle, Resource
from auctioneer.clearing.solve import clear
from auctioneer.cli import EXIT_NOT_OPTIMAL, app, main

from ..usage import names_option_and_value, usage_error

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[2]
OFFICE = ROOT / "examples" / "clearing" / "office.json"


def _json(args: list[str]) -> dict[str, Any]:
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data


# --------------------------------------------------------------------------
# generate clearing


@pytest.mark.parametrize("kind", ["uncorrelated", "weakly", "strongly", "compute"])
def test_generate_then_clear_round_trip(kind: str, tmp_path: Path) -> None:
    path = tmp_path / "sub" / f"{kind}.json"
    args = ["generate", "clearing", "--kind", kind, "--bids", "12", "--bundles", "3",
            "--capacity", "40", "--seed", "7"]
    written = runner.invoke(app, [*args, "-o", str(path)])
    assert written.exit_code == 0, written.output
    assert written.stdout == ""
    assert str(path) in written.stderr
    # stdout gets the same bytes, and the same seed gives the same file.
    printed = runner.invoke(app, args)
    assert printed.exit_code == 0
    assert printed.stdout == path.read_text()
    auction = load_auction(path)
    assert len(auction.bids) == 12
    assert auction.dimensions == (3 if kind == "compute" else 2)
    data = _json(["clear", str(path), "--json"])
    expected = clear(auction)
    assert data["status"] == "optimal"
    assert data["revenue"]["micros"] == expected.revenue
    assert sum(w["price"]["micros"] for w in data["winners"]) == expected.revenue
    for resource in data["resources"]:
        assert resource["used"] <= resource["capacity"]


def test_generate_options_reach_the_generator(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    result = runner.invoke(app, ["generate", "clearing", "--kind", "strongly", "--bids", "10",
                                 "--bundles", "2", "--resources", "3", "--capacity", "30",
                                 "--seed", "3", "--max-quantity", "4", "--reserves",
                                 "--sellers", "0.5", "-o", str(path)])
    assert result.exit_code == 0, result.output
    auction = load_auction(path)
    assert auction.capacities == (30, 30, 30)
    assert {len(b.bundles) for b in auction.bids} == {2}
    assert max(abs(q) for b in auction.bids for x in b.bundles for q in x.quantities) <= 4
    assert sum(b.name.startswith("s") for b in auction.bids) == 5
    assert all(r.reserve == 500_000 for r in auction.resources)


def test_generate_help_lists_its_options() -> None:
    result = runner.invoke(app, ["generate", "clearing", "--help"])
    assert result.exit_code == 0
    for option in ("--kind", "--bids", "--bundles", "--resources", "--capacity", "--seed",
                   "--output", "--sellers", "--reserves"):
        assert option in result.output


# --------------------------------------------------------------------------
# clear: tables and JSON


def test_clear_prints_winners_and_summary() -> None:
    result = runner.invoke(app, ["clear", str(OFFICE)])
    assert result.exit_code == 0, result.output
    out = result.stdout
    for text in ("acme", "bolt", "rooms", "parking", "$26,000.00", "$30,000.00", "optimal",
                 "$56,000.00", "10 / 10", "14 / 20", "method", "time"):
        assert text in out, text
    assert "core" not in out.split("status")[0]  # core loses


def test_clear_vcg_payments() -> None:
    result = runner.invoke(app, ["clear", str(OFFICE), "--payments", "vcg"])
    assert result.exit_code == 0, result.output
    assert "$14,000.00" in result.stdout and "VCG" in result.stdout
    data = _json(["clear", str(OFFICE), "--payments", "vcg", "--json"])
    assert data["payment_rule"] == "vcg"
    assert [w["payment"]["micros"] for w in data["winners"]] == [14_000_000_000] * 2
    assert data["payments_total"]["amount"] == "28000.00"


@pytest.mark.parametrize("method", ["auto", "dp", "brute", "milp", "bnb"])
def test_every_method_clears_the_office(method: str) -> None:
    data = _json(["clear", str(OFFICE), "--method", method, "--json"])
    assert data["revenue"] == {"amount": "56000.00", "micros": 56_000_000_000}
    assert data["method"] == (method if method != "auto" else data["method"])
    assert [(w["bid"], w["bundle"]) for w in data["winners"]] == [("acme", 1), ("bolt", 0)]


def test_clear_json_is_machine_readable() -> None:
    data = _json(["clear", str(OFFICE), "--json"])
    assert data["file"] == str(OFFICE)
    assert data["status"] == "optimal" and data["optimal"] is True
    for winner in data["winners"]:
        assert isinstance(winner["price"]["amount"], str)
        assert isinstance(winner["price"]["micros"], int)
    assert {"seconds", "stats", "resources", "method"} <= set(data)


def test_clear_k_best(tmp_path: Path) -> None:
    result = runner.invoke(app, ["clear", str(OFFICE), "--k", "4"])
    assert result.exit_code == 0, result.output
    assert "4 best allocations" in result.stdout
    assert "acme#1 bolt#0" in result.stdout and "$53,000.00" in result.stdout
    data = _json(["clear", str(OFFICE), "--k", "4", "--json"])
    expected = k_best(load_auction(OFFICE), 4)
    assert [s["rank"] for s in data["k_best"]] == [1, 2, 3, 4]
    assert [s["revenue"]["micros"] for s in data["k_best"]] == [r.revenue for r in expected]
    assert data["k_best"][0]["winners"] == [{"bid": "acme", "bundle": 1},
                                            {"bid": "bolt", "bundle": 0}]
    # More than exist: all of them (3 bids: at most 4 * 2 * 3 allocations).
    many = _json(["clear", str(OFFICE), "--k", "100", "--json", "--method", "brute"])
    assert 1 < len(many["k_best"]) <= 24


def test_clear_reads_stdin() -> None:
    result = runner.invoke(app, ["clear", "-", "--json"], input=OFFICE.read_text())
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["revenue"]["micros"] == 56_000_000_000


def test_two_sided_summary_has_budget_balance(tmp_path: Path) -> None:
    auction = Auction((Resource("cpu", 2),), (
        Bid("buyer", (Bundle((3,), 30_000_000),)),
        Bid("seller", (Bundle((-2,), -10_000_000),)),
    ))
    path = tmp_path / "exchange.json"
    path.write_text(dumps_auction(auction))
    result = runner.invoke(app, ["clear", str(path)])
    assert result.exit_code == 0, result.output
    assert "budget" in result.stdout and "surplus" in result.stdout
    data = _json(["clear", str(path), "--json"])
    assert "budget_balance" in data
    assert data["budget_balance"]["surplus"]["micros"] == data["revenue"]["micros"]


# --------------------------------------------------------------------------
# clear: statuses that are not optimal exit 1


def _write(tmp_path: Path, auction: Auction) -> str:
    path = tmp_path / "auction.json"
    path.write_text(dumps_auction(auction))
    return str(path)


def test_infeasible_exits_1_with_the_status(tmp_path: Path) -> None:
    auction = Auction((Resource("cpu", 2),), (Bid("big", (Bundle((3,), 5),), must_win=True),))
    path = _write(tmp_path, auction)
    result = runner.invoke(app, ["clear", path])
    assert result.exit_code == EXIT_NOT_OPTIMAL == 1
    assert "infeasible" in result.stdout
    as_json = runner.invoke(app, ["clear", path, "--json"])
    assert as_json.exit_code == 1
    assert json.loads(as_json.stdout)["status"] == "infeasible"
    assert main(["clear", path, "--json"]) == 1


def test_too_large_exits_1_with_the_reason(tmp_path: Path) -> None:
    bids = tuple(Bid(f"b{t}", tuple(Bundle((1,), p) for p in (1, 2, 3))) for t in range(20))
    path = _write(tmp_path, Auction((Resource("cpu", 5),), bids))
    result = runner.invoke(app, ["clear", path, "--method", "brute"])
    assert result.exit_code == 1
    assert "too-large" in result.stdout and "reason" in result.stdout


def test_time_limit_exits_1(tmp_path: Path) -> None:
    path = tmp_path / "hard.json"
    made = runner.invoke(app, ["generate", "clearing", "--kind", "strongly", "--bids", "200",
                               "--seed", "1", "-o", str(path)])
    assert made.exit_code == 0
    result = runner.invoke(app, ["clear", str(path), "--method", "bnb", "--time-limit", "1e-9",
                                 "--json"])
    data = json.loads(result.stdout)
    assert data["status"] in ("time-limit", "optimal")
    assert result.exit_code == (0 if data["status"] == "optimal" else 1)


# --------------------------------------------------------------------------
# Bad input: exit 2 and one line naming the place


def _bad_file(tmp_path: Path) -> Path:
    data = json.loads(OFFICE.read_text())
    data["bids"].append({"name": "alice", "bundles": [
        {"quantities": {"rooms": 1}, "price": "1"},
        {"quantities": {"rooms": 2}, "price": "1.2.3"},
    ]})
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data, indent=2))
    return path


def test_bad_file_exits_2_naming_bid_bundle_and_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _bad_file(tmp_path)
    result = runner.invoke(app, ["clear", str(path)])
    assert result.exit_code == 2
    assert "bids[3] 'alice' bundles[1].price" in result.output
    assert "Traceback" not in result.output
    assert main(["clear", str(path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    line = captured.err.strip()
    assert "\n" not in line and line.startswith("auctioneer: error: ")
    assert f"{path}: bids[3] 'alice' bundles[1].price: '1.2.3' is not an amount" in line


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"resources": [],\n "bids": [}', "line 2 column 11"),
        ('{"resources": [{"name": "cpu", "capacity": 1.5}], "bids": []}',
         "resources[0] 'cpu' capacity: 1.5"),
        ('{"resources": [], "bids": [{"name": "x", "bundles": [{"price": 2.5}]}]}',
         "bids[0] 'x' bundles[0].price: 2.5 is a float"),
    ],
)
def test_malformed_files_exit_2(
    text: str, expected: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "f.json"
    path.write_text(text)
    assert main(["clear", str(path)]) == 2
    err = capsys.readouterr().err
    assert expected in err and err.count("\n") == 1


def test_missing_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["clear", str(tmp_path / "nope.json")]) == 2
    assert "cannot read the file" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("args", "option", "value"),
    [
        (["clear", "{FILE}", "--method", "simplex"], "--method", "simplex"),
        (["clear", "{FILE}", "--payments", "gsp"], "--payments", "gsp"),
        (["clear", "{FILE}", "--k", "0"], "--k", "0"),
        (["clear", "{FILE}", "--k", "two"], "--k", "two"),
        (["clear", "{FILE}", "--time-limit", "-1"], "--time-limit", "-1"),
        (["clear", "{FILE}", "--time-limit", "0"], "--time-limit", "0"),
        (["clear", "{FILE}", "--time-limit", "soon"], "--time-limit", "soon"),
        (["clear", "{FILE}", "--time-limit", "nan"], "--time-limit", "nan"),
        (["generate", "clearing", "--kind", "hard"], "--kind", "hard"),
        (["generate", "clearing", "--bids", "-1"], "--bids", "-1"),
        (["generate", "clearing", "--bundles", "0"], "--bundles", "0"),
        (["generate", "clearing", "--capacity", "x"], "--capacity", "x"),
        (["generate", "clearing", "--seed", "-3"], "--seed", "-3"),
        (["generate", "clearing", "--sellers", "1.5"], "--sellers", "1.5"),
        (["generate", "clearing", "--resources", "0"], "--resources", "0"),
    ],
)
def test_bad_options_exit_2_naming_option_and_value(
    args: list[str], option: str, value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = [str(OFFICE) if a == "{FILE}" else a for a in args]
    result = runner.invoke(app, argv)
    assert result.exit_code == 2
    assert option in result.output and value in result.output
    assert names_option_and_value(usage_error(argv, capsys), option, value)


def test_generator_refusals_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    # Options valid one by one but not together: the library's message, exit 2.
    assert main(["generate", "clearing", "--kind", "compute", "--resources", "5"]) == 2
    assert "resources 5" in capsys.readouterr().err
    assert main(["generate", "clearing", "--kind", "compute", "--max-quantity", "3"]) == 2
    assert "max_quantity" in capsys.readouterr().err
