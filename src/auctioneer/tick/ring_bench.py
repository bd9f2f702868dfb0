"""The ring benchmark: what submitting a bid and reading the price page cost.

Everything runs in one process tree in one run, so the ratios compare like
with like:

* **in C, one core** -- ``_timing.time_op`` times one operation at a time with
  the time stamp counter (serialised ``rdtsc``/``rdtscp``, as ``bench
  tick``): SPSC push, MPSC push (the consumer drains every ``batch`` pushes,
  untimed); the same pushes timed ``batch`` at a time and divided, which
  resolves costs finer than the timer's own granularity; the consumer's
  drain straight into a 1024-agent tier book (per bid); the page's publish
  and read. An empty timer interval is measured and
  *reported, never subtracted*.
* **in C, two cores** -- ``_timing.run_pair``: producer threads pinned to one
  core push tagged bids while the consumer, pinned to another, drains and
  checks them (nothing lost, duplicated or reordered). With one producer it
  also times every push, under two consumers: one *ticking* (it empties the
  ring every 10 us, as the tick would) and one *spinning* (it polls without
  pause, pulling the producer's cache lines away after every push: the worst
  case). With several producers, SPSC means one ring per producer polled
  round robin, MPSC one shared ring. Throughput is bids / wall time, the
  consumer spinning.
* **from Python** -- ``perf_counter_ns`` around each ``push`` of
  :class:`~auctioneer.tick.ring.SpscRing` / ``MpscRing`` (shared memory),
  ``PricePage.read``, and ``multiprocessing.Queue.put``, the baseline; then
  throughput with a producer *process* attached by name against this process
  draining, for each ring and for the queue.

Percentiles are nearest-rank, median over repeats; the garbage collector is
paused in timed loops. Latencies are ns, throughputs bids per second.

Example:
    >>> config = RingBenchConfig.build(ops=2_000, repeats=1, pair_bids=20_000,
    ...                                python_bids=2_000, producers=(1,))
    >>> result = run_ring_bench(config)
    >>> [row.name for row in result.native][:2]
    ['SPSC push', 'MPSC push']
"""

from __future__ import annotations

import multiprocessing as mp
import queue
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np
import numpy.typing as npt

from auctioneer.checks import require_int
from auctioneer.measure import timing
from auctioneer.measure.record import fields_dict
from auctioneer.measure.sizes import parse_int_list
from auctioneer.measure.target import Target
from auctioneer.measure.timing import Environment, Percentiles
from auctioneer.tick import _timing
from auctioneer.tick.ring import MpscRing, PricePage, SpscRing

__all__ = [
    "SUBMIT_TARGET_NS",
    "Latency",
    "RingBenchConfig",
    "RingBenchResult",
    "Throughput",
    "evaluate_targets",
    "parse_producers",
    "run_ring_bench",
]

SUBMIT_TARGET_NS = 100.0
"""The seed's constraint: bid submission under 100 ns."""
QUEUE_SPEEDUP = 5.0
"""What a shared-memory ring should beat ``multiprocessing.Queue`` by, from Python."""

DEFAULT_OPS = 200_000
QUICK_OPS = 20_000
DEFAULT_REPEATS = 5
QUICK_REPEATS = 3
DEFAULT_PAIR_BIDS = 500_000
QUICK_PAIR_BIDS = 100_000
DEFAULT_PYTHON_BIDS = 100_000
QUICK_PYTHON_BIDS = 20_000
DEFAULT_PRODUCERS = (1, 2, 4)
CAPACITY = 1024
"""Bids per ring: 16 KiB of SPSC records, 32 KiB of MPSC cells."""
BATCH = 256
"""Pushes between the single-core consumer's drains, and bids per drain_book."""
_MAX_PRODUCERS = 64
TICK_NS = 10_000
"""The ticking consumer's period: it empties every ring once per 10 us (a 100 kHz tick)."""
SPINNING = "consumer spinning on another core"
TICKING = "consumer ticking every 10 us on another core"

_NATIVE_OPS = (
    ("SPSC push", _timing.OP_SPSC_PUSH),
    ("MPSC push", _timing.OP_MPSC_PUSH),
    ("SPSC push, amortised over a batch", _timing.OP_SPSC_PUSH_BATCH),
    ("MPSC push, amortised over a batch", _timing.OP_MPSC_PUSH_BATCH),
    ("SPSC drain into book, per bid", _timing.OP_SPSC_DRAIN_BOOK),
    ("MPSC drain into book, per bid", _timing.OP_MPSC_DRAIN_BOOK),
    ("page publish", _timing.OP_PAGE_PUBLISH),
    ("page read", _timing.OP_PAGE_READ),
)
_KINDS = {"SPSC": _timing.KIND_SPSC, "MPSC": _timing.KIND_MPSC}



def parse_producers(text: str) -> tuple[int, ...]:
    """Producer counts from ``"1,2,4"``; ValueError naming the bad item."""
    return parse_int_list(text, "producer count", 1, _MAX_PRODUCERS, "1,2,4")


@dataclass(frozen=True, slots=True)
class RingBenchConfig:
    """What to measure. Build one with :meth:`build`, which fills in the defaults."""

    ops: int = DEFAULT_OPS
    """Timed operations per latency measurement."""
    repeats: int = DEFAULT_REPEATS
    pair_bids: int = DEFAULT_PAIR_BIDS
    """Bids each producer thread pushes in a two-core run."""
    python_bids: int = DEFAULT_PYTHON_BIDS
    """Bids the producer process pushes in a Python throughput run."""
    producers: tuple[int, ...] = DEFAULT_PRODUCERS
    """Producer thread counts of the native throughput runs."""
    quick: bool = False

    def __post_init__(self) -> None:
        require_int(self.ops, "ops", 1)
        require_int(self.repeats, "repeats", 1)
        require_int(self.pair_bids, "pair_bids", 1, 2**32 - 1)
        require_int(self.python_bids, "python_bids", 1)
        if not self.producers:
            raise ValueError("producers is empty: give at least one producer count")
        for count in self.producers:
            require_int(count, "producers", 1, _MAX_PRODUCERS)

    @classmethod
    def build(cls, *, ops: int | None = None, repeats: int | None = None,
              pair_bids: int | None = None, python_bids: int | None = None,
              producers: Iterable[int] | None = None, quick: bool = False) -> RingBenchConfig:
        """A configuration: what is given, else the full run's (or ``quick``'s) defaults."""
        return cls(
            ops=ops if ops is not None else (QUICK_OPS if quick else DEFAULT_OPS),
            repeats=repeats if repeats is not None else (
                QUICK_REPEATS if quick else DEFAULT_REPEATS),
            pair_bids=pair_bids if pair_bids is not None else (
                QUICK_PAIR_BIDS if quick else DEFAULT_PAIR_BIDS),
            python_bids=python_bids if python_bids is not None else (
                QUICK_PYTHON_BIDS if quick else DEFAULT_PYTHON_BIDS),
            producers=tuple(producers) if producers is not None else DEFAULT_PRODUCERS,
            quick=quick,
        )

    @property
    def steps(self) -> int:
        """How many progress steps :func:`run_ring_bench` reports."""
        per_repeat = len(_NATIVE_OPS) + 4 + 4  # C ops, two-core timed pairs, Python
        return self.repeats * (per_repeat + 2 * len(self.producers) + 3)


@dataclass(frozen=True, slots=True)
class Latency:
    """One operation's latency percentiles (ns), median over repeats."""

    name: str
    where: str
    """"C, one core", "C, two cores" or "Python"."""
    latency: Percentiles


@dataclass(frozen=True, slots=True)
class Throughput:
    """Bids moved from producers to the consumer per second: the median of the repeats."""

    name: str
    where: str
    producers: int
    bids: int
    per_second: float
    full_per_bid: float
    """Pushes refused for a full ring, per bid delivered (the consumer's lag)."""
    pinned: bool
    """Producer and consumer pinned to different CPUs (native runs)."""


@dataclass(frozen=True, slots=True)
class RingBenchResult:
    """A whole run: configuration, environment, timers, latencies, throughputs, targets."""

    config: RingBenchConfig
    environment: Environment
    timer_hz: int
    timer_c: Percentiles
    """An empty rdtsc/rdtscp interval in C."""
    timer_python: Percentiles
    """An empty ``perf_counter_ns()`` pair."""
    native: tuple[Latency, ...]
    python: tuple[Latency, ...]
    throughput: tuple[Throughput, ...]
    targets: tuple[Target, ...]
    samples: dict[str, npt.NDArray[np.float64]] = field(repr=False, compare=False)
    elapsed_s: float = 0.0

    def latency(self, name: str) -> Latency | None:
        """The latency row called ``name``, if measured."""
        return next((r for r in (*self.native, *self.python) if r.name == name), None)

    def rate(self, name: str, producers: int = 1) -> Throughput | None:
        """The throughput row called ``name`` with ``producers`` producers, if measured."""
        return next((t for t in self.throughput
                     if t.name == name and t.producers == producers), None)

    def ratios(self) -> dict[str, float]:
        """The comparisons the report quotes: above 1 means the first one is cheaper/faster."""
        out: dict[str, float] = {}

        def cost(num: str, den: str, key: str) -> None:
            a, b = self.latency(num), self.latency(den)
            if a is not None and b is not None:
                out[key] = b.latency.p50 / a.latency.p50

        def rate(num: str, den: str, key: str, producers: int = 1) -> None:
            a, b = self.rate(num, producers), self.rate(den, producers)
            if a is not None and b is not None:
                out[key] = a.per_second / b.per_second

        cost("SPSC push", "MPSC push", "MPSC/SPSC push p50, C")
        cost("SPSC push, amortised over a batch", "MPSC push, amortised over a batch",
             "MPSC/SPSC push p50, C, amortised")
        cost(f"SPSC push, {SPINNING}", f"MPSC push, {SPINNING}",
             "MPSC/SPSC push p50, C, consumer spinning")
        cost(f"SPSC push, {TICKING}", f"MPSC push, {TICKING}",
             "MPSC/SPSC push p50, C, consumer ticking")
        rate("SPSC rings", "MPSC ring", "SPSC/MPSC throughput, C, 1 producer")
        top = max(self.config.producers)
        rate("SPSC rings", "MPSC ring", f"SPSC/MPSC throughput, C, {top} producers", top)
        cost("SpscRing.push", "Queue.put", "Queue.put/SpscRing.push p50, Python")
        cost("MpscRing.push", "Queue.put", "Queue.put/MpscRing.push p50, Python")
        rate("SpscRing", "Queue", "SpscRing/Queue throughput, Python")
        rate("MpscRing", "Queue", "MpscRing/Queue throughput, Python")
        return out

    def to_dict(self) -> dict[str, Any]:
        """Everything but the raw samples, as JSON-ready builtins."""
        return {
            "benchmark": "auctioneer.bench.ring",
            "schema": 1,
            "environment": fields_dict(self.environment),
            "config": {
                **fields_dict(self.config),
                "capacity": CAPACITY,
                "batch": BATCH,
                "percentiles": "nearest rank, median over repeats",
                "gc_paused_while_timing": True,
                "timer_overhead_subtracted": False,
            },
            "timer": {"native_hz": self.timer_hz, "c_empty_interval_ns": self.timer_c.rounded(),
                      "python_empty_perf_counter_pair_ns": self.timer_python.rounded()},
            "latency_ns": [{"name": r.name, "where": r.where, **r.latency.rounded()}
                           for r in (*self.native, *self.python)],
            "throughput": [{**fields_dict(t), "per_second": round(t.per_second)}
                           for t in self.throughput],
            "ratios": {k: round(v, 3) for k, v in self.ratios().items()},
            "targets": [fields_dict(t) for t in self.targets],
            "elapsed_s": round(self.elapsed_s, 3),
        }


# --------------------------------------------------------------------------
# Timing loops


def _ticks(raw: bytes, to_ns: float) -> npt.NDArray[np.float64]:
    # The harness returns the machine's own uint64 layout.
    return np.frombuffer(raw, dtype=np.uint64).astype(np.float64) * to_ns


def _py_push(push: Callable[..., Any], drain: Callable[[], Any], ops: int
             ) -> npt.NDArray[np.float64]:
    """Time ``ops`` pushes; the consumer drains every BATCH pushes, untimed."""
    clock = time.perf_counter_ns
    out = [0] * ops
    with timing.gc_paused():
        for i in range(ops):
            if i % BATCH == 0:
                drain()
            t0 = clock()
            push(i, 500_000 + i, 1)
            t1 = clock()
            out[i] = t1 - t0
    drain()
    return np.asarray(out, dtype=np.float64)


def _py_read(read: Callable[[], Any], ops: int) -> npt.NDArray[np.float64]:
    clock = time.perf_counter_ns
    out = [0] * ops
    with timing.gc_paused():
        for i in range(ops):
            t0 = clock()
            read()
            t1 = clock()
            out[i] = t1 - t0
    return np.asarray(out, dtype=np.float64)


def _drain_queue(q: Any) -> Callable[[], None]:
    def drain() -> None:
        try:
            while True:
                q.get_nowait()
        except queue.Empty:
            pass
    return drain


def _py_queue_put(ops: int) -> npt.NDArray[np.float64]:
    """The baseline: ``multiprocessing.Queue.put`` of a bid tuple, timed like a push."""
    q = _context().Queue()
    put = q.put
    try:
        return _py_push(lambda *bid: put(bid), _drain_queue(q), ops)
    finally:
        # get_nowait can see the pipe empty while the feeder thread still holds bids for a
        # full pipe; joining it would then block forever, and the leftovers are only timing
        # ballast, so they are dropped.
        _drain_queue(q)()
        q.cancel_join_thread()
        q.close()


def _produce_ring(kind: str, name: str, count: int) -> None:
    """A producer process: attach by name, push ``count`` bids, spinning when full."""
    ring = (SpscRing if kind == "SpscRing" else MpscRing).attach(name)
    push = ring.push
    for i in range(count):
        while not push(i, i & 0xFFFF_FFFF, 1):
            time.sleep(0)  # full: yield, as Queue.put's producer never spins
    ring.close()


def _produce_queue(q: Any, count: int) -> None:
    put = q.put
    for i in range(count):
        put((i, i & 0xFFFF_FFFF, 1))
    q.close()
    q.join_thread()


def _context() -> Any:
    return mp.get_context("fork" if "fork" in mp.get_all_start_methods() else "spawn")


def _py_throughput(kind: str, count: int) -> Throughput:
    """A producer process pushes ``count`` bids; this process drains them all."""
    ctx = _context()
    got = 0
    if kind == "Queue":
        q = ctx.Queue()
        proc = ctx.Process(target=_produce_queue, args=(q, count))
        t0 = time.perf_counter_ns()
        proc.start()
        get = q.get
        while got < count:
            get()
            got += 1
    else:
        ring = (SpscRing if kind == "SpscRing" else MpscRing).create(CAPACITY)
        proc = ctx.Process(target=_produce_ring, args=(kind, ring.name, count))
        t0 = time.perf_counter_ns()
        proc.start()
        drain = ring.drain
        try:
            while got < count:
                taken = len(drain())
                got += taken
                if not taken:
                    time.sleep(0)
        finally:
            proc.join()
            ring.unlink()
    elapsed = time.perf_counter_ns() - t0
    proc.join()
    return Throughput(kind, "Python, 2 processes", 1, count, count / elapsed * 1e9, 0.0, False)


def _median_rate(runs: list[Throughput]) -> Throughput:
    """The run with the median rate (the upper median of an even count)."""
    return sorted(runs, key=lambda t: t.per_second)[len(runs) // 2]


def _pair(kind: str, producers: int, bids: int, timed: bool, to_ns: float, pace_ns: int = 0
          ) -> tuple[Throughput, npt.NDArray[np.float64]]:
    res = _timing.run_pair(_KINDS[kind], CAPACITY, producers, bids, timed, True, pace_ns)
    if res["disorder"] or res["received"] != producers * bids:
        raise RuntimeError(f"run_pair {kind} x{producers}: {res['disorder']} bids out of order "
                           f"or lost, {res['received']} of {producers * bids} received")
    name = "SPSC rings" if kind == "SPSC" else "MPSC ring"
    rate = Throughput(name, "C, two cores", producers, producers * bids,
                      res["received"] / res["elapsed_ns"] * 1e9,
                      res["full"] / res["received"], bool(res["pinned"]))
    return rate, _ticks(res["latency"], to_ns)


# --------------------------------------------------------------------------
# The run


def run_ring_bench(config: RingBenchConfig,
                   progress: Callable[[str], None] | None = None) -> RingBenchResult:
    """Measure everything ``config`` asks for; ``progress`` hears each step as it starts."""
    started = time.perf_counter()
    report = progress or (lambda _desc: None)
    env = timing.environment()
    hz = int(_timing.timer_hz())
    to_ns = 1e9 / hz
    runs: dict[tuple[str, str], list[Percentiles]] = {}
    samples: dict[str, list[npt.NDArray[np.float64]]] = {}
    timer_c: list[Percentiles] = []
    timer_py: list[Percentiles] = []

    def keep(name: str, where: str, data: npt.NDArray[np.float64]) -> None:
        runs.setdefault((name, where), []).append(timing.summarize(data))
        samples.setdefault(name, []).append(data)

    ops = config.ops
    for repeat in range(config.repeats):
        tag = f"repeat {repeat + 1}/{config.repeats}"
        timer_c.append(timing.summarize(_ticks(_timing.time_op(_timing.OP_EMPTY, ops), to_ns)))
        for name, op in _NATIVE_OPS:
            report(f"{tag}  C  {name}")
            keep(name, "C, one core", _ticks(_timing.time_op(op, ops, CAPACITY, BATCH), to_ns))
        for kind in _KINDS:
            for label, pace in ((SPINNING, 0), (TICKING, TICK_NS)):
                report(f"{tag}  C  {kind} push, {label}")
                _, lat = _pair(kind, 1, ops, True, to_ns, pace)
                keep(f"{kind} push, {label}", "C, two cores", lat)
        timer_py.append(timing.summarize(timing.perf_counter_overhead(ops)))
        for cls in (SpscRing, MpscRing):
            report(f"{tag}  Python  {cls.__name__}.push")
            ring = cls.create(CAPACITY)
            try:
                keep(f"{cls.__name__}.push", "Python", _py_push(ring.push, ring.drain, ops))
            finally:
                ring.unlink()
        report(f"{tag}  Python  PricePage.read")
        page = PricePage.create()
        try:
            page.publish(1, 850_000, 3_000_000, 1_000_000, 8_000_000)
            keep("PricePage.read", "Python", _py_read(page.read, ops))
        finally:
            page.unlink()
        report(f"{tag}  Python  Queue.put")
        keep("Queue.put", "Python", _py_queue_put(ops))

    rates: dict[tuple[str, int], list[Throughput]] = {}
    for repeat in range(config.repeats):
        tag = f"repeat {repeat + 1}/{config.repeats}"
        for kind in _KINDS:
            for producers in config.producers:
                report(f"{tag}  C  {kind} throughput, {producers} producer(s)")
                rate = _pair(kind, producers, config.pair_bids, False, to_ns)[0]
                rates.setdefault((rate.name, producers), []).append(rate)
        for kind in ("SpscRing", "MpscRing", "Queue"):
            report(f"{tag}  Python  {kind} throughput, producer process")
            rates.setdefault((kind, 1), []).append(_py_throughput(kind, config.python_bids))
    throughput = [_median_rate(runs) for runs in rates.values()]

    def rows(where: Callable[[str], bool]) -> tuple[Latency, ...]:
        return tuple(Latency(name, w, timing.median_percentiles(r))
                     for (name, w), r in runs.items() if where(w))

    result = RingBenchResult(
        config=config,
        environment=env,
        timer_hz=hz,
        timer_c=timing.median_percentiles(timer_c),
        timer_python=timing.median_percentiles(timer_py),
        native=rows(lambda w: w.startswith("C")),
        python=rows(lambda w: w == "Python"),
        throughput=tuple(throughput),
        targets=(),
        samples={k: np.concatenate(v) for k, v in samples.items()},
        elapsed_s=0.0,
    )
    return RingBenchResult(
        **{f.name: getattr(result, f.name) for f in fields(result)
           if f.name not in ("targets", "elapsed_s")},
        targets=evaluate_targets(result),
        elapsed_s=time.perf_counter() - started,
    )


# --------------------------------------------------------------------------
# Targets


def _ns(value: float) -> str:
    return f"{value:,.1f} ns" if value < 10_000 else f"{value / 1000:,.1f} us"


def _submit(result: RingBenchResult, name: str, which: str) -> Target:
    title = f"{name} {which} < {SUBMIT_TARGET_NS:.0f} ns"
    row = result.latency(name)
    if row is None:
        return Target(title, None, "not measured")
    value = getattr(row.latency, which)
    detail = (f"{_ns(value)} raw ({_ns(value - result.timer_c.p50)} net of an empty C timer "
              f"interval's {_ns(result.timer_c.p50)} p50); p50/p99/p99.9 "
              + " / ".join(_ns(v) for v in row.latency.as_tuple()))
    return Target(title, value < SUBMIT_TARGET_NS, detail)


def _faster(result: RingBenchResult, key: str, title: str) -> Target:
    ratio = result.ratios().get(key)
    if ratio is None:
        return Target(title, None, "not measured")
    return Target(title, ratio >= QUEUE_SPEEDUP, f"{ratio:,.1f}x ({key})")


def evaluate_targets(result: RingBenchResult) -> tuple[Target, ...]:
    """Submit < 100 ns natively (one core; and two, the consumer draining once a tick); the rings
    >= QUEUE_SPEEDUP x ``multiprocessing.Queue`` from Python. Raw numbers, nothing subtracted.
    """
    return (
        _submit(result, "SPSC push", "p50"),
        _submit(result, "SPSC push", "p99"),
        _submit(result, "MPSC push", "p99"),
        _submit(result, f"SPSC push, {TICKING}", "p50"),
        _submit(result, f"MPSC push, {TICKING}", "p50"),
        _faster(result, "Queue.put/SpscRing.push p50, Python",
                f"Python SpscRing.push p50 >= {QUEUE_SPEEDUP:g}x faster than Queue.put"),
        _faster(result, "SpscRing/Queue throughput, Python",
                f"Python SpscRing throughput >= {QUEUE_SPEEDUP:g}x multiprocessing.Queue"),
    )
