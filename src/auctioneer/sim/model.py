"""The simulated machine: both planes, the thermal loop and the agents, as event handlers.

The model owns the state and one handler per event kind; a driver (the
event loop in :func:`auctioneer.sim.run.simulate`, or SimPy in the
benchmark) calls them at the times :meth:`Model.streams` lists. Each
handler is exact at its instant; nothing is re-evaluated between events.

* **job** -- work arrives for an agent: its backlog grows by the job's CPU
  quanta; an agent that was idle enters the tick book with its value per
  quantum (Vickrey makes the true value its best bid). Agents do not
  re-bid every tick: a bid stays until the backlog is served or the agent
  leaves, so the book sees O(jobs) updates, not O(N) per tick.
* **tick** (1-10 kHz) -- one CPU auction: ``cores`` unit quanta under the
  scenario's mechanism with a reserve of ``cpu.reserve`` times the coupled
  multiplier (:meth:`~auctioneer.thermal.CouplingTable.cpu_price`: CPU demand,
  CPU headroom, GPU utilisation over the last sensor period) times the PID feedback read from the
  precomputed schedule in O(1) (``cpu.coupled: false``: ``cpu.reserve`` alone).
  With ``cpu.policy: fair-share`` the quanta go instead by the kernel
  scheduler's fair queueing with money as the weight
  (:class:`~auctioneer.sim.fairshare.FairShare`, reserve and budgets as there).
  Each winner's backlog drops by one quantum;
  a GPU-feeding winner's quantum makes ``gpu_us_per_quantum`` of GPU work.
* **dispatch** (10-100 Hz) -- the GPU plane's batch auction
  (:class:`~auctioneer.gpu.GpuPlane`) over agents with at least a whole
  GPU millisecond of work (GPU time sells in 1 ms slices): unit
  bids (one slice at their value) go the k-unit Vickrey way, through the
  plane's array path (``dispatch_units``) when no bidder needs memory; agents needing
  GPU memory bid XOR bundles (their whole window's work or half, with their
  memory), cleared exactly. Reserve per ms: the coupling's GPU price.
* **sample** (10-100 Hz) -- the plant advances over the last period at the
  utilisations measured in it; the sensors sample the dies.
* **reading** (a sensor delay after each sample) -- the CPU reading reaches
  the controller: the schedule refreshes the next 10 ms of multipliers.
* **join / leave** -- an agent arrives in a slot, or leaves it (its bid and
  its unserved work go with it).

Example:
    >>> from auctioneer.sim.scenario import EXAMPLE, load_scenario
    >>> model = Model(load_scenario(EXAMPLE), seed=1)
    >>> [name for name, *_ in model.streams()][:4]
    ['sample', 'reading', 'dispatch', 'tick']
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from time import perf_counter_ns

import numpy as np

from auctioneer.gpu import GpuBid, GpuPlane
from auctioneer.sim.fairshare import FairShare
from auctioneer.sim.loop import Handler, Priority
from auctioneer.sim.optimum import Demand
from auctioneer.sim.population import Population, draw_population
from auctioneer.sim.scenario import Scenario
from auctioneer.thermal import (
    ONE,
    CouplingTable,
    PlantConfig,
    PriceController,
    PriceSchedule,
    Reading,
    Sensor,
    ThermalPlant,
)
from auctioneer.tick import (
    Book,
    IndexedHeap,
    LazyHeap,
    Mechanism,
    Outcome,
    SampledTopK,
    TierBook,
    TournamentTree,
    first_price,
    generalized_second_price,
    posted_price,
    proportional_share,
    second_price,
)
from auctioneer.tick.limits import PRICE_MAX

__all__ = ["Model", "Stream", "auction", "make_book"]

NS = 1_000_000_000

Stream = tuple[str, Iterable[int], int, Handler, int]
"""``(name, times, priority, handler, arg)``: one source of events for a driver."""


def auction(mechanism: Mechanism, bids: list[int] | None = None
            ) -> Callable[[Book, int, int], Outcome]:
    """``mechanism`` as one call ``(book, k, reserve)``: the reserve is the posted price for
    POSTED and is ignored by PROPORTIONAL (which shares ``k`` units), as in
    :func:`auctioneer.tick.run`.

    Given ``bids`` (every live bid by agent id, as the simulator knows them),
    the second-price rule takes a fast path: one native select, the reserve
    checked against ``bids`` instead of one ``book.bid`` call per winner --
    :func:`~auctioneer.tick.second_price`'s result exactly (differential test
    in ``tests/sim/test_model.py``), a third of its time.

    Example:
        >>> auction(Mechanism.SECOND_PRICE) is second_price
        True
        >>> book = IndexedHeap(4)
        >>> for agent, bid in [(0, 500), (1, 900), (2, 700)]:
        ...     book.update(agent, bid)
        >>> auction(Mechanism.SECOND_PRICE, [500, 900, 700, 0])(book, 2, 600)
        Outcome(winners=(1, 2), payments=(600, 600), units=(1, 1))
    """
    if mechanism is Mechanism.SECOND_PRICE and bids is not None:
        known = bids

        def vickrey(book: Book, k: int, reserve: int) -> Outcome:
            agents, prices = book.select(k + 1)
            winners = tuple([a for a in agents[:k] if known[a] >= reserve])
            clearing = prices[k] if len(prices) > k and prices[k] > reserve else reserve
            n = len(winners)
            return Outcome(winners, (clearing,) * n, (1,) * n)

        return vickrey
    if mechanism is Mechanism.POSTED:
        return lambda book, k, reserve: posted_price(book, reserve, k)
    if mechanism is Mechanism.PROPORTIONAL:
        return lambda book, k, reserve: proportional_share(book, k)
    return {Mechanism.FIRST_PRICE: first_price, Mechanism.SECOND_PRICE: second_price,
            Mechanism.GSP: generalized_second_price}[mechanism]


def make_book(structure: str, capacity: int, cores: int, seed: int
              ) -> TierBook | LazyHeap | TournamentTree | SampledTopK | IndexedHeap:
    """The native tick book a scenario names, sized for ``capacity`` agents.

    The lazy heap caches ``cores + 1`` ranks (the winners and the price
    setter); the sampled book draws 64 per select, seeded by the run.
    """
    if structure == "TierBook":
        return TierBook(capacity)
    if structure == "LazyHeap":
        return LazyHeap(capacity, depth=min(64, cores + 1))
    if structure == "TournamentTree":
        return TournamentTree(capacity)
    if structure == "SampledTopK":
        return SampledTopK(capacity, samples=64, seed=seed % 2**64 or 1)
    return IndexedHeap(capacity)


@dataclass(slots=True)
class _GpuRecord:
    """One dispatch as it happened, for the series and the offline optimum."""

    time_ns: int
    bids: tuple[GpuBid, ...]
    reserve_per_ms: int
    sold_ms: int
    revenue: int
    welfare: int


class Model:
    """State and handlers of one run (see the module docstring)."""

    def __init__(self, scenario: Scenario, seed: int) -> None:
        self.scenario = scenario
        self.seed = seed
        cpu, gpu, th = scenario.cpu, scenario.gpu, scenario.thermal
        self.end_ns = scenario.duration_ns
        self.pop: Population = draw_population(scenario, seed)
        slots = scenario.agents.count
        classes = scenario.agents.classes
        self.feeding = [classes[c].gpu_feeding for c in self.pop.slot_class]
        self.gpu_us = [classes[c].gpu_us_per_quantum for c in self.pop.slot_class]
        self.gpu_mem = [classes[c].gpu_memory_gib for c in self.pop.slot_class]
        # Per slot, the agent there now.
        self.inc = [-1] * slots
        self.value = [0] * slots
        self.backlog = [0] * slots
        self.gpu_backlog = [0] * slots
        self.job_next = [0] * slots
        self.join_next = [0] * slots
        self.open = [-1] * slots
        # Per incarnation.
        n_inc = len(self.pop.inc_slot)
        self.cpu_won = [0] * n_inc
        self.gpu_won = [0] * n_inc
        self.wanted = [False] * n_inc
        self.cpu_paid = [0] * n_inc
        # CPU plane.
        # select(cores + 1) must fit the book even with fewer agents than cores.
        self.book = make_book(cpu.structure, max(slots, cpu.cores + 1), cpu.cores, seed)
        self._auction = auction(cpu.mechanism, self.value)
        self._base = cpu.reserve
        self._coupled = cpu.coupled
        # The kernel scheduler's policy instead of an auction per tick (sim/fairshare.py).
        self.fair = (FairShare(slots, cpu.fair_share, NS // cpu.tick_hz)
                     if cpu.policy == "fair-share" else None)
        self.budget = [classes[c].budget for c in self.pop.slot_class]
        self.units = [classes[c].units for c in self.pop.slot_class]
        self.cores = cpu.cores
        self.tick_ns = NS // cpu.tick_hz
        self.tick = 0
        self.demand = Demand()
        self.sold: list[int] = []
        self.price: list[int] = []
        self.reserve: list[int] = []
        self.feed_sold: list[int] = []
        self.overhead_ns: list[int] = []
        """Per tick: ns inside the tick core -- this tick's select and mechanism plus the
        book updates and expiries since the last tick (job arrivals, leavers, served
        winners)."""
        self.handler_ns: list[int] = []
        """Per tick: ns in the whole tick handler (the auction and the simulator's books)."""
        self.book_ns = 0
        self.winners: list[int] = []
        self.cpu_welfare = 0
        self.cpu_revenue = 0
        # GPU plane.
        self.gpu_plane = GpuPlane(gpu.dispatch_hz, slice_ms=1, memory=gpu.memory_gib,
                                  max_agents=slots)
        self.window_ms = self.gpu_plane.window_ms
        self.dispatch_ns = NS // gpu.dispatch_hz
        self.gpu_waiting: dict[int, None] = {}
        self.dispatches: list[_GpuRecord] = []
        self.gpu_util_pm = 0 if th.start_util is None else round(th.start_util[1] * 1000)
        self.gpu_demand_pm = 0
        # Thermal loop.
        config = PlantConfig(ambient_c=th.ambient_c)
        self.plant = ThermalPlant(config, None if th.start_util is None else ThermalPlant(
            config).steady_state(*th.start_util))
        self.sample_ns = NS // th.sensor_hz
        self.delay_ns = round(th.delay_ms * 1_000_000)
        self.cpu_sensor = Sensor(th.sensor_hz, th.noise_c, th.delay_ms / 1000, seed=seed)
        self.gpu_sensor = Sensor(th.sensor_hz, th.noise_c, th.delay_ms / 1000, seed=seed + 1)
        self.schedule = PriceSchedule(
            PriceController(th.target_c, period_s=self.sample_ns / NS), tick_hz=cpu.tick_hz)
        self.coupling = CouplingTable.build()
        # Bound once: the tick calls them 10,000 times a simulated second.
        self._cpu_price = self.coupling.cpu_price
        self._multiplier_at = self.schedule.multiplier_at
        self.limit_mc = round(th.limit_c * 1000)
        self.in_flight: deque[tuple[Reading, Reading]] = deque()
        start = self.plant.temperatures
        self.cpu_headroom_mc = self.limit_mc - round(start.cpu * 1000)
        self.gpu_headroom_mc = self.limit_mc - round(start.gpu * 1000)
        self.last_sample_ns = 0
        self.used_quanta = 0
        self.ticks_since = 0
        # GPU utilisation over a sensor period: each dispatch's window is busy for the
        # share it sold, integrated over time (dispatches and samples need not align).
        self.gpu_busy_pm = self.gpu_util_pm
        self.gpu_busy_acc = 0
        self.gpu_busy_since = 0
        self.thermal: list[tuple[float, ...]] = []
        """Per sample: time s, CPU/GPU/chassis true C, CPU/GPU utilisation, PID x, CPU x, GPU x."""

    # ----------------------------------------------------------------------
    # The event pattern

    def streams(self) -> list[Stream]:
        """Every event source, in the order a driver must register them."""
        end = self.end_ns
        out: list[Stream] = [
            ("sample", range(self.sample_ns, end + 1, self.sample_ns), Priority.SENSOR,
             self.on_sample, 0),
            ("reading", range(self.sample_ns + self.delay_ns, end + 1, self.sample_ns),
             Priority.SENSOR, self.on_reading, 0),
            ("dispatch", range(0, end, self.dispatch_ns), Priority.GPU, self.on_dispatch, 0),
            ("tick", range(0, end, self.tick_ns), Priority.TICK, self.on_tick, 0),
        ]
        pop = self.pop
        for slot in range(len(pop.slot_class)):
            out.append(("join", pop.joins[slot], Priority.JOIN, self.on_join, slot))
            if pop.leaves[slot]:
                out.append(("leave", pop.leaves[slot], Priority.LEAVE, self.on_leave, slot))
            if pop.jobs[slot]:
                out.append(("job", pop.jobs[slot], Priority.JOB, self.on_job, slot))
        return out

    # ----------------------------------------------------------------------
    # Agents

    def on_join(self, now: int, slot: int) -> None:
        """A new agent takes ``slot``."""
        inc = self.pop.incarnations[slot][self.join_next[slot]]
        self.join_next[slot] += 1
        self.inc[slot] = inc
        self.value[slot] = self.pop.inc_value[inc]

    def on_leave(self, now: int, slot: int) -> None:
        """The agent in ``slot`` leaves; its bid and unserved work go with it."""
        if self.backlog[slot]:
            start = perf_counter_ns()
            self.book.expire(slot)
            self.book_ns += perf_counter_ns() - start
            if self.fair:
                self.fair.leave(slot)
            self.demand.ends[self.open[slot]] = self.tick
            self.backlog[slot] = 0
        self.gpu_backlog[slot] = 0
        self.gpu_waiting.pop(slot, None)
        self.inc[slot] = -1

    def on_job(self, now: int, slot: int) -> None:
        """A job arrives for the agent in ``slot``: it bids if it was idle."""
        size = self.pop.sizes[slot][self.job_next[slot]]
        self.job_next[slot] += 1
        if not self.backlog[slot]:
            value = self.value[slot]
            start = perf_counter_ns()
            self.book.update(slot, value)
            self.book_ns += perf_counter_ns() - start
            if self.fair:
                self.fair.join(slot)
            demand = self.demand
            self.open[slot] = len(demand.starts)
            demand.starts.append(self.tick)
            demand.ends.append(1 << 62)
            demand.values.append(value)
            self.wanted[self.inc[slot]] = True
        self.backlog[slot] += size

    # ----------------------------------------------------------------------
    # The CPU plane

    def on_tick(self, now: int, _: int) -> None:
        """One CPU auction of ``cores`` quanta."""
        entered = perf_counter_ns()
        book = self.book
        tick = self.tick
        cores = self.cores
        reserve = (self._cpu_price(self._base, len(book) * 1000 // cores, self.cpu_headroom_mc,
                                   self.gpu_util_pm, self._multiplier_at(tick))
                   if self._coupled else self._base)
        start = perf_counter_ns()
        fair = self.fair
        out = (fair.tick(now, cores, reserve, self.value, self.budget, self.units) if fair
               else self._auction(book, cores, reserve))
        core_ns = perf_counter_ns() - start + self.book_ns
        winners = out.winners
        fed = 0
        if winners:
            backlog, value, inc, won = self.backlog, self.value, self.inc, self.cpu_won
            feeding, gpu_backlog = self.feeding, self.gpu_backlog
            welfare = 0
            paid = self.cpu_paid
            for w, units, pay in zip(winners, out.units, out.payments, strict=True):
                welfare += value[w] * units
                won[inc[w]] += units
                paid[inc[w]] += pay
                if feeding[w]:
                    fed += units
                    work = gpu_backlog[w] + self.gpu_us[w] * units
                    gpu_backlog[w] = work
                    if work >= 1000:
                        self.gpu_waiting[w] = None
                left = backlog[w] - units
                if left <= 0:
                    left = 0
                    start = perf_counter_ns()
                    book.expire(w)
                    core_ns += perf_counter_ns() - start
                    if fair:
                        fair.leave(w)
                    self.demand.ends[self.open[w]] = tick + 1
                backlog[w] = left
            self.cpu_welfare += welfare
            self.cpu_revenue += out.revenue
            self.winners.extend(winners)
        units_sold = sum(out.units)
        self.sold.append(units_sold)
        self.price.append(out.payments[0] // out.units[0] if winners else 0)
        self.reserve.append(reserve)
        self.feed_sold.append(fed)
        self.used_quanta += units_sold
        self.ticks_since += 1
        self.tick = tick + 1
        self.overhead_ns.append(core_ns)
        self.book_ns = 0
        self.handler_ns.append(perf_counter_ns() - entered)

    # ----------------------------------------------------------------------
    # The GPU plane

    def _want_ms(self, slot: int) -> int:
        return min(self.gpu_backlog[slot] // 1000, self.window_ms)

    def _gpu_bid(self, slot: int) -> GpuBid:
        want = self._want_ms(slot)
        per_ms = self.pop.inc_gpu_value[self.inc[slot]]
        memory = self.gpu_mem[slot]
        if not memory:
            return GpuBid.unit(slot, per_ms)
        half = (want + 1) // 2
        bundles = [(want, memory, min(per_ms * want, PRICE_MAX))]
        if half < want:
            bundles.append((half, memory, min(per_ms * half, PRICE_MAX)))
        return GpuBid(slot, tuple(bundles))

    def on_dispatch(self, now: int, _: int) -> None:
        """One GPU batch auction over the agents with GPU work."""
        waiting = list(self.gpu_waiting)
        bids = tuple(self._gpu_bid(s) for s in waiting)
        demand_pm = sum(self._want_ms(s) for s in waiting) * 1000 // self.window_ms
        per_ms = self.coupling.gpu_price(self.scenario.gpu.reserve, demand_pm,
                                         self.gpu_headroom_mc)
        result = None
        if bids and not any(self.gpu_mem[s] for s in waiting):
            # Unit bids only: the plane's array path, no bid objects in the auction.
            result = self.gpu_plane.dispatch_units(
                np.asarray(waiting, dtype=np.int64),
                np.asarray([b.bundles[0][2] for b in bids], dtype=np.int64), now / NS, per_ms)
        elif bids:
            result = self.gpu_plane.dispatch(bids, now / NS, per_ms)
        sold = welfare = revenue = 0
        if result is not None:
            gpu_value = self.pop.inc_gpu_value
            for slot, ms, pay in zip(result.winners, result.gpu_ms, result.payments,
                                     strict=True):
                inc = self.inc[slot]
                welfare += gpu_value[inc] * ms
                self.gpu_won[inc] += ms
                left = max(0, self.gpu_backlog[slot] - ms * 1000)
                self.gpu_backlog[slot] = left
                if left < 1000:
                    del self.gpu_waiting[slot]
                sold += ms
                revenue += pay
        self.dispatches.append(_GpuRecord(now, bids, per_ms, sold, revenue, welfare))
        self._gpu_busy_until(now)
        self.gpu_busy_pm = sold * 1000 // self.window_ms
        self.gpu_demand_pm = demand_pm

    def _gpu_busy_until(self, now: int) -> None:
        """Integrate the GPU's busy fraction (the current window's) up to ``now``."""
        self.gpu_busy_acc += self.gpu_busy_pm * (now - self.gpu_busy_since)
        self.gpu_busy_since = now

    # ----------------------------------------------------------------------
    # The thermal loop

    def on_sample(self, now: int, _: int) -> None:
        """Advance the plant over the last period; the sensors sample the dies."""
        cpu_util = self.used_quanta / (self.ticks_since * self.cores) if self.ticks_since else 0.0
        self._gpu_busy_until(now)
        period = now - self.last_sample_ns
        gpu_util = self.gpu_busy_acc / (1000 * period) if period else 0.0
        temps = self.plant.step((now - self.last_sample_ns) / NS, min(cpu_util, 1.0),
                                min(gpu_util, 1.0))
        t_s = now / NS
        self.in_flight.append((self.cpu_sensor.sample(t_s, temps.cpu),
                               self.gpu_sensor.sample(t_s, temps.gpu)))
        self.last_sample_ns = now
        self.gpu_util_pm = round(gpu_util * 1000)
        self.used_quanta = self.ticks_since = self.gpu_busy_acc = 0
        table = self.coupling
        cpu_x = table.cpu_multiplier(len(self.book) * 1000 // self.cores, self.cpu_headroom_mc,
                                     self.gpu_util_pm)
        gpu_x = table.gpu_multiplier(self.gpu_demand_pm, self.gpu_headroom_mc)
        self.thermal.append((t_s, temps.cpu, temps.gpu, temps.chassis, cpu_util, gpu_util,
                             self.schedule.controller.multiplier / ONE, cpu_x / ONE,
                             gpu_x / ONE))

    def on_reading(self, now: int, _: int) -> None:
        """The oldest readings in flight reach the controller and the coupling."""
        cpu, gpu = self.in_flight.popleft()
        self.schedule.refresh(cpu, self.tick)
        self.cpu_headroom_mc = self.limit_mc - cpu.milli_c
        self.gpu_headroom_mc = self.limit_mc - gpu.milli_c

    # ----------------------------------------------------------------------

    def check(self) -> None:
        """Assert the model's invariants; tests call it after every event. O(N)."""
        self.book._check()
        live = {a for a, _, _ in self.book.items()}
        assert live == {s for s, b in enumerate(self.backlog) if b > 0}, "book != backlog"
        for slot in live:
            bid = self.book.bid(slot)
            assert bid is not None and bid[0] == self.value[slot], f"slot {slot} bids wrong"
            assert self.inc[slot] >= 0, f"slot {slot} bids with nobody there"
            assert self.demand.ends[self.open[slot]] == 1 << 62, f"slot {slot} demand closed"
        waiting = {s for s, b in enumerate(self.gpu_backlog) if b >= 1000}
        assert set(self.gpu_waiting) == waiting, "GPU waiting list != GPU backlog"
        assert len(self.sold) == self.tick and all(0 <= n <= self.cores for n in self.sold[-1:])
        # Agents bid their values and no mechanism charges above a bid.
        assert 0 <= self.cpu_revenue <= self.cpu_welfare, "winners paid above their values"
