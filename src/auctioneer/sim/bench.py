"""The simulator benchmark: our event loop against SimPy on the same event pattern.

The target (issue 5): 10 s of host time with a 10 kHz tick and N = 1000
agents simulated in at most 10 s of wall time, i.e. faster than real time.
The workload is ``examples/sim/steady.yaml`` (that size; ``--scenario``
picks another file). Each engine runs it twice:

* **model** -- the whole simulation: the same :class:`~auctioneer.sim.model.Model`
  handlers (native tick auctions, GPU dispatches, plant, sensors,
  schedule, agents) driven by :class:`~auctioneer.sim.loop.EventLoop` or by
  SimPy processes (one per stream, events scheduled at the loop's
  priorities, so SimPy pops them in the same order). Wall time = drawing
  the agents + the loop + the offline metrics. Both must produce the same
  trace hash: a differential check of the loop against SimPy.
* **pattern** -- the same streams with handlers that do nothing: what the
  scheduler itself costs per event.

Each figure is the median over ``repeats`` runs, the engines alternating
run by run; process CPU time is reported beside wall time, since on a
shared machine wall time also counts other people's work. Baseline: SimPy
(``simpy`` 4, the standard Python discrete-event library).

Example:
    >>> from auctioneer.sim.scenario import EXAMPLE, load_scenario
    >>> result = run_sim_bench(SimBenchConfig(load_scenario(EXAMPLE), repeats=1))
    >>> [(r.engine, r.workload) for r in result.rows][:2]
    [('EventLoop', 'model'), ('SimPy', 'model')]
    >>> result.same_trace
    True
"""

from __future__ import annotations

import time
from collections.abc import Callable, Generator, Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from statistics import median
from typing import Any

from auctioneer.checks import require_int
from auctioneer.measure.target import Target
from auctioneer.measure.timing import Environment, environment, gc_paused
from auctioneer.sim.loop import EventLoop, Handler
from auctioneer.sim.model import Model
from auctioneer.sim.run import SimResult, measure, simulate
from auctioneer.sim.scenario import Scenario, load_scenario

__all__ = [
    "DEFAULT_SCENARIO",
    "TARGET_AGENTS",
    "TARGET_HZ",
    "TARGET_SIM_S",
    "Row",
    "SimBenchConfig",
    "SimBenchResult",
    "evaluate_targets",
    "run_sim_bench",
    "simulate_simpy",
]

DEFAULT_SCENARIO = Path(__file__).resolve().parents[3] / "examples" / "sim" / "steady.yaml"
"""The workload the target is stated for (10 s, 10 kHz, 1000 agents)."""
TARGET_SIM_S, TARGET_HZ, TARGET_AGENTS = 10.0, 10_000, 1000

Step = Callable[[str], None]


def _simpy_at(env: Any, delay: int, priority: int) -> Any:
    """A SimPy event that fires ``delay`` from now at ``priority`` (Timeout, any priority)."""
    import simpy

    event = simpy.Event(env)
    event._ok = True
    event._value = None
    env.schedule(event, priority, delay)
    return event


def _simpy_run(streams: Iterable[tuple[Iterable[int], int, Handler, int]], end: int) -> int:
    """Drive ``streams`` with SimPy up to ``end`` ns inclusive; return the events run."""
    import simpy

    env = simpy.Environment()
    count = 0

    def process(times: Iterable[int], priority: int, handler: Handler,
                arg: int) -> Generator[Any, Any, None]:
        nonlocal count
        for t in times:
            if t > end:
                return
            yield _simpy_at(env, t - int(env.now), priority)
            handler(t, arg)
            count += 1

    for times, priority, handler, arg in streams:
        env.process(process(times, priority, handler, arg))
    env.run(until=end + 1)
    return count


def simulate_simpy(scenario: Scenario, seed: int | None = None) -> SimResult:
    """:func:`~auctioneer.sim.run.simulate` with SimPy as the event loop (the baseline)."""
    seed = scenario.seed if seed is None else seed
    start = time.perf_counter()
    model = Model(scenario, seed)
    streams = [(times, prio, handler, arg) for _, times, prio, handler, arg in model.streams()]
    setup_s = time.perf_counter() - start
    with gc_paused():     # as in simulate: the engines are compared on equal terms
        start, cpu = time.perf_counter(), time.process_time()
        events = _simpy_run(streams, model.end_ns)
    return measure(model, time.perf_counter() - start, time.process_time() - cpu, setup_s,
                   events)


def _nothing(time_ns: int, arg: int) -> None:
    """A handler that does nothing: the pattern workload."""


def _pattern(scenario: Scenario, seed: int, engine: str) -> tuple[float, float, int]:
    """The model's streams with no-op handlers: ``(loop wall s, loop CPU s, events)``."""
    model = Model(scenario, seed)
    streams = [(times, prio, _nothing, arg) for _, times, prio, _, arg in model.streams()]
    with gc_paused():
        start, cpu = time.perf_counter(), time.process_time()
        if engine == "SimPy":
            events = _simpy_run(streams, model.end_ns)
        else:
            loop = EventLoop()
            for times, prio, handler, arg in streams:
                loop.stream(times, prio, handler, arg)
            events = loop.run(model.end_ns)
    return time.perf_counter() - start, time.process_time() - cpu, events


@dataclass(frozen=True, slots=True)
class SimBenchConfig:
    """What to run: a scenario, repeats per engine and workload, the seed (None: its own)."""

    scenario: Scenario
    repeats: int = 3
    seed: int | None = None

    def __post_init__(self) -> None:
        require_int(self.repeats, "repeats", 1, 1000)

    @classmethod
    def build(cls, scenario: Path | None = None, repeats: int | None = None,
              seed: int | None = None, quick: bool = False) -> SimBenchConfig:
        """Defaults: the steady scenario, 3 repeats; ``quick``: its first second, once."""
        loaded = load_scenario(scenario or DEFAULT_SCENARIO)
        if quick:
            from dataclasses import replace

            loaded = replace(loaded, duration_s=min(loaded.duration_s, 1.0))
        return cls(loaded, repeats if repeats is not None else (1 if quick else 3), seed)

    @property
    def steps(self) -> int:
        """Progress steps: two engines x two workloads x repeats."""
        return 4 * self.repeats


@dataclass(frozen=True, slots=True)
class Row:
    """One engine on one workload: medians over the repeats."""

    engine: str
    workload: str
    wall_s: float
    cpu_s: float
    """Process CPU time: what the run cost, whatever else the machine was doing."""
    loop_s: float
    loop_cpu_s: float
    events: int
    trace: str | None

    @property
    def events_per_s(self) -> float:
        """Events per CPU second of the loop."""
        return self.events / self.loop_cpu_s if self.loop_cpu_s else 0.0


@dataclass(frozen=True, slots=True)
class SimBenchResult:
    """Both engines on both workloads, the targets and the environment."""

    config: SimBenchConfig
    rows: tuple[Row, ...]
    targets: tuple[Target, ...]
    environment: Environment
    elapsed_s: float

    def row(self, engine: str, workload: str) -> Row:
        """The row of ``engine`` on ``workload``."""
        return next(r for r in self.rows if r.engine == engine and r.workload == workload)

    @property
    def same_trace(self) -> bool:
        """Did both engines produce the same run?"""
        return self.row("EventLoop", "model").trace == self.row("SimPy", "model").trace

    def ratio(self, workload: str) -> float:
        """SimPy's loop CPU time over ours on ``workload`` (> 1: we are faster).

        The loop alone (drawing the agents and the offline metrics are the
        same code under both engines), in process CPU time (steadier than
        wall time on a shared machine).
        """
        ours = self.row("EventLoop", workload)
        theirs = self.row("SimPy", workload)
        return theirs.loop_cpu_s / ours.loop_cpu_s if ours.loop_cpu_s else 0.0

    def to_dict(self) -> dict[str, Any]:
        """Every row, ratio and target, with the environment, as JSON-ready builtins."""
        sc = self.config.scenario
        return {
            "benchmark": "sim",
            "environment": asdict(self.environment),
            "scenario": {"name": sc.name, "duration_s": sc.duration_s, "tick_hz": sc.cpu.tick_hz,
                         "agents": sc.agents.count, "repeats": self.config.repeats},
            "rows": [{**asdict(r), "events_per_s": r.events_per_s} for r in self.rows],
            "ratio_model": self.ratio("model"),
            "ratio_pattern": self.ratio("pattern"),
            "same_trace": self.same_trace,
            "targets": [asdict(t) for t in self.targets],
            "elapsed_s": self.elapsed_s,
        }


def evaluate_targets(config: SimBenchConfig, rows: tuple[Row, ...]) -> tuple[Target, ...]:
    """PASS/MISS: the scenario's host time simulated in no more wall time (10 s at 10 kHz,
    N = 1000 for the target; SKIP when the scenario is smaller)."""
    sc = config.scenario
    ours = next(r for r in rows if r.engine == "EventLoop" and r.workload == "model")
    size = (f"{sc.duration_s:g} s at {sc.cpu.tick_hz:,} Hz, N = {sc.agents.count:,}")
    full = (sc.duration_s >= TARGET_SIM_S and sc.cpu.tick_hz >= TARGET_HZ
            and sc.agents.count >= TARGET_AGENTS)
    detail = f"{size} in {ours.wall_s:.2f} s wall ({sc.duration_s / ours.wall_s:.1f}x real time)"
    passed = ours.wall_s <= sc.duration_s if full else None
    return (Target("10 s of host time at 10 kHz, N = 1000, in <= 10 s wall", passed,
                   detail if full else f"not measured at the target size: {detail}"),)


_Run = tuple[float, float, float, float, int, str | None]


def _once(config: SimBenchConfig, seed: int, engine: str, workload: str) -> _Run:
    """One run: ``(wall s, CPU s, loop wall s, loop CPU s, events, trace)``."""
    with gc_paused():
        wall, cpu = time.perf_counter(), time.process_time()
        if workload == "model":
            run = (simulate if engine == "EventLoop" else simulate_simpy)(config.scenario, seed)
            m = run.metrics
            loop_s, loop_cpu_s, events, trace = m.loop_s, m.loop_cpu_s, m.events, m.trace
        else:
            loop_s, loop_cpu_s, events = _pattern(config.scenario, seed, engine)
            trace = None
        return (time.perf_counter() - wall, time.process_time() - cpu, loop_s, loop_cpu_s,
                events, trace)


def _row(engine: str, workload: str, runs: list[_Run]) -> Row:
    """Medians of the timings; the events and trace of the last run (they never differ)."""
    return Row(engine, workload, median(r[0] for r in runs), median(r[1] for r in runs),
               median(r[2] for r in runs), median(r[3] for r in runs), runs[-1][4], runs[-1][5])


def run_sim_bench(config: SimBenchConfig, step: Step | None = None) -> SimBenchResult:
    """Run both engines on both workloads ``repeats`` times; medians per row.

    The engines alternate run by run, so a burst of load from elsewhere on
    the machine hits both alike rather than one engine's whole series.
    """
    started = time.perf_counter()
    seed = config.scenario.seed if config.seed is None else config.seed
    cells = [(w, e) for w in ("model", "pattern") for e in ("EventLoop", "SimPy")]
    runs: dict[tuple[str, str], list[_Run]] = {cell: [] for cell in cells}
    for i in range(config.repeats):
        for workload, engine in cells:
            if step is not None:
                step(f"{engine} {workload} run {i + 1}/{config.repeats}")
            runs[workload, engine].append(_once(config, seed, engine, workload))
    rows = tuple(_row(engine, workload, runs[workload, engine]) for workload, engine in cells)
    return SimBenchResult(config, rows, evaluate_targets(config, rows), environment(),
                          time.perf_counter() - started)

