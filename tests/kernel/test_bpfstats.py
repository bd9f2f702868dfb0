"""Each callback's cost from run.sh profile's bpf_stats reads: per call and per round trip."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from auctioneer.cli.app import main
from auctioneer.kernel.bpfstats import callback_of, load_turns, ops_name, summarise, turn_costs


def _prog(pid: int, name: str, cnt: int = 0, ns: int = 0, kind: str = "struct_ops") -> dict:
    """One entry of ``bpftool -j prog show``; a program that never ran has no run_cnt."""
    out: dict = {"id": pid, "type": kind, "name": name}
    if cnt:
        out.update(run_cnt=cnt, run_time_ns=ns)
    return out


def _doc(scheduler: str, turn: int, before: list, after: list, loops: int = 1000) -> dict:
    return {"scheduler": scheduler, "turn": turn, "clock": "MTTCG wall clock", "loops": loops,
            "pipe_us": 20.0, "before": before, "after": after}


AUCTION = _doc("auction", 1,
               [_prog(1, "auction_select_", 10, 5000), _prog(2, "auction_enqueue"),
                _prog(3, "auction_dispatc", 4, 4000), _prog(9, "simple_enqueue", 5, 50),
                _prog(4, "auction_init", 1, 100)],
               [_prog(1, "auction_select_", 2010, 1_005_000), _prog(2, "auction_enqueue", 500,
                                                                     250_000),
                _prog(3, "auction_dispatc", 2004, 404_000), _prog(9, "simple_enqueue", 999, 99),
                _prog(4, "auction_init", 1, 100), _prog(5, "auction_running", 3000, 300_000),
                _prog(6, "auction_helper", 7, 7, kind="tracing")])


def test_names() -> None:
    """Builds of one scheduler share its ops name; cut names map to the one callback they begin."""
    assert [ops_name(s) for s in ("auction", "auction:HANDOFF=0", "auction@abc:KICK=0",
                                  "scx_simple")] == ["auction", "auction", "auction", "simple"]
    assert callback_of("auction_select_", "auction") == "select_cpu"
    assert callback_of("auction_init", "auction") == "init"  # exact beats init_task
    assert callback_of("auction_init_ta", "auction") == "init_task"
    assert callback_of("auction_cgroup_", "auction") == "cgroup_"  # several begin it
    assert callback_of("simple_enqueue", "auction") is None


def test_one_turn_is_the_difference_of_its_reads() -> None:
    """Only the scheduler's struct_ops programs, by id; one that did not run is left out."""
    rows = {c.callback: c for c in turn_costs(AUCTION)}
    assert list(rows) == ["select_cpu", "enqueue", "dispatch", "running"]
    sel = rows["select_cpu"]
    assert (sel.calls_per_round_trip, sel.ns_per_call, sel.ns_per_round_trip) == (2.0, 500.0,
                                                                                 1000.0)
    assert rows["enqueue"].calls_per_round_trip == 0.5  # no run_cnt before: 0
    assert rows["running"].ns_per_call == 100.0  # loaded after the first read
    assert rows["dispatch"].ns_per_round_trip == 400.0


def test_summary_is_the_median_over_turns_with_a_total() -> None:
    second = _doc("auction", 3, [], [_prog(11, "auction_select_", 3000, 600_000)])
    rows = {c.callback: c for c in summarise([turn_costs(AUCTION), turn_costs(second)])}
    assert rows["select_cpu"].turns == 2
    assert rows["select_cpu"].calls_per_round_trip == pytest.approx(2.5)
    assert rows["select_cpu"].ns_per_call == pytest.approx((500 + 200) / 2)
    assert rows["enqueue"].calls_per_round_trip == pytest.approx(0.25)  # 0 in the second turn
    total = rows["all"]
    assert total.ns_per_round_trip == pytest.approx((1000 + 250 + 400 + 300 + 600) / 2)
    assert total.calls_per_round_trip == pytest.approx((2 + 0.5 + 2 + 3 + 3) / 2)
    idle = summarise([turn_costs(_doc("scx_simple", 2, [], [_prog(1, "simple_tick")]))])
    assert idle == []


def test_bad_input_names_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "bpfstats-auction-1.json"
    bad.write_text(json.dumps(dict(AUCTION, loops=0)))
    with pytest.raises(ValueError, match="bpfstats-auction-1.json.*loops must be positive"):
        load_turns([bad])
    bad.write_text("{")
    with pytest.raises(ValueError, match="bpfstats-auction-1.json"):
        load_turns([bad])


def test_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    files = []
    for i, doc in enumerate([AUCTION, _doc("scx_simple", 2, [],
                                           [_prog(21, "simple_select_c", 2000, 600_000)])]):
        files.append(tmp_path / f"bpfstats-{i}.json")
        files[-1].write_text(json.dumps(doc))
    out = tmp_path / "b.json"
    assert main(["kernel", "bpfstats", *map(str, files), "--json", str(out)]) == 0
    text = capsys.readouterr().out
    assert "emulated" in text
    line = next(x for x in text.splitlines() if x.startswith("auction ") and "select_cpu" in x)
    assert line.split()[-1] == "+400"  # 1000 ns per round trip against 600
    rows = json.loads(out.read_text())["rows"]
    assert {r["scheduler"] for r in rows} == {"auction", "scx_simple"}
    assert not any(math.isnan(r["ns_per_call"]) for r in rows)
    assert main(["kernel", "bpfstats", str(tmp_path / "none.json")]) == 2


def test_a_lingering_program_of_the_same_name_is_told_apart_by_its_id() -> None:
    """A program left from an earlier load (same cut name, another id) ran before the turn:
    its counts are not this turn's, whichever order bpftool lists them in."""
    old = _prog(8, "auction_select_", 90_000, 9_000_000)
    doc = _doc("auction", 1, [_prog(1, "auction_select_", 10, 5000), old],
               [_prog(1, "auction_select_", 2010, 1_005_000), old])
    [sel] = turn_costs(doc)
    assert (sel.calls_per_round_trip, sel.ns_per_call) == (2.0, 500.0)


def test_the_summary_is_a_median_not_a_mean() -> None:
    """Three turns, one far off: the middle one is the summary."""
    turns = [turn_costs(_doc("auction", t, [], [_prog(1, "auction_select_", 2000, ns)]))
             for t, ns in enumerate([400_000, 1_000_000, 90_000_000])]
    [sel, _] = summarise(turns)
    assert (sel.callback, sel.turns, sel.ns_per_call) == ("select_cpu", 3, 500.0)
