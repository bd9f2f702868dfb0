"""The cachegrind probe: its summary parser and its workload (valgrind itself is not run here)."""

import pytest

from auctioneer.tick.cache_probe import CacheResult, measure, parse_summary, probe

SUMMARY = """==7== I   refs:      249,385,377
==7== I1  misses:      2,425,753
==7== LLi misses:         18,139
==7== D   refs:      108,014,322  (72,113,939 rd   + 35,900,383 wr)
==7== D1  misses:      3,088,678  ( 2,731,732 rd   +    356,946 wr)
==7== LLd misses:        175,774  (    47,215 rd   +    128,559 wr)
==7== LL refs:         5,514,431  ( 5,157,485 rd   +    356,946 wr)
==7== LL misses:         193,913  (    65,354 rd   +    128,559 wr)
"""


def test_the_summary_counts_are_read_with_their_separators() -> None:
    assert parse_summary(SUMMARY) == {"I": 249_385_377, "D": 108_014_322, "D1": 3_088_678,
                                      "LLd": 175_774, "LL": 193_913}


@pytest.mark.parametrize("name", ["TierBook", "LazyHeap", "IndexedHeap"])
@pytest.mark.parametrize("run", [True, False])
def test_the_probe_runs_its_workload_without_valgrind(name: str, run: bool) -> None:
    probe(name, 50, 200, run)


def test_a_result_is_per_tick() -> None:
    r = CacheResult("TierBook", 10, 4, {"I": 100.0, "D": 40.0, "D1": 2.0, "LLd": 0.5, "LL": 0.5})
    assert r.to_dict()["d1_miss_rate"] == 0.05 and r.to_dict()["instructions"] == 100.0


@pytest.mark.parametrize(("ticks", "sizes"), [(0, (10,)), (10**30, (10,)), (5, (2**63,))])
def test_bad_sizes_are_refused_before_any_run(ticks: int, sizes: tuple[int, ...]) -> None:
    with pytest.raises(ValueError, match="ticks|n "):
        measure(("TierBook",), sizes, ticks)
