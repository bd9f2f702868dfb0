"""The thermal benchmark: controller, schedule, coupling and GPU dispatch latencies.

Each hot path is timed against a named baseline in the same run:

* ``schedule lookup`` (what the tick calls) against ``recompute per tick``
  (extrapolate and run the controller's law at every tick);
* ``coupling lookup`` against ``coupling formula`` (the same function
  computed with ``**`` at every call);
* ``controller update`` and ``schedule refresh`` (once per sensor reading);
* ``GPU dispatch``, Vickrey on unit bids and exact bundles (the branch and
  bound of :mod:`~auctioneer.gpu.solver` + VCG), per dispatch,
  against the seed's 100 us budget. ``vickrey`` rows dispatch ``GpuBid``
  lists (a native read into arrays, then the numpy path);
  ``vickrey-arrays`` rows time
  :meth:`~auctioneer.gpu.GpuPlane.dispatch_units` on the same bids
  handed over as two numpy arrays (built untimed, as a caller holding
  arrays would). Bundle rows run every ``bundle_sizes``
  x ``bundles_per_bid`` shape; on the same batches they also time the
  general ``clearing`` path (``clear`` + ``vcg_payments``, the baseline)
  and the pure-Python ``reference`` solver alone
  (:func:`~auctioneer.gpu.solver.solve_reference`, what a dispatch
  would cost without the native core).

The dispatch rows run under ``SCHED_FIFO`` where the OS permits it
(``realtime``, the default; root or ``CAP_SYS_NICE`` on Linux), as a
dispatcher thread would, so a shared machine's other processes cannot
preempt a timed dispatch; the JSON records the policy they ran under, the
load average, and per row how many dispatches the scheduler still preempted
(involuntary context switches, ``getrusage(RUSAGE_THREAD)``, counted outside
the timed window).

Sub-microsecond operations are timed in batches (``batch`` calls per
sample, so the timer's own ~50 ns does not swamp them); dispatches one per
sample. Latencies in ns; percentiles are nearest-rank over the samples.

Example:
    >>> config = ThermalBenchConfig.build(quick=True)
    >>> config.batch, config.samples, config.vickrey_sizes, config.bundles_per_bid
    (100, 50, (16, 64), (2,))
    >>> ThermalBenchConfig.build().bundle_shapes
    ((4, 2), (8, 2), (16, 2), (4, 4), (8, 4), (16, 4))
"""

from __future__ import annotations

import os
import random
import resource
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from auctioneer.checks import require_int
from auctioneer.gpu import DEFAULT_MAX_NODES, GpuBid, GpuDispatch, GpuPlane, solve_reference
from auctioneer.measure.target import Target
from auctioneer.measure.timing import (
    Environment,
    environment,
    gc_paused,
    median_percentiles,
    summarize,
)
from auctioneer.thermal import (
    CouplingTable,
    PriceController,
    PriceSchedule,
    Reading,
    cpu_formula,
)
from auctioneer.thermal.coupling import DEMAND_BIN_PM, HEADROOM_BIN_MC, _bin_pm, _util_bin

__all__ = [
    "DISPATCH_PRIORITY",
    "GPU_BUDGET_NS",
    "RESERVE_PER_MS",
    "VICKREY_PATHS",
    "DispatchRow",
    "OpRow",
    "ThermalBenchConfig",
    "ThermalBenchResult",
    "evaluate_targets",
    "realtime",
    "run_thermal_bench",
]

GPU_BUDGET_NS = 100_000
"""The seed's GPU-plane latency budget: 100 us per dispatch."""
TYPICAL_UNIT_BIDS = 64
"""The Vickrey dispatch the target is judged on: 64 unit bids."""
TYPICAL_BUNDLE_BIDS = 8
"""The bundle dispatch the target is judged on: 8 bids x 2 bundles."""
TYPICAL_BUNDLES_PER_BID = 2
"""Bundles per bid of the judged bundle dispatch."""
RESERVE_PER_MS = 10
"""Reserve per GPU millisecond (micro-units) every timed dispatch runs with."""
VICKREY_PATHS = ("vickrey", "vickrey-arrays")
"""Unit-bid rows: ``dispatch`` on ``GpuBid`` lists, ``dispatch_units`` on arrays."""
LARGE_UNIT_BIDS = (256, 1024)
"""Vickrey sizes past the judged one that also get a budget target, when in the run."""
DISPATCH_PRIORITY = 10
"""``SCHED_FIFO`` priority of the timed dispatch loops (``realtime``)."""
LARGE_BUNDLE_SHAPES = ((16, 4),)
"""Bundle shapes (bids, bundles per bid) past the judged one that also get a budget
target, when in the run: issue 16 asks for 16 bids x 4 bundles within the budget."""


@dataclass(frozen=True, slots=True)
class ThermalBenchConfig:
    """What to measure. :meth:`build` fills in the full or ``quick`` defaults."""

    batch: int = 1000
    samples: int = 200
    vickrey_sizes: tuple[int, ...] = (16, 64, 256, 1024)
    bundle_sizes: tuple[int, ...] = (4, 8, 16)
    bundles_per_bid: tuple[int, ...] = (2, 4)
    """XOR bundles in each bid of the bundle rows; every size runs with each."""
    dispatches: int = 200
    repeats: int = 5
    """Runs of ``dispatches`` per GPU row; each percentile is the median over them (the
    baselines run once)."""
    tick_hz: int = 10_000
    seed: int = 0
    quick: bool = False
    realtime: bool = True
    """Time the dispatch rows under ``SCHED_FIFO`` where permitted (see the module doc)."""

    def __post_init__(self) -> None:
        require_int(self.batch, "batch", 1, 10**6)
        require_int(self.samples, "samples", 1, 10**6)
        require_int(self.dispatches, "dispatches", 1, 10**6)
        require_int(self.repeats, "repeats", 1, 100)
        require_int(self.tick_hz, "tick_hz", 1000, 10_000)
        require_int(self.seed, "seed", 0, 2**64 - 1)
        for n in (*self.vickrey_sizes, *self.bundle_sizes):
            require_int(n, "size", 1, 4096)
        for k in self.bundles_per_bid:
            require_int(k, "bundles_per_bid", 1, 16)

    @classmethod
    def build(cls, *, quick: bool = False, seed: int = 0, samples: int | None = None,
              dispatches: int | None = None, repeats: int | None = None,
              bundles_per_bid: tuple[int, ...] | None = None,
              realtime: bool = True) -> ThermalBenchConfig:
        """The full run's defaults, or a smoke run's when ``quick``."""
        if quick:
            return cls(batch=100, samples=samples or 50, vickrey_sizes=(16, 64),
                       bundle_sizes=(4, 8), bundles_per_bid=bundles_per_bid or (2,),
                       dispatches=dispatches or 30, repeats=repeats or 1, seed=seed,
                       quick=True, realtime=realtime)
        return cls(samples=samples or 200, dispatches=dispatches or 200,
                   repeats=repeats or 5, seed=seed, bundles_per_bid=bundles_per_bid or (2, 4),
                   realtime=realtime)

    @property
    def bundle_shapes(self) -> tuple[tuple[int, int], ...]:
        """The bundle rows' ``(bids, bundles per bid)``, in run order."""
        return tuple((n, k) for k in self.bundles_per_bid for n in self.bundle_sizes)

    @property
    def steps(self) -> int:
        """Progress steps :func:`run_thermal_bench` reports."""
        return len(_OPS) + len(VICKREY_PATHS) * len(self.vickrey_sizes) + len(self.bundle_shapes)


@dataclass(frozen=True, slots=True)
class OpRow:
    """One operation's per-call latency (ns) and its baseline, if it has one."""

    name: str
    p50_ns: float
    p99_ns: float
    baseline: str | None = None
    speedup: float | None = None
    """Baseline p50 over this p50."""


@dataclass(frozen=True, slots=True)
class DispatchRow:
    """GPU dispatch latency at one batch size on one path."""

    path: str
    bids: int
    bundles_per_bid: int
    p50_ns: float
    p99_ns: float
    p999_ns: float
    winners: int
    baseline: str | None = None
    """The path timed on the same batches as the baseline (bundle rows: ``clearing``)."""
    baseline_p50_ns: float | None = None
    baseline_p99_ns: float | None = None
    reference_p50_ns: float | None = None
    """Bundle rows: the pure-Python ``solve_reference`` alone on the same batches."""
    reference_p99_ns: float | None = None
    search_nodes: int | None = None
    """Bundle rows: mean branch-and-bound nodes per dispatch (all its searches)."""
    cpu_p99_ns: float | None = None
    """p99 of the thread's CPU time per dispatch (``time.thread_time_ns``, median over the
    runs like the others): the dispatch's own cost, without the time the (shared) machine's
    scheduler kept the thread off the CPU, which ``p99_ns`` includes."""
    preempted: int | None = None
    """Timed dispatches (of all runs) the scheduler preempted; None where not counted."""
    scheduler: str = "default"
    """The policy the timed dispatches ran under: ``fifo`` or ``default``."""

    @property
    def speedup(self) -> float | None:
        """Baseline p99 over this p99."""
        return None if self.baseline_p99_ns is None else self.baseline_p99_ns / self.p99_ns


@dataclass(frozen=True, slots=True)
class ThermalBenchResult:
    """A whole run."""

    config: ThermalBenchConfig
    environment: Environment
    ops: tuple[OpRow, ...]
    dispatch: tuple[DispatchRow, ...]
    table_bytes: dict[str, int]
    targets: tuple[Target, ...]
    elapsed_s: float = 0.0
    load_average: tuple[float, float, float] | None = None
    """The 1, 5 and 15 minute load averages when the run started, where the OS has them."""

    def op(self, name: str) -> OpRow | None:
        """The row named ``name``."""
        return next((r for r in self.ops if r.name == name), None)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready builtins."""
        return {
            "benchmark": "auctioneer.bench.thermal",
            "schema": 1,
            "environment": asdict(self.environment),
            "config": {**asdict(self.config), "time": "ns per call; batched for ops, "
                       "one dispatch per sample; gc paused", "gpu_budget_ns": GPU_BUDGET_NS,
                       "load_average": self.load_average},
            "ops": [asdict(r) for r in self.ops],
            "dispatch": [asdict(r) for r in self.dispatch],
            "coupling_table_bytes": self.table_bytes,
            "targets": [asdict(t) for t in self.targets],
            "elapsed_s": round(self.elapsed_s, 3),
        }


# --------------------------------------------------------------------------
# Measuring


def _batched(call: Callable[[int], object], config: ThermalBenchConfig) -> tuple[float, float]:
    """p50 and p99 of the per-call time of ``call(i)`` over ``samples`` batches."""
    clock, batch = time.perf_counter_ns, config.batch
    out = [0.0] * config.samples
    with gc_paused():
        for s in range(config.samples):
            base = s * batch
            t0 = clock()
            for i in range(base, base + batch):
                call(i)
            out[s] = (clock() - t0) / batch
    p = summarize(out)
    return p.p50, p.p99


def _warm_schedule(config: ThermalBenchConfig) -> PriceSchedule:
    ctl = PriceController(85.0, period_s=0.01)
    schedule = PriceSchedule(ctl, tick_hz=config.tick_hz)
    for k in range(50):
        schedule.refresh(Reading(k / 100, k / 100 + 0.005, 84_000 + 60 * k), tick=k * 100)
    return schedule


def _ops(config: ThermalBenchConfig, report: Callable[[str], None]) -> list[OpRow]:
    rng = random.Random(config.seed)
    inputs = [(rng.randrange(0, 2000), rng.randrange(-5_000, 40_000), rng.randrange(0, 1001))
              for _ in range(1024)]
    readings = [rng.randrange(80_000, 95_000) for _ in range(1024)]
    schedule = _warm_schedule(config)
    start, span = schedule.start_tick, len(schedule)
    table = CouplingTable.build()
    ctl = PriceController(85.0, period_s=0.01)

    def lookup(i: int) -> object:
        return schedule.multiplier_at(start + i % span)

    def recompute(i: int) -> object:
        return schedule.recompute(start + i % span)

    def coupled(i: int) -> object:
        d, h, g = inputs[i & 1023]
        return table.cpu_price(1_000_000, d, h, g)

    def formula(i: int) -> object:
        d, h, g = inputs[i & 1023]
        m = cpu_formula(_bin_pm(d, DEMAND_BIN_PM), _bin_pm(h, HEADROOM_BIN_MC), _util_bin(g))
        return 1_000_000 * m >> 16

    def update(i: int) -> object:
        return ctl.update(readings[i & 1023])

    reading = Reading(0.0, 0.005, 86_000)

    def refresh(i: int) -> object:
        schedule.refresh(reading, i)
        return None

    measured: dict[str, tuple[float, float]] = {}
    for name, call in (("schedule lookup", lookup), ("recompute per tick", recompute),
                       ("coupling lookup", coupled), ("coupling formula", formula),
                       ("controller update", update), ("schedule refresh", refresh)):
        report(f"time {name}")
        measured[name] = _batched(call, config)
    rows = []
    for name, baseline in _OPS:
        p50, p99 = measured[name]
        speedup = measured[baseline][0] / p50 if baseline else None
        rows.append(OpRow(name, p50, p99, baseline, speedup))
    return rows


_OPS: tuple[tuple[str, str | None], ...] = (
    ("schedule lookup", "recompute per tick"),
    ("recompute per tick", None),
    ("coupling lookup", "coupling formula"),
    ("coupling formula", None),
    ("controller update", None),
    ("schedule refresh", None),
)


def _bids(rng: random.Random, path: str, n: int, per_bid: int,
          plane: GpuPlane) -> list[GpuBid]:
    if path.startswith("vickrey"):
        return [GpuBid.unit(a, rng.randrange(1, 1_000_000), plane.slice_ms) for a in range(n)]
    return [GpuBid(a, tuple((rng.randrange(1, plane.window_ms // 2 + 1),
                             rng.randrange(0, plane.memory // 4 + 1),
                             rng.randrange(1, 1_000_000)) for _ in range(per_bid)))
            for a in range(n)]


def _caller(plane: GpuPlane, batches: list[list[GpuBid]],
            path: str) -> tuple[Callable[[int, float], GpuDispatch], int]:
    """What one timed dispatch of ``path`` calls on batch ``i``, and how many batches."""
    if path == "vickrey-arrays":
        arrays = [(np.array([b.agent for b in bids], dtype=np.int64),
                   np.array([b.bundles[0][2] for b in bids], dtype=np.int64)) for bids in batches]
        return lambda i, now: plane.dispatch_units(*arrays[i], now, RESERVE_PER_MS), len(arrays)
    return lambda i, now: plane.dispatch(batches[i], now, RESERVE_PER_MS, path), len(batches)


@contextmanager
def realtime(enabled: bool) -> Iterator[str]:
    """Run the block under ``SCHED_FIFO`` at :data:`DISPATCH_PRIORITY` where the OS permits
    it, then restore the thread's policy; yields the policy it ran under."""
    try:
        if not enabled:
            raise PermissionError
        policy, param = os.sched_getscheduler(0), os.sched_getparam(0)
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(DISPATCH_PRIORITY))
    except (OSError, AttributeError):  # not permitted, or no such call on this OS
        yield "default"
        return
    try:
        yield "fifo"
    finally:
        os.sched_setscheduler(0, policy, param)


def _switches() -> int:
    """The thread's involuntary context switches so far (0 where not counted)."""
    who = getattr(resource, "RUSAGE_THREAD", None)
    return 0 if who is None else resource.getrusage(who).ru_nivcsw


def _timed(config: ThermalBenchConfig, plane: GpuPlane, batches: list[list[GpuBid]],
           path: str) -> tuple[list[float], list[float], int, int]:
    """Wall and thread CPU time of each dispatch, the mean winners and how many dispatches
    the scheduler preempted."""
    clock, cpu_clock = time.perf_counter_ns, time.thread_time_ns
    call, count = _caller(plane, batches, path)
    out = [0.0] * config.dispatches
    cpu = [0.0] * config.dispatches
    winners = preempted = 0
    call(0, 0.0)  # warm up, untimed
    with gc_paused():
        for s in range(config.dispatches):
            switches = _switches()
            c0 = cpu_clock()
            t0 = clock()
            result = call(s % count, s / 50)
            out[s] = clock() - t0
            cpu[s] = cpu_clock() - c0
            preempted += _switches() > switches
            winners += len(result.winners)
    return out, cpu, winners // config.dispatches, preempted


def _timed_reference(config: ThermalBenchConfig, plane: GpuPlane,
                     batches: list[list[GpuBid]]) -> tuple[list[float], int]:
    """The pure-Python solver alone, given what the plane hands the native one; mean nodes."""
    clock = time.perf_counter_ns
    inputs = [[b.bundles for b in bids] for bids in batches]
    window, memory = plane.window_ms, plane.memory
    out = [0.0] * config.dispatches
    nodes = 0
    with gc_paused():
        for s in range(config.dispatches):
            bundles = inputs[s & 15]
            t0 = clock()
            solution = solve_reference(bundles, window, memory, RESERVE_PER_MS, DEFAULT_MAX_NODES)
            out[s] = clock() - t0
            nodes += DEFAULT_MAX_NODES if solution is None else solution.nodes
    return out, nodes // config.dispatches


def _dispatch(config: ThermalBenchConfig, path: str, n: int, per_bid: int,
              report: Callable[[str], None]) -> DispatchRow:
    report(f"GPU dispatch: {path}, {n} bids" + (f" x {per_bid} bundles" if per_bid > 1 else ""))
    rng = random.Random(f"{config.seed}/{path}/{n}/{per_bid}")
    plane = GpuPlane(dispatch_hz=50, slice_ms=1, memory=80, max_agents=4096)
    batches = [_bids(rng, path, n, per_bid, plane) for _ in range(16)]
    # One preempted dispatch is 1 % of a run: take each percentile's median over runs.
    with realtime(config.realtime) as scheduler:
        runs = [_timed(config, plane, batches, path) for _ in range(config.repeats)]
    p = median_percentiles([summarize(run[0]) for run in runs])
    on_cpu = median_percentiles([summarize(run[1]) for run in runs]).p99
    winners = runs[0][2]
    counted = sum(run[3] for run in runs) if hasattr(resource, "RUSAGE_THREAD") else None
    if path != "bundles":
        return DispatchRow(path, n, per_bid, p.p50, p.p99, p.p999, winners, cpu_p99_ns=on_cpu,
                           preempted=counted, scheduler=scheduler)
    base = summarize(_timed(config, plane, batches, "clearing")[0])
    ref_times, nodes = _timed_reference(config, plane, batches)
    ref = summarize(ref_times)
    return DispatchRow(path, n, per_bid, p.p50, p.p99, p.p999, winners, "clearing",
                       base.p50, base.p99, ref.p50, ref.p99, nodes, on_cpu, counted,
                       scheduler)


def run_thermal_bench(config: ThermalBenchConfig,
                      progress: Callable[[str], None] | None = None) -> ThermalBenchResult:
    """Measure everything ``config`` asks for; ``progress(description)`` hears each step."""
    started = time.perf_counter()
    report = progress or (lambda _desc: None)
    env = environment()
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    ops = tuple(_ops(config, report))
    dispatch = tuple([_dispatch(config, path, n, 1, report)
                      for path in VICKREY_PATHS for n in config.vickrey_sizes]
                     + [_dispatch(config, "bundles", n, k, report)
                        for n, k in config.bundle_shapes])
    partial = ThermalBenchResult(config, env, ops, dispatch, CouplingTable.build().nbytes, ())
    return ThermalBenchResult(config, env, ops, dispatch, partial.table_bytes,
                              evaluate_targets(partial), time.perf_counter() - started, load)


# --------------------------------------------------------------------------
# Targets


def _dispatch_target(result: ThermalBenchResult, path: str, n: int, per_bid: int) -> Target:
    shape = f"{n} bids" + (f" x {per_bid} bundles" if path == "bundles" else "")
    name = f"GPU dispatch ({path}, {shape}) p99 <= {GPU_BUDGET_NS // 1000} us"
    row = next((r for r in result.dispatch
                if (r.path, r.bids, r.bundles_per_bid) == (path, n, per_bid)), None)
    if row is None:
        return Target(name, None, "not measured: that size is not in this run")
    versus = "" if row.speedup is None else (
        f"; {row.baseline} p99 {row.baseline_p99_ns / 1000:.1f} us "  # type: ignore[operator]
        f"({row.speedup:.1f}x)")
    cpu = "" if row.cpu_p99_ns is None else f" (on-CPU p99 {row.cpu_p99_ns / 1000:.1f} us)"
    return Target(name, row.p99_ns <= GPU_BUDGET_NS,
                  f"p50 {row.p50_ns / 1000:.1f} us, p99 {row.p99_ns / 1000:.1f} us{cpu}{versus}")


def _faster(result: ThermalBenchResult, name: str) -> Target:
    row = result.op(name)
    title = f"{name} faster than {row.baseline if row else 'its baseline'}"
    if row is None or row.speedup is None:
        return Target(title, None, "not measured")
    return Target(title, row.speedup > 1.0,
                  f"{row.p50_ns:.0f} ns vs {row.p50_ns * row.speedup:.0f} ns p50 "
                  f"({row.speedup:.1f}x)")


def evaluate_targets(result: ThermalBenchResult) -> tuple[Target, ...]:
    """The stated targets, judged on this run."""
    return (
        _faster(result, "schedule lookup"),
        _faster(result, "coupling lookup"),
        _dispatch_target(result, "vickrey", TYPICAL_UNIT_BIDS, 1),
        *(_dispatch_target(result, path, n, 1) for path in VICKREY_PATHS
          for n in LARGE_UNIT_BIDS if n in result.config.vickrey_sizes),
        _dispatch_target(result, "bundles", TYPICAL_BUNDLE_BIDS, TYPICAL_BUNDLES_PER_BID),
        *(_dispatch_target(result, "bundles", n, k) for n, k in LARGE_BUNDLE_SHAPES
          if (n, k) in result.config.bundle_shapes),
    )
