"""Run a scenario: draw the agents, drive the model with the event loop, measure.

:func:`simulate` is the whole simulator: build the :class:`~auctioneer.sim.model.Model`
(everything random is drawn there), register its streams on an
:class:`~auctioneer.sim.loop.EventLoop`, run to the end in steps of 1 % of
the horizon (the progress callback's rhythm), then compute the metrics,
including the offline optimum, from what was recorded. Only the loop is in
``loop_s``: drawing the agents and the offline metrics are timed apart.

Example:
    >>> from auctioneer.sim.scenario import EXAMPLE, load_scenario
    >>> result = simulate(load_scenario(EXAMPLE), seed=3)
    >>> m = result.metrics
    >>> m.ticks, 0 < m.efficiency <= 1, m.trace == simulate(load_scenario(EXAMPLE), 3).metrics.trace
    (50, True, True)
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from auctioneer.measure.timing import gc_paused
from auctioneer.sim.loop import EventLoop
from auctioneer.sim.metrics import gini, share_percentiles, time_above, trace_hash, variance
from auctioneer.sim.model import Model
from auctioneer.sim.optimum import gpu_optimum, per_tick_optimum
from auctioneer.sim.scenario import Scenario
from auctioneer.thermal import FRACTION_BITS
from auctioneer.thermal.response import settling

__all__ = ["COOL_X", "GPU_FULL", "HOT_X", "LOOP_BAND_C", "Metrics", "Progress", "Series",
           "SimResult", "measure", "simulate"]

HOT_X = 4
"""A tick is *hot* when its reserve is at least this multiple of the base reserve."""
COOL_X = 2
"""... and *cool* below this multiple."""
GPU_FULL = 0.95
"""The directive's "GPU utilization: 95 %": ticks in a sensor period at least this busy."""
LOOP_BAND_C = 1.0
"""The CPU die is settled when it stays within this many kelvin of the target (as the
step response, :mod:`auctioneer.thermal.response`)."""

Progress = Callable[[int, int], None]
"""``progress(now_ns, end_ns)``, called as the run advances."""


@dataclass(frozen=True, slots=True)
class Metrics:
    """A run's figures. Money in micro-units; shares and ratios as floats."""

    ticks: int
    quanta_sold: int
    quanta_supply: int
    cpu_welfare: int
    cpu_optimum: int
    efficiency: float
    """CPU welfare over the per-tick top-``cores`` optimum (:mod:`auctioneer.sim.optimum`)."""
    allocative_efficiency: float
    """CPU welfare over the optimum selling as many quanta as were sold."""
    cpu_revenue: int
    gpu_revenue: int
    gini: float
    """Of CPU quanta won, over the agents that ever wanted some."""
    agents_with_demand: int
    feeder_share: float
    """Share of CPU quanta won by GPU-feeding agents, all ticks."""
    feeder_share_hot: float | None
    """... on ticks whose reserve was at least HOT_X x the base (None: no such tick)."""
    feeder_share_cool: float | None
    hot_ticks: int
    dispatches: int
    gpu_ms_sold: int
    gpu_ms_supply: int
    gpu_welfare: int
    gpu_optimum: int
    gpu_efficiency: float
    cpu_temp_mean: float
    cpu_temp_var: float
    cpu_temp_max: float
    gpu_temp_mean: float
    gpu_temp_var: float
    gpu_temp_max: float
    cpu_above_s: float
    gpu_above_s: float
    target_reached_s: float | None
    """First time the true CPU die came within LOOP_BAND_C of the target; None: never, and
    then the PID's feedback never rose above 1x and the loop did not close."""
    overshoot_c: float
    """Peak CPU die temperature above the target (0: never above)."""
    settling_s: float | None
    """First time after which the die stays within LOOP_BAND_C of the target to the end."""
    crossings: int
    """Target crossings after first passing it (0: no ringing)."""
    multiplier_min: float
    """The CPU reserve's multiple of the base over all ticks (coupling x PID, capped): min."""
    multiplier_max: float
    pid_max: float
    """The PID feedback's largest value (1x unless the die passed its target)."""
    cap_share: float
    """Share of ticks whose reserve sat at the multiplier cap (the seed's 8x)."""
    gpu_full_ticks: int
    """Ticks in a sensor period with the GPU at least GPU_FULL busy."""
    feeder_share_gpu_full: float | None
    """Share of CPU quanta won by GPU-feeding agents on those ticks (None: no such tick)."""
    overhead_mean: float
    """Auction overhead: time inside the tick core per tick (select + mechanism, and the
    book updates and expiries since the last tick) as a share of the tick period: mean,
    p50, p99."""
    overhead_p50: float
    overhead_p99: float
    handler_mean: float
    """The simulator's whole tick handler (auction plus its own bookkeeping) as a share of
    the tick period: mean, p50, p99. A cost of simulating, not of the auction."""
    handler_p50: float
    handler_p99: float
    events: int
    loop_s: float
    """Wall time of the event loop alone."""
    loop_cpu_s: float
    """Process CPU time of the loop: on a shared machine, what the loop itself cost."""
    setup_s: float
    metrics_s: float
    trace: str
    """Hash of winners, prices, reserves and GPU sales: equal runs, equal hash."""
    duration_s: float
    """Simulated host time."""
    class_share: tuple[float, ...]
    """Per agent class (scenario order): its share of all the CPU quanta supplied."""
    class_paid: tuple[int, ...]
    """Per agent class: what its agents paid for CPU quanta, micro-units."""

    @property
    def revenue(self) -> int:
        """Both planes' revenue."""
        return self.cpu_revenue + self.gpu_revenue

    @property
    def speed(self) -> float:
        """Simulated seconds per wall second of the loop (> 1: faster than real time)."""
        return 0.0 if self.loop_s <= 0 else self.duration_s / self.loop_s

    def as_dict(self) -> dict[str, Any]:
        """Every field plus the derived ones, for JSON."""
        data = asdict(self)
        data.update(revenue=self.revenue, speed=self.speed,
                    events_per_s=self.events / self.loop_s if self.loop_s else 0.0)
        return data


@dataclass(frozen=True, slots=True)
class Series:
    """What the plots draw: per tick, per thermal sample, per dispatch."""

    tick_s: npt.NDArray[np.float64]
    sold: npt.NDArray[np.int64]
    feed_sold: npt.NDArray[np.int64]
    price: npt.NDArray[np.int64]
    reserve: npt.NDArray[np.int64]
    thermal: npt.NDArray[np.float64]
    """Columns: time s, CPU C, GPU C, chassis C, CPU util, GPU util, PID x, CPU x, GPU x."""
    dispatch_s: npt.NDArray[np.float64]
    gpu_sold_ms: npt.NDArray[np.int64]
    gpu_reserve: npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class SimResult:
    """One run: its scenario, seed, metrics and series."""

    scenario: Scenario
    seed: int
    metrics: Metrics
    series: Series


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _by_class(model: Model) -> tuple[list[int], list[int]]:
    """CPU quanta won and paid for, summed per agent class."""
    n = len(model.scenario.agents.classes)
    won, paid = [0] * n, [0] * n
    pop = model.pop
    for inc, slot in enumerate(pop.inc_slot):
        c = pop.slot_class[slot]
        won[c] += model.cpu_won[inc]
        paid[c] += model.cpu_paid[inc]
    return won, paid


def measure(model: Model, loop_s: float, loop_cpu_s: float, setup_s: float,
            events: int) -> SimResult:
    """The metrics and series of a finished run (the offline optimum included)."""
    start = time.perf_counter()
    sc = model.scenario
    ticks = model.tick
    sold = np.asarray(model.sold, dtype=np.int64)
    feed = np.asarray(model.feed_sold, dtype=np.int64)
    reserve = np.asarray(model.reserve, dtype=np.int64)
    price = np.asarray(model.price, dtype=np.int64)
    opt = per_tick_optimum(model.demand, ticks, model.cores, sold)
    hot = reserve >= HOT_X * sc.cpu.reserve
    cool = reserve < COOL_X * sc.cpu.reserve
    wanted = [won for won, w in zip(model.cpu_won, model.wanted, strict=True) if w]
    thermal = np.asarray(model.thermal, dtype=np.float64).reshape(-1, 9)
    dt_s = model.sample_ns / 1e9
    gpu_opt = sum(gpu_optimum(d.bids, model.window_ms, sc.gpu.memory_gib)
                  for d in model.dispatches if d.bids)
    gpu_welfare = sum(d.welfare for d in model.dispatches)
    gpu_sold = np.asarray([d.sold_ms for d in model.dispatches], dtype=np.int64)
    gpu_reserve = np.asarray([d.reserve_per_ms for d in model.dispatches], dtype=np.int64)
    overhead = share_percentiles(model.overhead_ns, model.tick_ns)
    handler = share_percentiles(model.handler_ns, model.tick_ns)
    trace = trace_hash(model.winners, sold, price, reserve, gpu_sold,
                       [d.revenue for d in model.dispatches])
    cpu_t, gpu_t = thermal[:, 1], thermal[:, 2]
    limit = sc.thermal.limit_c
    loop = settling(thermal[:, 0].tolist(), cpu_t.tolist(), sc.thermal.target_c, LOOP_BAND_C)
    multiple = reserve / sc.cpu.reserve if sc.cpu.reserve else np.ones(ticks)
    at_cap = reserve >= sc.cpu.reserve * model.coupling.max_q >> FRACTION_BITS
    # Sample k measured the GPU over (t_{k-1}, t_k]: the period a tick falls in.
    tick_s = np.arange(ticks, dtype=np.float64) * (model.tick_ns / 1e9)
    period = np.minimum(np.searchsorted(thermal[:, 0], tick_s), max(len(thermal) - 1, 0))
    full = thermal[period, 5] >= GPU_FULL if len(thermal) else np.zeros(ticks, dtype=bool)
    won_by_class, paid_by_class = _by_class(model)
    metrics_s = time.perf_counter() - start
    metrics = Metrics(
        ticks=ticks, quanta_sold=int(sold.sum()), quanta_supply=ticks * model.cores,
        cpu_welfare=model.cpu_welfare, cpu_optimum=opt.welfare,
        efficiency=model.cpu_welfare / opt.welfare if opt.welfare else 1.0,
        allocative_efficiency=(model.cpu_welfare / int(opt.top_sold.sum())
                               if opt.top_sold.sum() else 1.0),
        cpu_revenue=model.cpu_revenue, gpu_revenue=sum(d.revenue for d in model.dispatches),
        gini=gini(wanted), agents_with_demand=len(wanted),
        feeder_share=_share(int(feed.sum()), int(sold.sum())) or 0.0,
        feeder_share_hot=_share(int(feed[hot].sum()), int(sold[hot].sum())),
        feeder_share_cool=_share(int(feed[cool].sum()), int(sold[cool].sum())),
        hot_ticks=int(hot.sum()),
        dispatches=len(model.dispatches), gpu_ms_sold=int(gpu_sold.sum()),
        gpu_ms_supply=len(model.dispatches) * model.window_ms,
        gpu_welfare=gpu_welfare, gpu_optimum=gpu_opt,
        gpu_efficiency=gpu_welfare / gpu_opt if gpu_opt else 1.0,
        cpu_temp_mean=float(cpu_t.mean()) if cpu_t.size else 0.0, cpu_temp_var=variance(cpu_t),
        cpu_temp_max=float(cpu_t.max()) if cpu_t.size else 0.0,
        gpu_temp_mean=float(gpu_t.mean()) if gpu_t.size else 0.0, gpu_temp_var=variance(gpu_t),
        gpu_temp_max=float(gpu_t.max()) if gpu_t.size else 0.0,
        cpu_above_s=time_above(cpu_t, dt_s, limit), gpu_above_s=time_above(gpu_t, dt_s, limit),
        target_reached_s=loop.rise_s, overshoot_c=loop.overshoot_c,
        settling_s=loop.settling_s, crossings=loop.crossings,
        multiplier_min=float(multiple.min()) if ticks else 1.0,
        multiplier_max=float(multiple.max()) if ticks else 1.0,
        pid_max=float(thermal[:, 6].max()) if len(thermal) else 1.0,
        cap_share=float(at_cap.mean()) if ticks else 0.0,
        gpu_full_ticks=int(full.sum()),
        feeder_share_gpu_full=_share(int(feed[full].sum()), int(sold[full].sum())),
        overhead_mean=overhead[0], overhead_p50=overhead[1], overhead_p99=overhead[2],
        handler_mean=handler[0], handler_p50=handler[1], handler_p99=handler[2],
        events=events, loop_s=loop_s, loop_cpu_s=loop_cpu_s, setup_s=setup_s,
        metrics_s=metrics_s, trace=trace, duration_s=sc.duration_s,
        class_share=tuple(w / (ticks * model.cores) if ticks else 0.0 for w in won_by_class),
        class_paid=tuple(paid_by_class),
    )
    series = Series(
        tick_s=tick_s, sold=sold,
        feed_sold=feed, price=price, reserve=reserve, thermal=thermal,
        dispatch_s=np.asarray([d.time_ns / 1e9 for d in model.dispatches], dtype=np.float64),
        gpu_sold_ms=gpu_sold, gpu_reserve=gpu_reserve)
    return SimResult(sc, model.seed, metrics, series)


def simulate(scenario: Scenario, seed: int | None = None,
             progress: Progress | None = None) -> SimResult:
    """Run ``scenario`` (with its own seed unless ``seed`` is given) and measure it."""
    seed = scenario.seed if seed is None else seed
    start = time.perf_counter()
    model = Model(scenario, seed)
    loop = EventLoop()
    for _, times, priority, handler, arg in model.streams():
        loop.stream(times, priority, handler, arg)
    setup_s = time.perf_counter() - start
    end = model.end_ns
    step = max(1, end // 100)
    # The model makes no reference cycles but allocates millions of tracked objects;
    # collector pauses would land at random ticks, inside the timed auction calls.
    with gc_paused():
        start, cpu = time.perf_counter(), time.process_time()
        for until in range(step, end + step, step):
            loop.run(min(until, end))
            if progress is not None:
                progress(min(until, end), end)
        loop_s, loop_cpu_s = time.perf_counter() - start, time.process_time() - cpu
    return measure(model, loop_s, loop_cpu_s, setup_s, loop.events)
