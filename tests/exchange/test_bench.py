"""``auctioneer bench exchange``: the engines agree, the report and files are written.

Behaviour only: how fast anything runs is the benchmark's business, not a test's.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from auctioneer.cli import main
from auctioneer.exchange.bench import (
    ENGINES,
    ExchangeBenchConfig,
    parse_engines,
    run_exchange_bench,
)
from auctioneer.exchange.bench_stream import mixed_stream, order_stream

from ..plots import is_png


def test_every_engine_matches_the_same_volume_on_the_same_stream() -> None:
    result = run_exchange_bench(ExchangeBenchConfig.build(orders=1_000, repeats=1))
    assert [r.engine for r in result.runs] == list(ENGINES)
    volumes = {r.volume for r in result.runs if r.volume >= 0}
    resting = {r.resting for r in result.runs if r.resting >= 0}
    assert len(volumes) == 1 and volumes.pop() > 0
    assert len(resting) == 1
    assert all(r.rate > 0 and r.latency.p50 > 0 for r in result.runs)
    names = [t.name for t in result.targets]
    assert names[0].startswith("in-process matching >= 300,000 orders/s")
    # Timing targets may say MISS on a loaded machine; agreement on volume may not.
    agreed = {t.name: t.passed for t in result.targets}["every engine matched the same volume"]
    assert agreed is True


def test_the_stream_is_seeded() -> None:
    assert order_stream(50, 7) == order_stream(50, 7) != order_stream(50, 8)


def test_engines_parse_and_refuse_unknown_names() -> None:
    assert parse_engines("all") == ENGINES
    with pytest.raises(ValueError, match="engine 'kdb' is not one of"):
        parse_engines("auctioneer,kdb")


def test_cli_writes_json_and_plot(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out, plot = tmp_path / "b.json", tmp_path / "b.png"
    code = main(["bench", "exchange", "--orders", "500", "--repeats", "1", "--engines",
                 "auctioneer,lightmatchingengine", "--json", str(out), "--plot", str(plot)])
    assert code == 0
    text = capsys.readouterr().out
    assert "auctioneer/engine" in text and ("MISS" in text or "PASS" in text)
    data = json.loads(out.read_text())
    assert [r["engine"] for r in data["runs"]] == ["auctioneer", "lightmatchingengine"]
    assert is_png(plot)


def test_the_other_targets_are_judged_without_the_python_engine(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Leaving the Python engine out skips its own target only: replay and the native engine
    against liquibook are still judged."""
    code = main(["bench", "exchange", "--orders", "500", "--repeats", "1", "--engines",
                 "auctioneer-native-engine,liquibook", "--plot", str(tmp_path / "b.png")])
    assert code == 0
    text = capsys.readouterr().out
    assert "SKIP  in-process matching" in text
    for target in ("journal replay >=", "native engine (settling too) >="):
        assert target in text


def test_cli_names_a_bad_option(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "exchange", "--engines", "kdb"]) == 2
    assert "--engines" in capsys.readouterr().err
    assert main(["bench", "exchange", "--orders", "0"]) == 2
    assert main(["bench", "exchange", "--mix", "51"]) == 2
    assert main(["bench", "exchange", "--engines", "liquibook", "--mix", "10"]) == 2
    assert "--mix needs one of the engines" in capsys.readouterr().err


def test_the_mixed_stream_runs_on_both_engines_in_c(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``--mix 10``: the Python and native engines match the same volume, the native engine's
    state stays in C throughout, and every other engine is skipped with its reason."""
    out = tmp_path / "b.json"
    code = main(["bench", "exchange", "--orders", "400", "--repeats", "1", "--mix", "10",
                 "--json", str(out), "--plot", str(tmp_path / "b.png")])
    assert code == 0
    text = capsys.readouterr().out
    for engine in ("auctioneer-native", "lightmatchingengine", "pyorderbook", "liquibook"):
        assert f"Skipped {engine}: takes no all-or-none orders" in text
    assert "x the Python engine, 0 of 400 commands with the state outside C" in text
    runs = {r["engine"]: r for r in json.loads(out.read_text())["runs"]}
    assert list(runs) == ["auctioneer", "auctioneer-native-engine"]
    python, native = runs["auctioneer"], runs["auctioneer-native-engine"]
    assert python["volume"] == native["volume"] > 0
    assert python["resting"] == native["resting"]
    assert native["outside_c"] == 0
    stream = mixed_stream(400, 0, 10)
    assert any(o.all_or_none for o in stream) and any(len(o.markets) > 1 for o in stream)
