"""The CPython binding itself (``_core.c``): what the differential tests don't reach.

The shared tests prove the native books behave like the reference; these
check the binding's own parts: the timing harness (``time_ops``,
``timer_hz``), ``nbytes``, the class layout, argument binding and errors at
the edges, and reference counting (no leaked arguments or results).
"""

from __future__ import annotations

import array
import gc
import os
import sys
import time
import tracemalloc
import weakref
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from auctioneer.tick import PRICE_MAX, STRUCTURES, TierMap, _core, _timing, reference

pytestmark = pytest.mark.native

UPDATE, EXPIRE, TICK, EMPTY = 0, 1, 2, 3


def outcome(call: Callable[[], Any]) -> tuple[str, Any]:
    try:
        return ("ok", call())
    except Exception as exc:  # noqa: BLE001 - the exception itself is compared
        return (type(exc).__name__, str(exc))


def full_book(structure: str, capacity: int = 1000, seed: int = 7) -> Any:
    book = getattr(_core, structure)(capacity)
    rng = np.random.default_rng(seed)
    for agent, price in enumerate(rng.integers(0, 1_000_000, capacity).tolist()):
        book.update(agent, price)
    return book


def workload(capacity: int, length: int, seed: int = 11) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    agents = rng.integers(0, capacity, length, dtype=np.uint32)
    prices = rng.integers(0, 1_000_000, length, dtype=np.uint32)
    return agents, prices


# -- the timing harness ---------------------------------------------------------------------


def test_timer_hz_is_positive_and_cached() -> None:
    hz = _timing.timer_hz()
    assert isinstance(hz, int)
    assert 10**6 <= hz <= 10**11  # a TSC (MHz..GHz) or the 1 GHz clock_gettime fallback
    assert _timing.timer_hz() == hz


@pytest.mark.parametrize("structure", STRUCTURES)
@pytest.mark.parametrize("op", [UPDATE, EXPIRE, TICK, EMPTY])
def test_time_ops_returns_one_duration_per_operation(structure: str, op: int) -> None:
    book = full_book(structure)
    agents, prices = workload(book.capacity, 500)
    raw = _timing.time_ops(book, op, agents, prices)
    assert isinstance(raw, bytes)
    assert len(raw) == 8 * len(agents)
    ticks = np.frombuffer(raw, dtype=np.uint64)
    hz = _timing.timer_hz()
    assert int(ticks.max()) < hz  # every operation well under a second
    assert float(np.median(ticks)) < hz / 10_000  # and typically under 100 us
    book._check()
    assert len(book) == book.capacity  # every op keeps (or restores) the population
    if op in (UPDATE, EXPIRE, TICK):
        last = {int(a): int(p) for a, p in zip(agents, prices, strict=True)}
        assert all(book.bid(a) == (p, 1) for a, p in last.items())


def test_time_ops_empty_interval_is_the_cheapest() -> None:
    book = full_book("IndexedHeap")
    agents, prices = workload(book.capacity, 2000)
    empty = np.median(np.frombuffer(_timing.time_ops(book, EMPTY, agents, prices), np.uint64))
    tick = np.median(np.frombuffer(_timing.time_ops(book, TICK, agents, prices, 8), np.uint64))
    assert empty <= tick


def test_time_ops_ticks_fit_in_the_wall_clock() -> None:
    """Timed intervals are disjoint parts of the run: their sum is below its wall time."""
    book = full_book("IndexedHeap")
    agents, prices = workload(book.capacity, 50_000)
    start = time.perf_counter()
    ticks = np.frombuffer(_timing.time_ops(book, UPDATE, agents, prices), np.uint64)
    wall = time.perf_counter() - start
    assert 0 < int(ticks.sum()) / _timing.timer_hz() <= wall * 1.2


def test_time_ops_accepts_arrays_and_keywords() -> None:
    book = full_book("TournamentTree", capacity=16)
    agents = array.array("I", [1, 2, 3])
    prices = array.array("I", [10, PRICE_MAX, 0])
    assert len(_timing.time_ops(book, TICK, agents, prices, n=16)) == 24
    assert len(_timing.time_ops(book=book, op=UPDATE, agents=agents, prices=prices)) == 24
    assert book.bid(2) == (PRICE_MAX, 1)
    assert _timing.time_ops(book, EMPTY, array.array("I"), array.array("I")) == b""


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((5, [0], [0]), "op must be"),
        ((-1, [0], [0]), "op must be"),
        ((0, [0, 1], [0]), "differ in length"),
        ((0, [16], [0]), "out of range"),
        ((EXPIRE, [5], [1]), "has no live bid"),
    ],
)
def test_time_ops_rejects_bad_arguments(args: tuple[Any, ...], message: str) -> None:
    book = _core.IndexedHeap(16)
    op, agents, prices = args
    with pytest.raises(ValueError, match=message):
        _timing.time_ops(book, op, array.array("I", agents), array.array("I", prices))


def test_time_ops_rejects_bad_buffers_and_books() -> None:
    book = _core.LazyHeap(16)
    good = array.array("I", [1])
    for bad in (array.array("i", [1]), array.array("Q", [1]), b"\x01\x00\x00\x00",
                np.ones(1, np.int32), np.ones(1, np.float32), np.ones((2, 2), np.uint32)[:, 0],
                [1], None):
        with pytest.raises(ValueError, match="agents"):
            _timing.time_ops(book, UPDATE, bad, good)
        with pytest.raises(ValueError, match="prices"):
            _timing.time_ops(book, UPDATE, good, bad)
    with pytest.raises(ValueError, match="book"):
        _timing.time_ops(reference.LazyHeap(16), UPDATE, good, good)
    with pytest.raises(ValueError, match="n must be"):
        _timing.time_ops(book, TICK, good, good, 17)
    assert len(book) == 0  # nothing ran


# -- the objects ----------------------------------------------------------------------------


@pytest.mark.parametrize("structure", STRUCTURES)
def test_nbytes_grows_with_capacity(structure: str) -> None:
    sizes = [getattr(_core, structure)(n).nbytes for n in (1, 10, 1000, 100_000)]
    assert all(isinstance(s, int) and s > 0 for s in sizes)
    assert sizes == sorted(sizes) and sizes[0] < sizes[-1]
    assert sizes[-1] >= 100_000 * 16  # a 16-byte slot per agent at least


@pytest.mark.parametrize("structure", STRUCTURES)
def test_class_layout_matches_the_reference(structure: str) -> None:
    cls, ref = getattr(_core, structure), getattr(reference, structure)
    assert cls.kind == ref.kind == STRUCTURES.index(structure)
    assert cls.__name__ == structure
    book = cls(5)
    assert book.kind == ref.kind and book.capacity == 5
    for name in ("capacity", "tiermap", "depth", "threshold", "period", "group", "samples",
                 "seed"):
        assert hasattr(book, name) == hasattr(ref(5), name), name
        if hasattr(book, name):
            assert getattr(book, name) == getattr(ref(5), name)
            with pytest.raises(AttributeError):
                setattr(book, name, 1)
    public = {n for n in dir(ref) if not n.startswith("_")} | {"_check", "__len__",
                                                                "__contains__"}
    assert public <= set(dir(cls))
    assert weakref.ref(book)() is book


def test_parameters_round_trip() -> None:
    tiermap = TierMap.linear(width=10_000, base=500_000, tiers=100)
    book = _core.TierBook(capacity=8, tiermap=tiermap)
    assert book.tiermap is tiermap
    assert _core.TierBook(8).tiermap == TierMap.log()
    lazy = _core.LazyHeap(8, depth=5, threshold=PRICE_MAX, period=PRICE_MAX)
    assert (lazy.depth, lazy.threshold, lazy.period) == (5, PRICE_MAX, PRICE_MAX)
    assert _core.TournamentTree(8, 64).group == 64
    sampled = _core.SampledTopK(8, samples=2**24, seed=2**64 - 1)
    assert (sampled.samples, sampled.seed) == (2**24, 2**64 - 1)
    big = _core.IndexedHeap(2**24)
    big.update(2**24 - 1, PRICE_MAX, PRICE_MAX)
    assert big.items() == [(2**24 - 1, PRICE_MAX, PRICE_MAX)]
    assert big.select(2**24) == ([2**24 - 1], [PRICE_MAX])


def test_base_and_final_types() -> None:
    with pytest.raises(TypeError):
        _core._Book(4)
    with pytest.raises(TypeError):
        type("Sub", (_core.IndexedHeap,), {})


@pytest.mark.parametrize("structure", STRUCTURES)
def test_check_passes(structure: str) -> None:
    book = full_book(structure, capacity=200)
    book._check()
    for agent in range(0, 200, 3):
        book.expire(agent)
    book.select(7)
    book._check()
    book.clear()
    book._check()


BAD_CONSTRUCTIONS: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = [
    ("IndexedHeap", (0,), {}),
    ("IndexedHeap", (2**24 + 1,), {}),
    ("IndexedHeap", (True,), {}),
    ("IndexedHeap", (4.0,), {}),
    ("IndexedHeap", (), {}),
    ("IndexedHeap", (4, 5), {}),
    ("IndexedHeap", (4,), {"capacity": 4}),
    ("IndexedHeap", (4,), {"size": 4}),
    ("TierBook", (4, "log"), {}),
    ("TierBook", (-1, "log"), {}),
    ("TierBook", (4,), {"tiermap": 3}),
    ("LazyHeap", (4, 0), {}),
    ("LazyHeap", (4, 2, -1), {}),
    ("LazyHeap", (4, 2, 2**32), {}),
    ("LazyHeap", (4,), {"period": 0}),
    ("LazyHeap", (4, 65, -1, 0), {}),
    ("LazyHeap", (4, 1, 2, 3, 4), {}),
    ("TournamentTree", (4, 65), {}),
    ("TournamentTree", (4, None), {}),
    ("SampledTopK", (4, 0), {}),
    ("SampledTopK", (4, 1, -1), {}),
    ("SampledTopK", (4,), {"seed": 2**64}),
    ("SampledTopK", (4,), {"seed": "1"}),
]


@pytest.mark.parametrize(("structure", "args", "kwargs"), BAD_CONSTRUCTIONS)
def test_constructor_errors_equal_the_reference(
    structure: str, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> None:
    got = outcome(lambda: getattr(_core, structure)(*args, **kwargs))
    want = outcome(lambda: getattr(reference, structure)(*args, **kwargs))
    assert want[0] != "ok"
    assert got == want


BAD_CALLS: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = [
    ("update", (), {}),
    ("update", (1,), {}),
    ("update", (1, 2, 3, 4), {}),
    ("update", (1,), {"agent": 1, "price": 2}),
    ("update", (1, 2), {"unit": 3}),
    ("update", (), {"price": 5}),
    ("update", (1, 2, 0), {}),
    ("update", (-1, -1, -1), {}),
    ("update", (1, -1, 0), {}),
    ("update", (1, 2**32), {}),
    ("update", (True, 1), {}),
    ("update", (1, 2.0), {}),
    ("update", (), {"agent": 1, "price": 2, "units": None}),
    ("expire", (0,), {}),
    ("expire", (8,), {}),
    ("expire", (), {"agent": "0"}),
    ("bid", (), {}),
    ("bid", (2**64,), {}),
    ("select", (9,), {}),
    ("select", (), {"k": 1}),
    ("top", (-1,), {}),
    ("top", (), {"n": 1}),
    ("price", (8,), {}),
    ("price", (1, 2), {}),
    ("price", (), {"k": False}),
    ("peek", (0,), {}),
    ("items", (), {"x": 0}),
    ("clear", (None,), {}),
    ("_check", (1,), {}),
]


@pytest.mark.parametrize("structure", STRUCTURES)
@pytest.mark.parametrize(("method", "args", "kwargs"), BAD_CALLS)
def test_method_errors_equal_the_reference(
    structure: str, method: str, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> None:
    books = [getattr(mod, structure)(8) for mod in (_core, reference)]
    for book in books:
        book.update(3, 900)
        book.update(5, 700, 2)
    got, want = (outcome(lambda b=b: getattr(b, method)(*args, **kwargs)) for b in books)
    assert want[0] != "ok"
    assert got == want
    assert books[0].items() == books[1].items()  # the failed call changed nothing


def test_keyword_calls() -> None:
    book = _core.IndexedHeap(capacity=8)
    book.update(agent=3, price=900, units=2)
    book.update(5, price=700)
    assert book.bid(agent=3) == (900, 2)
    assert book.select(n=2) == ([3, 5], [900, 700])
    assert book.top(k=1) == [3]
    assert book.price(k=0) == 900 and book.price() == 700
    book.expire(agent=3)
    assert book.items() == [(5, 700, 1)]


def test_contains_follows_dict_membership() -> None:
    for mod in (_core, reference):
        book = mod.IndexedHeap(8)
        book.update(1, 10)
        assert 1 in book and 1.0 in book and True in book and np.int64(1) in book
        assert 0 not in book and False not in book and -1 not in book and 8 not in book
        assert 2**64 + 1 not in book and "1" not in book and None not in book
        assert 1.5 not in book and (1,) not in book
        with pytest.raises(TypeError, match="unhashable"):
            [1] in book  # noqa: B015 - membership is the point
        assert mod.IndexedHeap.price.__qualname__ == "_Book.price"


# -- reference counting -----------------------------------------------------------------


def test_arguments_and_results_are_not_leaked() -> None:
    book = _core.TierBook(64, TierMap.linear(1000))
    agent, price, units = int("63"), int("123456789"), int("70000")
    bad = 1.5
    before = [sys.getrefcount(x) for x in (agent, price, units, bad)]
    for _ in range(10_000):
        book.update(agent, price, units)
        book.update(agent, price=price, units=units)
        book.bid(agent)
        book.select(2)
        book.top(1)
        book.price(0)
        book.peek()
        book.items()
        _ = agent in book, bad in book
        with pytest.raises(TypeError):
            book.update(agent, bad)
        with pytest.raises(TypeError):
            book.expire(bad)
    after = [sys.getrefcount(x) for x in (agent, price, units, bad)]
    assert after == before


def test_tiermap_is_released_with_its_books() -> None:
    tiermap = TierMap.linear(width=7)
    before = sys.getrefcount(tiermap)
    books = [_core.TierBook(4, tiermap) for _ in range(1000)]
    assert sys.getrefcount(tiermap) == before + 1000
    del books
    gc.collect()
    assert sys.getrefcount(tiermap) == before


def test_steady_state_calls_do_not_grow_memory() -> None:
    book = full_book("IndexedHeap", capacity=1000)
    book2 = _core.TierBook(16)

    def churn() -> None:
        for i in range(10_000):
            book.update(i % 1000, 500_000 + i)
            book.select(2)
            book.price(1)
            book.items() if i % 1000 == 0 else None
            outcome(lambda: book.update(-1, 0))
            outcome(lambda: book.select(1001))
            outcome(lambda: book2.expire(3))
        for _ in range(200):
            _core.TournamentTree(100, 4)
            _core.TierBook(100)

    churn()  # warm caches (the interned ints, the exception machinery)
    gc.collect()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        churn()
        gc.collect()
        grown = tracemalloc.get_traced_memory()[0] - base
    finally:
        tracemalloc.stop()
    assert grown < 64 * 1024, f"{grown} bytes retained over 10000 calls"


def test_sanitizer_run_tests_an_instrumented_build() -> None:
    """`make sanitize` sets AUCTIONEER_SANITIZE; then the module must be the ASan build."""
    from auctioneer.tick import _core

    assert (1 if os.environ.get("AUCTIONEER_SANITIZE") else 0) == _core.SANITIZED
