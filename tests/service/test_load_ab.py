"""``tools/load_ab.py``: the interleaved ``auctioneer load`` A/B behind docs/service.md."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tools import load_ab

RESULT = {"orders_per_s": 2000.0, "latency_ms": {"p50": 1.0, "p99": 8.0, "p999": 9.0},
          "server_cpu_us": {"service": 80.0, "follower": 16.0}}


def test_the_order_rotates_so_no_tree_always_goes_first() -> None:
    orders = [load_ab.rotation(["a", "b", "c"], r) for r in range(4)]
    assert orders == [["a", "b", "c"], ["b", "c", "a"], ["c", "a", "b"], ["a", "b", "c"]]


def test_medians_and_ratios_against_the_first_tree() -> None:
    runs = [load_ab.Run.of("base", r, 1.0, {**RESULT, "orders_per_s": rate})
            for r, rate in enumerate([1000.0, 3000.0, 2000.0])]
    runs += [load_ab.Run("new", r, 1.0, 60.0 + r, 12.0, 2500.0, 5.0) for r in range(3)]
    got = load_ab.summarize(runs, ["base", "new"])
    assert got["base"]["orders_per_s"] == 2000.0
    assert got["new"]["service_us"] == 61.0
    assert got["new"]["service_us_ratio"] == pytest.approx(61.0 / 80.0)
    assert got["new"]["p99_ms_ratio"] == pytest.approx(5.0 / 8.0)
    with pytest.raises(ValueError, match="'gone'"):
        load_ab.summarize(runs, ["base", "gone"])


@pytest.mark.parametrize(("argv", "message"), [
    (["a"], "NAME=TREE, not 'a'"),
    (["=.", "--", "--batch", "1"], "NAME=TREE, not '=.'"),
    (["a=.", "--rounds", "0"], "--rounds must be at least 1, not 0"),
    (["a=.", "--", "--json", "x.json"], "--json is the tool's own"),
])
def test_bad_arguments_are_refused_by_name(argv: list[str], message: str,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        load_ab.main(argv)
    assert exit_.value.code == 2
    assert message in capsys.readouterr().err


def test_one_round_of_this_checkout_end_to_end(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    load_ab.main(["--rounds", "1", "--out", str(tmp_path), f"here={load_ab.REPO}", "--",
                  "--duration", "1", "--warmup", "0", "--batch", "25"])
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert [r["tree"] for r in summary["runs"]] == ["here"]
    assert summary["medians"]["here"]["orders_per_s"] > 0
    assert summary["medians"]["here"]["service_us_ratio"] == 1.0
    assert "here medians: service CPU" in capsys.readouterr().out
