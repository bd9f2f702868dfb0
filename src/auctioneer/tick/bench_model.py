"""The tick benchmark's configuration and results: what to measure, and what was measured.

:mod:`auctioneer.tick.bench` runs the measurements; this module holds the
values they fill in and the JSON record a run writes
(:class:`auctioneer.tick.bench_record.TickBenchRecord`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from auctioneer.checks import require_int
from auctioneer.measure.record import fields_dict
from auctioneer.measure.sizes import parse_int_list
from auctioneer.measure.target import Target
from auctioneer.measure.timing import (
    Environment,
    Percentiles,
)
from auctioneer.tick import STRUCTURES
from auctioneer.tick.bench_baselines import BASELINES
from auctioneer.tick.bench_record import TickBenchRecord
from auctioneer.tick.limits import MAX_CAPACITY

__all__ = [
    "BASELINE_NAMES",
    "WORKLOADS",
    "AdversarialResult",
    "DEFAULT_ACCURACY_SAMPLES",
    "DEFAULT_OPS",
    "DEFAULT_REPEATS",
    "DEFAULT_SIZES",
    "NATIVE_TICK_P99_NS",
    "PRICE_HIGH",
    "PRICE_LOW",
    "PYTHON_TICK_P999_NS",
    "PYTHON_TICK_P99_NS",
    "QUICK_ACCURACY_SAMPLES",
    "QUICK_OPS",
    "QUICK_REPEATS",
    "QUICK_SIZES",
    "SELECT_N",
    "SPEEDUP_VS_HEAPQ",
    "TARGET_N",
    "OpLatency",
    "SampledAccuracy",
    "StructureResult",
    "TickBenchConfig",
    "TickBenchResult",
    "TickSamples",
    "TimerCost",
    "parse_sizes",
    "parse_structures",
]

WORKLOADS = ("rescan", "crowded")
"""The adversarial workloads (:func:`auctioneer.tick.bench._adversarial_ops`)."""

PRICE_LOW = 500_000
"""Lowest bid drawn, micro-units ($0.50)."""
PRICE_HIGH = 1_500_000
"""Highest bid drawn, micro-units ($1.50)."""
DEFAULT_SIZES = (10, 100, 1000, 10000)
"""Book sizes N of a full run."""
QUICK_SIZES = (10, 1000)
"""Book sizes N of a ``--quick`` smoke run."""
BASELINE_NAMES = tuple(BASELINES)
"""The pure-Python baselines every run includes, ``heapq`` first."""
TARGET_N = 1000
"""The book size the targets are stated at."""

DEFAULT_OPS = 100_000
QUICK_OPS = 2_000
DEFAULT_REPEATS = 5
QUICK_REPEATS = 3
DEFAULT_ACCURACY_SAMPLES = (8, 32, 128, 512)
QUICK_ACCURACY_SAMPLES = (32,)
SELECT_N = 2
"""A tick selects the winner and the runner-up, whose bid is the Vickrey price."""
_ACCURACY_TICKS = 20_000
_SEED_MAX = 2**64 - 1

# Targets: (what, limit in ns).
NATIVE_TICK_P99_NS = 50.0
PYTHON_TICK_P99_NS = 1_000.0
PYTHON_TICK_P999_NS = 10_000.0
SPEEDUP_VS_HEAPQ = 2.0


# --------------------------------------------------------------------------
# Configuration



def parse_sizes(text: str) -> tuple[int, ...]:
    """Book sizes from ``"10,100,1000"``; ValueError naming the bad item."""
    return parse_int_list(text, "size", 1, MAX_CAPACITY, "10,100,1000")


def parse_structures(text: str) -> tuple[str, ...]:
    """Structure names from ``"TierBook,LazyHeap"`` or ``"all"`` (any case)."""
    by_lower = {name.lower(): name for name in STRUCTURES}
    chosen: list[str] = []
    for item in (part.strip() for part in text.split(",")):
        if item.lower() == "all":
            chosen.extend(STRUCTURES)
        elif item.lower() in by_lower:
            chosen.append(by_lower[item.lower()])
        else:
            raise ValueError(
                f"unknown structure {item!r}: choose from {', '.join(STRUCTURES)} or all"
            )
    return tuple(dict.fromkeys(chosen))


@dataclass(frozen=True, slots=True)
class TickBenchConfig:
    """What to measure. Build one with :meth:`build`, which fills in the defaults."""

    sizes: tuple[int, ...] = DEFAULT_SIZES
    structures: tuple[str, ...] = STRUCTURES
    ops: int = DEFAULT_OPS
    """Timed operations per measurement, in C and from Python alike."""
    repeats: int = DEFAULT_REPEATS
    seed: int = 0
    accuracy_samples: tuple[int, ...] = DEFAULT_ACCURACY_SAMPLES
    """Sample sizes at which the sampled book's miss rate is measured."""
    accuracy_ticks: int = DEFAULT_OPS
    quick: bool = False

    def __post_init__(self) -> None:
        if not self.sizes:
            raise ValueError("sizes is empty: give at least one book size")
        for size in self.sizes:
            require_int(size, "size", 1, MAX_CAPACITY)
        if not self.structures:
            raise ValueError("structures is empty: give at least one structure")
        for name in self.structures:
            if name not in STRUCTURES:
                raise ValueError(
                    f"unknown structure {name!r}: choose from {', '.join(STRUCTURES)}"
                )
        require_int(self.ops, "ops", 1)
        require_int(self.repeats, "repeats", 1)
        require_int(self.seed, "seed", 0, _SEED_MAX)
        for samples in self.accuracy_samples:
            require_int(samples, "accuracy sample size", 1, MAX_CAPACITY)
        require_int(self.accuracy_ticks, "accuracy_ticks", 1)

    @classmethod
    def build(
        cls,
        *,
        sizes: Iterable[int] | None = None,
        structures: Iterable[str] | None = None,
        ops: int | None = None,
        repeats: int | None = None,
        seed: int = 0,
        quick: bool = False,
    ) -> TickBenchConfig:
        """A configuration: what is given, else the full run's (or ``quick``'s) defaults."""
        run_ops = ops if ops is not None else (QUICK_OPS if quick else DEFAULT_OPS)
        return cls(
            sizes=tuple(sizes) if sizes is not None else (QUICK_SIZES if quick else DEFAULT_SIZES),
            structures=tuple(structures) if structures is not None else STRUCTURES,
            ops=run_ops,
            repeats=repeats if repeats is not None else (
                QUICK_REPEATS if quick else DEFAULT_REPEATS
            ),
            seed=seed,
            accuracy_samples=QUICK_ACCURACY_SAMPLES if quick else DEFAULT_ACCURACY_SAMPLES,
            accuracy_ticks=min(run_ops, _ACCURACY_TICKS),
            quick=quick,
        )

    @property
    def books(self) -> tuple[str, ...]:
        """Every book measured: the chosen structures, then the baselines."""
        return (*self.structures, *BASELINE_NAMES)

    @property
    def steps(self) -> int:
        """How many progress steps :func:`run_tick_bench` reports."""
        # timed rounds per book, memory per book, each adversarial workload per native book
        per_size = (self.repeats * len(self.books) + len(self.books)
                    + len(WORKLOADS) * len(self.structures))
        if "SampledTopK" in self.structures:
            per_size += len(self.accuracy_samples)
        return len(self.sizes) * per_size

    @property
    def plot_n(self) -> int:
        """The size whose full distributions are kept: TARGET_N, else the nearest (log scale)."""
        return min(self.sizes, key=lambda n: (abs(np.log(n / TARGET_N)), n))


# --------------------------------------------------------------------------
# Results


@dataclass(frozen=True, slots=True)
class OpLatency:
    """Latency percentiles (ns) of the three operations, median over repeats."""

    tick: Percentiles
    """update + select(2): one tick."""
    update: Percentiles
    expire: Percentiles
    """expire alone (the re-insert that keeps the book full is not timed)."""
    select: Percentiles | None = None
    """select(2) alone after an untimed update; timed in C only (None from Python)."""


@dataclass(frozen=True, slots=True)
class AdversarialResult:
    """A native book's tick under an adversarial workload, timed in C."""

    workload: str
    """``rescan`` (one agent, always on top, re-bids every tick) or ``crowded`` (every bid
    and update inside one tier of the default tier map)."""
    name: str
    n: int
    tick: Percentiles
    rescans_per_tick: float | None
    """LazyHeap only: recomputes of its cache per tick, counted by the reference model on
    the same operations (the reference applies tick_core.c's staleness rule)."""


@dataclass(frozen=True, slots=True)
class StructureResult:
    """Everything measured for one book at one size."""

    name: str
    n: int
    native: bool
    """A native tick structure (True) or a pure-Python baseline."""
    in_c: OpLatency | None
    """Timed inside the extension; None for the baselines."""
    from_python: OpLatency
    """Timed per call from Python."""
    core_bytes_per_agent: float | None
    """Native ``nbytes / capacity``; None for the baselines."""
    traced_bytes_per_agent: float
    """Bytes tracemalloc saw allocated while building the full book, per agent."""

    @property
    def bytes_per_agent(self) -> float:
        """The memory figure to quote: the core block natively, tracemalloc's otherwise."""
        if self.core_bytes_per_agent is not None:
            return self.core_bytes_per_agent
        return self.traced_bytes_per_agent


@dataclass(frozen=True, slots=True)
class TimerCost:
    """What the timers cost by themselves: an empty interval, ns, median over repeats."""

    native_hz: int
    """time_ops's timer ticks per second."""
    native: Percentiles
    """An empty rdtsc/rdtscp interval in C (time_ops op 3)."""
    python: Percentiles
    """An empty ``perf_counter_ns()`` pair in Python."""


@dataclass(frozen=True, slots=True)
class SampledAccuracy:
    """How often the sampled book picks a different winner than an exact book."""

    n: int
    samples: int
    ticks: int
    miss_rate: float
    """Share of ticks whose winner differs from the exact winner."""
    price_miss_rate: float
    """Share of ticks whose Vickrey price differs from the exact one."""
    mean_rel_price_error: float
    """Mean over ticks of ``|sampled - exact| / exact`` Vickrey price."""

    @property
    def exact(self) -> bool:
        """True when the sample covers every bid, so the book ranks them all."""
        return self.samples >= self.n


@dataclass(frozen=True, slots=True)
class TickSamples:
    """Every tick latency (ns) at one size, repeats pooled, for plotting."""

    n: int
    in_c: dict[str, npt.NDArray[np.float64]]
    from_python: dict[str, npt.NDArray[np.float64]]


@dataclass(frozen=True, slots=True)
class TickBenchResult:
    """A whole run: configuration, environment, timer costs, rows, accuracy, targets."""

    config: TickBenchConfig
    environment: Environment
    timer: TimerCost
    rows: tuple[StructureResult, ...]
    accuracy: tuple[SampledAccuracy, ...]
    targets: tuple[Target, ...]
    samples: TickSamples = field(repr=False, compare=False)
    adversarial: tuple[AdversarialResult, ...] = ()
    elapsed_s: float = 0.0

    def row(self, name: str, n: int) -> StructureResult | None:
        """The result for book ``name`` at size ``n``, if measured."""
        return next((r for r in self.rows if r.name == name and r.n == n), None)

    def speedup_vs_heapq(self, row: StructureResult) -> tuple[float, float] | None:
        """heapq's Python tick p50 and p99 over ``row``'s: above 1 means faster than heapq."""
        base = self.row("heapq", row.n)
        if base is None:
            return None
        mine, theirs = row.from_python.tick, base.from_python.tick
        return (theirs.p50 / mine.p50, theirs.p99 / mine.p99)

    def to_dict(self) -> dict[str, Any]:
        """Everything but the raw samples, as the JSON record's builtins (validated)."""
        return TickBenchRecord.model_validate({
            "environment": fields_dict(self.environment),
            "config": {
                **fields_dict(self.config),
                "select_n": SELECT_N,
                "price_range_micros": [PRICE_LOW, PRICE_HIGH],
                "percentiles": "nearest rank, median over repeats",
                "gc_paused_while_timing": True,
                "timer_overhead_subtracted": False,
            },
            "timer": {
                "native_hz": self.timer.native_hz,
                "native_empty_interval_ns": self.timer.native.rounded(),
                "python_empty_perf_counter_pair_ns": self.timer.python.rounded(),
            },
            "results": [self._row_dict(r) for r in self.rows],
            "sampled_accuracy": [
                {**fields_dict(a), "exact": a.exact} for a in self.accuracy
            ],
            "adversarial": [
                {"workload": a.workload, "structure": a.name, "n": a.n,
                 "in_c_ns": {"tick": a.tick.rounded()},
                 "rescans_per_tick": a.rescans_per_tick} for a in self.adversarial
            ],
            "targets": [fields_dict(t) for t in self.targets],
            "elapsed_s": round(self.elapsed_s, 3),
        }).to_json_dict()

    def _row_dict(self, row: StructureResult) -> dict[str, Any]:
        speedup = self.speedup_vs_heapq(row)
        ops = ("tick", "update", "expire")
        return {
            "structure": row.name,
            "n": row.n,
            "native": row.native,
            "in_c_ns": None if row.in_c is None else {
                op: getattr(row.in_c, op).rounded() for op in (*ops, "select")
                if getattr(row.in_c, op) is not None
            },
            "from_python_ns": {op: getattr(row.from_python, op).rounded() for op in ops},
            "bytes_per_agent": round(row.bytes_per_agent, 3),
            "core_bytes_per_agent": row.core_bytes_per_agent,
            "traced_bytes_per_agent": round(row.traced_bytes_per_agent, 3),
            "speedup_vs_heapq": None if speedup is None else {
                "p50": round(speedup[0], 3), "p99": round(speedup[1], 3)
            },
            "python_over_in_c": None if row.in_c is None else {
                "p50": round(row.from_python.tick.p50 / row.in_c.tick.p50, 3),
                "p99": round(row.from_python.tick.p99 / row.in_c.tick.p99, 3),
            },
        }
