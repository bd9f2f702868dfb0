"""``auctioneer clock``, ``generate clock`` and ``bench clock`` as typer commands.

The commands are registered here on a fresh app exactly as :mod:`auctioneer.cli`
registers them (:func:`auctioneer.cli.clock.register`), so these tests do not
depend on the main CLI module.
"""

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from auctioneer.cli.clock import EXIT_NOT_CLEARED, register
from auctioneer.clock import load_market

from ..plots import is_png
from ..usage import flat, registered_app
from .conftest import swap_traders

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "clock" / "planet.json"
runner = CliRunner(env={"COLUMNS": "200"})


APP = registered_app(register, "generate", "bench")


def _json(args: list[str], code: int = 0) -> dict[str, Any]:
    result = runner.invoke(APP, args)
    assert result.exit_code == code, result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def test_clock_on_the_example_prints_a_summary(tmp_path: Path) -> None:
    png = tmp_path / "out" / "prices.png"
    result = runner.invoke(APP, ["clock", str(EXAMPLE), "--plot", str(png)])
    assert result.exit_code == 0, result.output
    for words in ("11 users (8 buyers, 2 sellers, 1 trader), 9 pools in 3 clusters",
                  "Pools", "Users", "eu-west/gpu", "ads-training", "status", "cleared",
                  "feasible", "rounds"):
        assert words in result.stdout, words
    assert is_png(png)
    assert f"wrote {png}" in result.stderr


def test_clock_json_and_options_reach_the_rule() -> None:
    data = _json(["clock", str(EXAMPLE), "--json"])
    assert data["status"] == "cleared" and data["feasible"] is True
    assert data["rule"] == "relative: step = p * max(min(1/2 * z/S, 5%), 0.1%)"
    assert data["file"] == str(EXAMPLE)
    norm = _json(["clock", str(EXAMPLE), "--json", "--normalise", "--alpha", "1",
                  "--delta", "2%", "--epsilon", "0.5%"])
    assert norm["rule"] == "normalised: step = base * max(min(1 * z/S, 2%), 0.5%)"
    absolute = _json(["clock", str(EXAMPLE), "--json", "--absolute", "--alpha", "0.001",
                      "--delta", "$0.05"])
    assert absolute["rule"] == ("absolute: step = max(min(1000 * z, 50000), 1) micro-units")
    limited = _json(["clock", str(EXAMPLE), "--json", "--max-rounds", "2"], EXIT_NOT_CLEARED)
    assert limited["status"] == "round-limit" and limited["rounds"] == 2
    assert limited["feasible"] is False


def test_clock_reads_stdin() -> None:
    result = runner.invoke(APP, ["clock", "-", "--json"], input=EXAMPLE.read_text())
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["file"] == "<stdin>"


def test_a_cycle_is_reported_with_exit_1() -> None:
    path = ROOT / "examples" / "clock" / "trader-cycle.json"
    assert load_market(path) == swap_traders()
    result = runner.invoke(APP, ["clock", str(path), "--absolute", "--alpha", "0.02",
                                 "--delta", "0.02"])
    assert result.exit_code == EXIT_NOT_CLEARED
    assert "cycle" in result.stdout and "t1, t2" in result.stdout
    relative = runner.invoke(APP, ["clock", str(path)])
    assert relative.exit_code == EXIT_NOT_CLEARED
    assert "price-ceiling" in relative.stdout


@pytest.mark.parametrize("args, words", [
    (["--relative", "--normalise"], "choose one step mode, not normalised and relative"),
    (["--alpha", "fast"], "--alpha 'fast' is not a number"),
    (["--alpha", "0"], "alpha 0 must be positive"),
    (["--delta", "1%", "--epsilon", "2%"], "epsilon 1/50 must be in 0..delta"),
    (["--absolute", "--delta", "5%"], "a percentage is not allowed here"),
    (["--max-rounds", "-3"], "'-3' is out of range"),
])
def test_bad_options_exit_2(args: list[str], words: str) -> None:
    result = runner.invoke(APP, ["clock", str(EXAMPLE), *args])
    assert result.exit_code == 2
    assert words in flat(result.output)


def test_a_malformed_market_exits_2_naming_user_bundle_and_field(tmp_path: Path) -> None:
    data = json.loads(EXAMPLE.read_text())
    data["users"][3]["bundles"][1]["eu-west/gpu"] = 2.5
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data))
    result = runner.invoke(APP, ["clock", str(path)])
    assert result.exit_code == 2
    assert (f"{path}: users[3] 'ml-inference' bundles[1]['eu-west/gpu']: 2.5 is not an "
            "integer: floats are not allowed here") in flat(result.output)
    missing = runner.invoke(APP, ["clock", str(tmp_path / "nope.json")])
    assert missing.exit_code == 2 and "cannot read the file" in flat(missing.output)


def test_generate_then_clock_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "m.json"
    args = ["generate", "clock", "--clusters", "4", "--resources", "3", "--users", "60",
            "--bundles", "2", "--seed", "9", "--sellers", "0.1", "--traders", "0.05"]
    written = runner.invoke(APP, [*args, "-o", str(path)])
    assert written.exit_code == 0, written.output
    assert "60 users, 12 pools (4 clusters x 3 types)" in written.stderr
    printed = runner.invoke(APP, args)
    assert printed.stdout == path.read_text()  # same seed, same file
    market = load_market(path)
    assert market.shape[:2] == (60, 2)
    data = _json(["clock", str(path), "--json"])
    assert data["winners"] > 0


@pytest.mark.parametrize("args, words", [
    (["--resources", "11"], "'11' is out of range"),
    (["--bundles", "5", "--clusters", "4"], "'5' is out of range: it must be 1..4"),
    (["--sellers", "2"], "'2' is out of range"),
    (["--sellers", "0.6", "--traders", "0.6"], "must not exceed 1"),
])
def test_generate_bad_options_exit_2(args: list[str], words: str) -> None:
    result = runner.invoke(APP, ["generate", "clock", *args])
    assert result.exit_code == 2
    assert words in flat(result.output)


def test_bench_clock_command_runs_small(tmp_path: Path) -> None:
    out_json, png = tmp_path / "b.json", tmp_path / "b.png"
    result = runner.invoke(APP, ["bench", "clock", "--quick", "--sizes", "30x16,60x16",
                                 "--repeats", "1",
                                 "--welfare", "1", "--json", str(out_json), "--plot", str(png)])
    assert result.exit_code == 0, result.output
    assert "auctioneer bench clock" in result.stdout
    assert "SKIP  100,000 users x 1,000 pools" in result.stdout
    assert json.loads(out_json.read_text())["benchmark"] == "auctioneer.bench.clock"
    assert is_png(png)
    bad = runner.invoke(APP, ["bench", "clock", "--sizes", "10by10"])
    assert bad.exit_code == 2 and "USERSxPOOLS" in flat(bad.output)


def _registered() -> bool:
    from auctioneer.cli.app import app

    return any(c.name == "clock" for c in app.registered_commands)


@pytest.mark.skipif(not _registered(), reason="auctioneer.cli does not register clock yet")
def test_the_auctioneer_command_line_runs_clock(capsys: pytest.CaptureFixture[str]) -> None:
    from auctioneer.cli import main

    assert main(["clock", str(EXAMPLE), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["status"] == "cleared"
    assert main(["clock", str(EXAMPLE), "--relative", "--absolute"]) == 2
    assert "choose one step mode" in capsys.readouterr().err


def test_proxy_round_prints_the_comparison_and_writes_json_and_png(tmp_path: Path) -> None:
    png = tmp_path / "cmp.png"
    result = runner.invoke(APP, ["clock", str(EXAMPLE), "--proxy", "--proxy-plot", str(png)])
    assert result.exit_code == 0, result.output
    for words in ("clock only", "clock + proxy", "VCG", "core-selecting, certified"):
        assert words in result.stdout, words
    assert is_png(png)
    data = _json(["clock", str(EXAMPLE), "--proxy", "--json", "--method", "milp"])
    proxy = data["proxy"]
    assert proxy["status"] == "optimal" and proxy["core_certified"]
    welfare = [o["welfare"] for o in proxy["outcomes"]]
    assert welfare[1] == welfare[2]
    revenue = [int(o["revenue"]["micros"]) for o in proxy["outcomes"]]
    assert revenue[1] >= revenue[2]  # core revenue >= VCG revenue


def test_a_package_bid_outside_the_activity_rule_is_exit_2_naming_it(tmp_path: Path) -> None:
    bids = tmp_path / "bids.json"
    # search-indexer held a bundle in a cheaper cluster; a huge value for us-east breaks the rule.
    bids.write_text(json.dumps({"bids": [
        {"user": "search-indexer", "bundle": {"us-east/cpu": 64, "us-east/ram": 256},
         "value": "900"}]}))
    result = runner.invoke(APP, ["clock", str(EXAMPLE), "--bids", str(bids)])
    assert result.exit_code == 2
    text = flat(result.output)
    assert "user 'search-indexer' bundle {'us-east/cpu': 64, 'us-east/ram': 256}" in text
    assert "revealed-preference activity rule" in text


@pytest.mark.parametrize("body, words", [
    ({"bids": [{"user": "batch-etl", "bundle": {"us-east/cpu": 1}, "value": 3.5}]}, "float"),
    ({"bids": [{"user": "nobody", "bundle": {"us-east/cpu": 1}, "value": "3"}]}, "'nobody'"),
])
def test_bad_bids_files_are_exit_2(tmp_path: Path, body: dict[str, Any], words: str) -> None:
    bids = tmp_path / "bids.json"
    bids.write_text(json.dumps(body))
    result = runner.invoke(APP, ["clock", str(EXAMPLE), "--bids", str(bids)])
    assert result.exit_code == 2 and words in flat(result.output), result.output
