"""The comparison matrix is built from its inputs: a tick bench JSON and measurements."""

import json
from pathlib import Path

import pytest

from auctioneer.incentives.complexity import STRUCTURE_PREFIX, c_functions, count_lines
from auctioneer.incentives.experiment import load_tick_bench, run_experiment
from auctioneer.incentives.market import IncentiveConfig, mechanism
from auctioneer.incentives.matrix import tick_costs
from auctioneer.incentives.thermal import thermal_response
from auctioneer.tick import STRUCTURES


def fake_bench() -> dict[str, object]:
    """Numbers no real run produces, so a cell showing one came from here."""
    results: list[dict[str, object]] = []
    for i, name in enumerate(STRUCTURES):
        for n, scale in ((10, 1.0), (1000, 10.0)):
            results.append({
                "structure": name, "n": n, "bytes_per_agent": 111.0 + i,
                "in_c_ns": {"tick": {"p50": 5.0 * scale, "p99": 4321.0 + i + n}},
                "from_python_ns": {"tick": {"p50": 1.0, "p99": 2.0}},
            })
    results.append({"structure": "heapq", "n": 1000, "bytes_per_agent": 1.0,
                    "in_c_ns": None, "from_python_ns": {"tick": {"p50": 1.0, "p99": 1.0}}})
    return {"results": results}


def test_matrix_cells_come_from_the_tick_bench(quick: IncentiveConfig) -> None:
    result = run_experiment(quick, tick_bench=fake_bench())
    for i, row in enumerate(result.matrix):
        assert row.cost is not None
        assert row.cost.p99_ns == 4321.0 + i + 1000
        assert row.cost.bytes_per_agent == 111.0 + i
        assert row.cost.n == 1000 and row.cost.timer == "C"
        assert row.cost.growth == pytest.approx(1 / 2)  # 10x the time for 100x the agents
    by_name = {r.structure: r for r in result.matrix}
    summaries = {s.mechanism: s for s in result.summaries}
    assert by_name["TierBook"].truthful == summaries["tier-fifo"]
    assert by_name["IndexedHeap"].truthful == summaries["second-price"]
    assert by_name["SampledTopK"].sybil is not None
    assert by_name["SampledTopK"].sybil.gain.mean > 0
    assert by_name["TierBook"].lines == count_lines()["TierBook"]


def test_python_timer_when_no_c_timing() -> None:
    bench = {"results": [{"structure": "LazyHeap", "n": 500, "bytes_per_agent": 9.5,
                          "in_c_ns": None, "from_python_ns": {"tick": {"p50": 3, "p99": 77}}}]}
    cost = tick_costs(bench)["LazyHeap"]
    assert (cost.timer, cost.p99_ns, cost.n, cost.growth) == ("Python", 77.0, 500, None)


@pytest.mark.parametrize(("bench", "message"), [
    ({}, "missing list 'results'"),
    ({"results": [{"n": 10}]}, "results\\[0\\]: missing field 'structure'"),
    ({"results": [{"structure": "TierBook", "n": 10, "in_c_ns": {"tick": {"p99": 1}}}]},
     "TierBook at n=10: missing field 'bytes_per_agent'"),
    ({"results": [{"structure": "TierBook", "n": 10, "bytes_per_agent": "x",
                   "in_c_ns": {"tick": {"p99": 1}}}]}, "bytes_per_agent is 'x'"),
])
def test_bad_tick_bench_names_the_field(bench: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        tick_costs(bench)


def test_load_tick_bench_errors(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="cannot read"):
        load_tick_bench(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{nope")
    with pytest.raises(ValueError, match="is not JSON"):
        load_tick_bench(bad)
    good = tmp_path / "good.json"
    good.write_text(json.dumps(fake_bench()))
    assert load_tick_bench(good)["results"]


def test_line_counts_come_from_the_sources() -> None:
    source = "static int a_op(int x)\n{\n    return b(x); /* why */\n}\n\nint b(int y)\n{\n" \
             "\n    return y;\n}\n"
    assert sorted(c_functions(source)) == ["a_op", "b"]
    counts = count_lines()
    assert set(counts) == set(STRUCTURE_PREFIX)
    assert all(c.c_lines > 50 and c.python_lines > 20 for c in counts.values())


def test_thermal_awareness_is_measured(quick: IncentiveConfig) -> None:
    posted = thermal_response(mechanism("posted"), quick)
    assert posted.aware and posted.response == quick.multipliers[-1]
    proportional = thermal_response(mechanism("proportional"), quick)
    assert not proportional.aware and proportional.response == 1.0
