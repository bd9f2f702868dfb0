"""The tick benchmark: how fast each bid structure updates, expires and runs a tick.

One *tick* is what a scheduler does each quantum: one agent changes its bid
(``update``), then the book yields the winner and the Vickrey price
(``select(2)``: the top two agents and their rank prices). For every book
size N and every structure the benchmark fills a book with N agents (ids
0..N-1, capacity N, bids uniform in 0.50..1.50 currency units) and measures:

* **in C** -- ``_timing.time_ops`` times each operation inside the extension
  with the time stamp counter (serialised ``rdtsc``/``rdtscp``), so no
  Python is in the interval: update, expire, and the tick. The timer's own
  cost (an empty interval) is measured too and *reported, never subtracted*.
* **from Python** -- ``time.perf_counter_ns()`` around each call, the cost a
  Python scheduler would actually pay; an empty ``perf_counter_ns`` pair is
  measured and reported the same way. The pure-Python baselines of
  :mod:`auctioneer.tick.bench_baselines` run in this same loop.
* **memory** -- ``nbytes / capacity`` of the native core's block; for every
  book also the bytes :mod:`tracemalloc` saw allocated to build it, per agent.
* **accuracy** -- the sampled book's miss rate: the share of ticks whose
  winner differs from an exact ``IndexedHeap`` fed the same operations, and
  the mean relative error of its Vickrey price.

Every measurement is repeated; a reported percentile is the median of that
percentile over the repeats. The cyclic garbage collector is paused inside
timed loops (as :mod:`timeit` does). Latencies are nanoseconds as floats;
prices stay integer micro-units throughout.

Example:
    >>> config = TickBenchConfig.build(sizes=(16,), structures=("TierBook",), ops=200,
    ...                                repeats=1)
    >>> result = run_tick_bench(config)
    >>> [(r.name, r.n) for r in result.rows]
    [('TierBook', 16), ('heapq', 16), ('SortedList', 16)]
"""

from __future__ import annotations

import time
import tracemalloc
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from auctioneer.measure import timing
from auctioneer.measure.target import Target
from auctioneer.measure.timing import Percentiles
from auctioneer.tick import _core, _timing, reference
from auctioneer.tick.bench_baselines import BASELINES, TickBook
from auctioneer.tick.bench_model import (
    BASELINE_NAMES,
    DEFAULT_SIZES,
    NATIVE_TICK_P99_NS,
    PRICE_HIGH,
    PRICE_LOW,
    PYTHON_TICK_P99_NS,
    PYTHON_TICK_P999_NS,
    QUICK_SIZES,
    SELECT_N,
    SPEEDUP_VS_HEAPQ,
    TARGET_N,
    WORKLOADS,
    AdversarialResult,
    OpLatency,
    SampledAccuracy,
    StructureResult,
    TickBenchConfig,
    TickBenchResult,
    TickSamples,
    TimerCost,
    parse_sizes,
    parse_structures,
)
from auctioneer.tick.tiermap import TierMap

__all__ = [
    "BASELINE_NAMES",
    "DEFAULT_SIZES",
    "PRICE_HIGH",
    "PRICE_LOW",
    "QUICK_SIZES",
    "TARGET_N",
    "OpLatency",
    "SampledAccuracy",
    "StructureResult",
    "Target",
    "TickBenchConfig",
    "TickBenchResult",
    "TickSamples",
    "TimerCost",
    "evaluate_targets",
    "parse_sizes",
    "parse_structures",
    "run_tick_bench",
]

_WARMUP = 1_000
_OP_UPDATE, _OP_EXPIRE, _OP_TICK, _OP_EMPTY, _OP_SELECT = 0, 1, 2, 3, 4
_RESCAN_COUNT_MAX_N = 1_000
"""LazyHeap rescans are counted by the Python reference, O(N log N) a rescan: up to here."""
_RESCAN_COUNT_TICKS = 2_000

# --------------------------------------------------------------------------
# Workload and timing loops


@dataclass(frozen=True, slots=True)
class _Ops:
    """One timed operation's inputs, as uint32 arrays for C and int lists for Python."""

    agents: npt.NDArray[np.uint32]
    prices: npt.NDArray[np.uint32]
    agent_list: list[int]
    price_list: list[int]


def _ops(rng: np.random.Generator, n: int, count: int) -> _Ops:
    agents = rng.integers(0, n, size=count, dtype=np.uint32)
    prices = rng.integers(PRICE_LOW, PRICE_HIGH, size=count, dtype=np.uint32, endpoint=True)
    return _Ops(agents, prices, agents.tolist(), prices.tolist())


@dataclass(frozen=True, slots=True)
class _Workload:
    """The opening bids and the operations of one repeat at one size."""

    fill: list[int]
    warmup: _Ops
    update: _Ops
    expire: _Ops
    tick: _Ops
    select: _Ops


def _workload(seed: int, n: int, repeat: int, count: int) -> _Workload:
    rng = np.random.default_rng([seed, n, repeat])
    fill = rng.integers(PRICE_LOW, PRICE_HIGH, size=n, dtype=np.uint32, endpoint=True)
    return _Workload(
        fill=fill.tolist(),
        warmup=_ops(rng, n, min(_WARMUP, count)),
        update=_ops(rng, n, count),
        expire=_ops(rng, n, count),
        tick=_ops(rng, n, count),
        select=_ops(rng, n, count),
    )


def _as_ops(agents: npt.NDArray[np.uint32], prices: npt.NDArray[np.uint32]) -> _Ops:
    return _Ops(agents, prices, agents.tolist(), prices.tolist())


def _adversarial_ops(workload: str, seed: int, n: int, count: int) -> tuple[list[int], _Ops]:
    """The opening bids and tick operations of an adversarial workload.

    * ``rescan`` -- agent 0 bids above every other bid and re-bids every
      tick, alternating between two such prices: the cached winner changes
      each tick, so LazyHeap recomputes its cache (O(N)) on every select.
    * ``crowded`` -- every opening bid and every update falls inside one tier
      of the default tier map: one FIFO holds the whole book.
    """
    rng = np.random.default_rng([seed, n, 0xAD])
    if workload == "rescan":
        fill = rng.integers(PRICE_LOW, PRICE_HIGH, size=n, dtype=np.uint32, endpoint=True)
        fill[0] = PRICE_HIGH + 1
        agents = np.zeros(count, dtype=np.uint32)
        prices = (PRICE_HIGH + 2 + (np.arange(count) % 2)).astype(np.uint32)
        return fill.tolist(), _as_ops(agents, prices)
    tiers = TierMap.log()
    tier = tiers.tier_of(PRICE_LOW)
    low, high = tiers.floor(tier), tiers.floor(tier + 1) - 1
    fill = rng.integers(low, high, size=n, dtype=np.uint32, endpoint=True)
    agents = rng.integers(0, n, size=count, dtype=np.uint32)
    prices = rng.integers(low, high, size=count, dtype=np.uint32, endpoint=True)
    return fill.tolist(), _as_ops(agents, prices)


def _rescans(fill: list[int], ops: _Ops) -> float:
    """LazyHeap cache recomputes per tick on ``ops``, by the reference model."""
    book = reference.LazyHeap(len(fill))
    count = min(SELECT_N, len(fill))
    for agent, price in enumerate(fill):
        book.update(agent, price)
    book.select(count)
    before = book.rescans
    ticks = min(len(ops.agent_list), _RESCAN_COUNT_TICKS)
    for agent, price in zip(ops.agent_list[:ticks], ops.price_list[:ticks], strict=True):
        book.update(agent, price)
        book.select(count)
    return (book.rescans - before) / ticks


def _adversarial(config: TickBenchConfig, n: int, to_ns: float,
                 report: Callable[[str], None]) -> list[AdversarialResult]:
    """Every native book's C tick under each adversarial workload at size ``n``."""
    out = []
    for workload in WORKLOADS:
        fill, ops = _adversarial_ops(workload, config.seed, n, config.ops)
        for name in config.structures:
            report(f"N={n:<6} {workload}  {name}")
            runs = []
            for _ in range(config.repeats):
                book = _make(name, n, config.seed)
                _fill(book, fill)
                runs.append(timing.summarize(_in_c(book, _OP_TICK, ops, to_ns)))
                del book
            rescans = (_rescans(fill, ops) if name == "LazyHeap" and n <= _RESCAN_COUNT_MAX_N
                       else None)
            latency = timing.median_percentiles(runs)
            out.append(AdversarialResult(workload, name, n, latency, rescans))
    return out


def _make(name: str, n: int, seed: int = 1) -> Any:
    if name in BASELINES:
        return BASELINES[name](n)
    if name == "SampledTopK":
        return _core.SampledTopK(n, seed=seed)
    return getattr(_core, name)(n)


def _fill(book: TickBook, prices: list[int]) -> None:
    update = book.update
    for agent, price in enumerate(prices):
        update(agent, price)


def _select_n(book: Any) -> int:
    """SELECT_N, or fewer for a book too small to hold a runner-up (select's n <= capacity)."""
    return min(SELECT_N, int(book.capacity))


def _in_c(book: Any, op: int, ops: _Ops, to_ns: float) -> npt.NDArray[np.float64]:
    raw = _timing.time_ops(book, op, ops.agents, ops.prices, _select_n(book))
    # time_ops returns the machine's own uint64 layout (little-endian on x86).
    return np.frombuffer(raw, dtype=np.uint64).astype(np.float64) * to_ns


def _py_tick(book: TickBook, ops: _Ops) -> npt.NDArray[np.float64]:
    clock, update, select, count = time.perf_counter_ns, book.update, book.select, _select_n(book)
    out = [0] * len(ops.agent_list)
    with timing.gc_paused():
        for i, (agent, price) in enumerate(zip(ops.agent_list, ops.price_list, strict=True)):
            t0 = clock()
            update(agent, price)
            select(count)
            t1 = clock()
            out[i] = t1 - t0
    return np.asarray(out, dtype=np.float64)


def _py_update(book: TickBook, ops: _Ops) -> npt.NDArray[np.float64]:
    clock, update = time.perf_counter_ns, book.update
    out = [0] * len(ops.agent_list)
    with timing.gc_paused():
        for i, (agent, price) in enumerate(zip(ops.agent_list, ops.price_list, strict=True)):
            t0 = clock()
            update(agent, price)
            t1 = clock()
            out[i] = t1 - t0
    return np.asarray(out, dtype=np.float64)


def _py_expire(book: TickBook, ops: _Ops) -> npt.NDArray[np.float64]:
    clock, update, expire = time.perf_counter_ns, book.update, book.expire
    out = [0] * len(ops.agent_list)
    with timing.gc_paused():
        for i, (agent, price) in enumerate(zip(ops.agent_list, ops.price_list, strict=True)):
            t0 = clock()
            expire(agent)
            t1 = clock()
            update(agent, price)  # keeps the book full, untimed
            out[i] = t1 - t0
    return np.asarray(out, dtype=np.float64)


def _traced_bytes_per_agent(name: str, prices: list[int]) -> float:
    """Bytes allocated while building a full book, per agent (all of it still live)."""
    was_tracing = tracemalloc.is_tracing()
    if not was_tracing:
        tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        book = _make(name, len(prices))
        _fill(book, prices)
        after = tracemalloc.get_traced_memory()[0]
    finally:
        if not was_tracing:
            tracemalloc.stop()
    del book
    return max(after - before, 0) / len(prices)


def _accuracy(n: int, samples: int, ticks: int, seed: int) -> SampledAccuracy:
    """Run a sampled and an exact book in lockstep on one tick sequence, untimed."""
    rng = np.random.default_rng([seed, n, samples, 0x5A])
    fill = rng.integers(PRICE_LOW, PRICE_HIGH, size=n, dtype=np.uint32, endpoint=True).tolist()
    ops = _ops(rng, n, ticks)
    sampled = _core.SampledTopK(n, samples=samples, seed=seed)
    exact = _core.IndexedHeap(n)
    count = _select_n(exact)
    _fill(sampled, fill)
    _fill(exact, fill)
    misses = price_misses = 0
    rel_error = 0.0
    for agent, price in zip(ops.agent_list, ops.price_list, strict=True):
        sampled.update(agent, price)
        exact.update(agent, price)
        got_agents, got_prices = sampled.select(count)
        want_agents, want_prices = exact.select(count)
        misses += got_agents[0] != want_agents[0]
        got = got_prices[1] if len(got_prices) > 1 else 0
        want = want_prices[1] if len(want_prices) > 1 else 0
        if got != want:
            price_misses += 1
            # A statistic of the error, not a money amount: a float is fine here.
            rel_error += abs(got - want) / want if want else 1.0
    return SampledAccuracy(
        n=n,
        samples=samples,
        ticks=ticks,
        miss_rate=misses / ticks,
        price_miss_rate=price_misses / ticks,
        mean_rel_price_error=rel_error / ticks,
    )


# --------------------------------------------------------------------------
# The run


def run_tick_bench(
    config: TickBenchConfig, progress: Callable[[str], None] | None = None
) -> TickBenchResult:
    """Measure every book of ``config`` at every size; ``progress`` hears each step.

    ``progress(description)`` is called as each of ``config.steps`` steps
    starts. Repeats are the outer loop and books the inner one, so a burst of
    machine noise lands on every book rather than on one.
    """
    started = time.perf_counter()
    report = progress or (lambda _desc: None)
    env = timing.environment()
    hz = int(_timing.timer_hz())
    to_ns = 1e9 / hz
    native_timer: list[Percentiles] = []
    python_timer: list[Percentiles] = []
    rows: list[StructureResult] = []
    accuracy: list[SampledAccuracy] = []
    adversarial: list[AdversarialResult] = []
    plot_in_c: dict[str, list[npt.NDArray[np.float64]]] = {}
    plot_py: dict[str, list[npt.NDArray[np.float64]]] = {}

    for n in config.sizes:
        in_c: dict[str, dict[str, list[Percentiles]]] = {}
        from_py: dict[str, dict[str, list[Percentiles]]] = {}
        for repeat in range(config.repeats):
            work = _workload(config.seed, n, repeat, config.ops)
            python_timer.append(timing.summarize(timing.perf_counter_overhead(config.ops)))
            for name in config.books:
                report(f"N={n:<6} repeat {repeat + 1}/{config.repeats}  {name}")
                book = _make(name, n, config.seed)
                _fill(book, work.fill)
                native = name not in BASELINES
                if native:
                    _in_c(book, _OP_TICK, work.warmup, to_ns)
                    empty = _in_c(book, _OP_EMPTY, work.tick, to_ns)
                    native_timer.append(timing.summarize(empty))
                    c_tick = _in_c(book, _OP_TICK, work.tick, to_ns)
                    timings = {
                        "update": _in_c(book, _OP_UPDATE, work.update, to_ns),
                        "expire": _in_c(book, _OP_EXPIRE, work.expire, to_ns),
                        "tick": c_tick,
                        "select": _in_c(book, _OP_SELECT, work.select, to_ns),
                    }
                    slot = in_c.setdefault(name, {})
                    for op, data in timings.items():
                        slot.setdefault(op, []).append(timing.summarize(data))
                    if n == config.plot_n:
                        plot_in_c.setdefault(name, []).append(c_tick)
                _py_tick(book, work.warmup)
                py_tick = _py_tick(book, work.tick)
                py_timings = {
                    "update": _py_update(book, work.update),
                    "expire": _py_expire(book, work.expire),
                    "tick": py_tick,
                }
                slot = from_py.setdefault(name, {})
                for op, data in py_timings.items():
                    slot.setdefault(op, []).append(timing.summarize(data))
                if n == config.plot_n:
                    plot_py.setdefault(name, []).append(py_tick)
                del book

        fill = _workload(config.seed, n, 0, 1).fill
        for name in config.books:
            report(f"N={n:<6} memory  {name}")
            native = name not in BASELINES
            core_bytes = None
            if native:
                probe = _make(name, n)
                core_bytes = int(probe.nbytes) / n
                del probe
            rows.append(
                StructureResult(
                    name=name,
                    n=n,
                    native=native,
                    in_c=_op_latency(in_c[name]) if native else None,
                    from_python=_op_latency(from_py[name]),
                    core_bytes_per_agent=core_bytes,
                    traced_bytes_per_agent=_traced_bytes_per_agent(name, fill),
                )
            )
        adversarial.extend(_adversarial(config, n, to_ns, report))
        if "SampledTopK" in config.structures:
            for samples in config.accuracy_samples:
                report(f"N={n:<6} accuracy  SampledTopK samples={samples}")
                accuracy.append(_accuracy(n, samples, config.accuracy_ticks, config.seed))

    timer = TimerCost(
        native_hz=hz,
        native=timing.median_percentiles(native_timer),
        python=timing.median_percentiles(python_timer),
    )
    result_rows = tuple(rows)
    return TickBenchResult(
        config=config,
        environment=env,
        timer=timer,
        rows=result_rows,
        accuracy=tuple(accuracy),
        targets=evaluate_targets(result_rows, timer),
        samples=TickSamples(
            n=config.plot_n,
            in_c={k: np.concatenate(v) for k, v in plot_in_c.items()},
            from_python={k: np.concatenate(v) for k, v in plot_py.items()},
        ),
        elapsed_s=time.perf_counter() - started,
        adversarial=tuple(adversarial),
    )


def _op_latency(runs: dict[str, list[Percentiles]]) -> OpLatency:
    return OpLatency(
        tick=timing.median_percentiles(runs["tick"]),
        update=timing.median_percentiles(runs["update"]),
        expire=timing.median_percentiles(runs["expire"]),
        select=timing.median_percentiles(runs["select"]) if "select" in runs else None,
    )


# --------------------------------------------------------------------------
# Targets


def _ns(value: float) -> str:
    return f"{value:,.0f} ns" if value < 10_000 else f"{value / 1000:,.1f} us"


def _limit_target(
    name: str,
    rows: Sequence[StructureResult],
    value: Callable[[StructureResult], float],
    limit: float,
    timer: tuple[str, float],
) -> Target:
    if not rows:
        return Target(name, None, f"not measured: the run has no native structure at N={TARGET_N}")
    ranked = sorted(rows, key=value)
    best = ranked[0]
    meeting = [r.name for r in ranked if value(r) <= limit]
    others = ", ".join(f"{r.name} {_ns(value(r))}" for r in ranked[1:])
    timer_name, timer_p50 = timer
    detail = (
        f"best {best.name} {_ns(value(best))} raw ({_ns(value(best) - timer_p50)} net of "
        f"{timer_name}'s {_ns(timer_p50)} p50); meets it: {', '.join(meeting) or 'none'}"
        + (f"; others: {others}" if others else "")
    )
    return Target(name, value(best) <= limit, detail)


def _speedup_target(
    name: str,
    rows: Sequence[StructureResult],
    heapq: StructureResult | None,
    which: str,
) -> Target:
    if not rows or heapq is None:
        return Target(name, None, f"not measured at N={TARGET_N}")
    base = getattr(heapq.from_python.tick, which)
    factors = sorted(
        ((base / getattr(r.from_python.tick, which), r.name) for r in rows), reverse=True
    )
    best_factor, best_name = factors[0]
    detail = (
        f"best {best_name} {best_factor:.2f}x heapq's {which} "
        f"({_ns(base)}); " + ", ".join(f"{n} {f:.2f}x" for f, n in factors[1:])
    ).rstrip("; ")
    return Target(name, best_factor >= SPEEDUP_VS_HEAPQ, detail)


def evaluate_targets(rows: Sequence[StructureResult], timer: TimerCost) -> tuple[Target, ...]:
    """The stated targets, judged at N = TARGET_N on raw (not overhead-subtracted) numbers."""
    at_n = [r for r in rows if r.n == TARGET_N and r.native]
    heapq = next((r for r in rows if r.n == TARGET_N and r.name == "heapq"), None)
    c_timer = ("an empty C timer interval", timer.native.p50)
    py_timer = ("an empty perf_counter_ns pair", timer.python.p50)

    def in_c_p99(r: StructureResult) -> float:
        return r.in_c.tick.p99 if r.in_c is not None else float("inf")

    return (
        _limit_target(
            f"tick p99 in C <= {_ns(NATIVE_TICK_P99_NS)} at N={TARGET_N}",
            at_n, in_c_p99, NATIVE_TICK_P99_NS, c_timer,
        ),
        _limit_target(
            f"tick p99 from Python <= {_ns(PYTHON_TICK_P99_NS)} at N={TARGET_N}",
            at_n, lambda r: r.from_python.tick.p99, PYTHON_TICK_P99_NS, py_timer,
        ),
        _limit_target(
            f"tick p99.9 from Python <= {_ns(PYTHON_TICK_P999_NS)} at N={TARGET_N}",
            at_n, lambda r: r.from_python.tick.p999, PYTHON_TICK_P999_NS, py_timer,
        ),
        _speedup_target(
            f"Python tick p50 >= {SPEEDUP_VS_HEAPQ:g}x faster than heapq at N={TARGET_N}",
            at_n, heapq, "p50",
        ),
        _speedup_target(
            f"Python tick p99 >= {SPEEDUP_VS_HEAPQ:g}x faster than heapq at N={TARGET_N}",
            at_n, heapq, "p99",
        ),
    )
