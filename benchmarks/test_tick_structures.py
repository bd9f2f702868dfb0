"""pytest-benchmark suite: one tick (update + select(2)) per structure at N = 1000.

Run by hand, ``pytest benchmarks/`` (``make test`` collects only ``tests``);
``auctioneer bench tick`` is the fuller benchmark, with percentiles, timing
inside C, memory and targets. Here each benchmarked call is one tick driven
from Python, so the figures include the Python call overhead, and the same
for every book: the native structures, their pure-Python reference, and the
``heapq`` and ``SortedList`` baselines.
"""

from collections.abc import Callable
from itertools import cycle
from typing import Any

import numpy as np
import pytest

from auctioneer.bench.baselines import BASELINES
from auctioneer.bench.tick import PRICE_HIGH, PRICE_LOW
from auctioneer.tick import STRUCTURES, _core, reference

N = 1000
OPS = 4096

BOOKS: list[tuple[str, Callable[[int], Any]]] = [
    *((f"native-{name}", getattr(_core, name)) for name in STRUCTURES),
    *((f"reference-{name}", getattr(reference, name)) for name in STRUCTURES),
    *((f"baseline-{name}", cls) for name, cls in BASELINES.items()),
]


@pytest.mark.parametrize(("label", "make"), BOOKS, ids=[label for label, _ in BOOKS])
def test_tick(benchmark: Any, label: str, make: Callable[[int], Any]) -> None:
    rng = np.random.default_rng(0)
    book = make(N)
    for agent, price in enumerate(rng.integers(PRICE_LOW, PRICE_HIGH, N).tolist()):
        book.update(agent, price)
    ops = cycle(
        zip(rng.integers(0, N, OPS).tolist(), rng.integers(PRICE_LOW, PRICE_HIGH, OPS).tolist(),
            strict=True)
    )
    update, select = book.update, book.select

    def tick() -> tuple[list[int], list[int]]:
        agent, price = next(ops)
        update(agent, price)
        return select(2)

    benchmark.group = f"tick at N={N}"
    agents, prices = benchmark(tick)
    assert len(agents) == 2 and prices[0] >= prices[1]
