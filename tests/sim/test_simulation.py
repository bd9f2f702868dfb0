"""Whole runs: deterministic for a seed, the same under SimPy, invariants after every event."""

from dataclasses import replace

import pytest

from auctioneer.sim.bench import simulate_simpy
from auctioneer.sim.loop import EventLoop, Handler
from auctioneer.sim.model import Model
from auctioneer.sim.run import simulate
from auctioneer.sim.scenario import EXAMPLE, Scenario, load_scenario
from auctioneer.tick import STRUCTURES, Mechanism

from .conftest import EXAMPLES, tiny

TINY = load_scenario(EXAMPLE)
CHURN = load_scenario(tiny(duration_s=0.2, agents={
    **EXAMPLE["agents"], "churn": {"lifetime_s": 0.05, "gap_s": 0.02}}))


def test_same_seed_same_run() -> None:
    first, second = simulate(CHURN, seed=5), simulate(CHURN, seed=5)
    a, b = first.metrics.as_dict(), second.metrics.as_dict()
    for timing in ("loop_s", "loop_cpu_s", "setup_s", "metrics_s", "speed", "events_per_s",
                   "overhead_mean", "overhead_p50", "overhead_p99", "handler_mean",
                   "handler_p50", "handler_p99"):
        a.pop(timing), b.pop(timing)
    assert a == b
    assert first.series.sold.tolist() == second.series.sold.tolist()
    assert simulate(CHURN, seed=6).metrics.trace != first.metrics.trace


def test_simpy_drives_the_same_run() -> None:
    ours, theirs = simulate(CHURN, seed=2), simulate_simpy(CHURN, seed=2)
    assert ours.metrics.trace == theirs.metrics.trace
    assert ours.metrics.events == theirs.metrics.events
    assert ours.metrics.cpu_welfare == theirs.metrics.cpu_welfare


@pytest.mark.parametrize("scenario", [TINY, CHURN], ids=["tiny", "churn"])
def test_invariants_hold_after_every_event(scenario: Scenario) -> None:
    model = Model(scenario, seed=3)
    loop = EventLoop()

    def checked(handler: Handler) -> Handler:
        def run(t: int, a: int) -> None:
            handler(t, a)
            model.check()
        return run

    for _, times, priority, handler, arg in model.streams():
        loop.stream(times, priority, checked(handler), arg)
    loop.run(model.end_ns)
    assert model.tick == model.end_ns // model.tick_ns


def test_figures_are_consistent() -> None:
    m = simulate(CHURN, seed=1).metrics
    assert m.ticks == 200 and m.quanta_supply == 400 and m.quanta_sold <= m.quanta_supply
    assert 0 < m.efficiency <= m.allocative_efficiency <= 1 + 1e-12
    assert m.cpu_welfare <= m.cpu_optimum and m.cpu_revenue <= m.cpu_welfare
    assert m.gpu_welfare <= m.gpu_optimum and m.gpu_ms_sold <= m.gpu_ms_supply
    assert 0 <= m.gini < 1 and m.agents_with_demand > 20      # churn: more agents than slots
    assert m.dispatches == 20 and m.events > m.ticks
    assert 0 < m.overhead_p50 <= m.overhead_p99
    assert 0 < m.handler_p50 <= m.handler_p99 and m.overhead_p50 <= m.handler_p50


@pytest.mark.parametrize("structure", STRUCTURES)
def test_exact_structures_allocate_optimally_among_what_they_sell(structure: str) -> None:
    scenario = replace(TINY, cpu=replace(TINY.cpu, structure=structure))
    m = simulate(scenario, seed=4).metrics
    if structure in ("LazyHeap", "TournamentTree", "IndexedHeap", "SampledTopK"):
        # 20 agents, 64 samples: the sampled book ranks everyone, so it is exact too.
        assert m.allocative_efficiency == 1.0
    else:
        assert 0.9 < m.allocative_efficiency <= 1.0          # tiers are FIFO inside


@pytest.mark.parametrize("mechanism", list(Mechanism))
def test_every_mechanism_runs(mechanism: Mechanism) -> None:
    scenario = replace(TINY, cpu=replace(TINY.cpu, mechanism=mechanism))
    m = simulate(scenario, seed=4).metrics
    assert m.quanta_sold > 0 and m.cpu_revenue <= m.cpu_welfare


def test_when_the_gpu_gets_hot_the_cpu_price_rises_and_feeders_win_more() -> None:
    # gpu-hot's first 20 s: a GPU job starts at t = 0 on a machine whose GPU was at 10 %.
    hot = load_scenario(next(p for p in EXAMPLES if p.stem == "gpu-hot"))
    result = simulate(replace(hot, duration_s=20))
    s, base = result.series, hot.cpu.reserve
    th = s.thermal
    assert th[:10, 5].mean() < 0.5 < 0.9 < th[-500:, 5].mean()       # the GPU fills up
    assert th[-1, 3] > th[0, 3] and th[-1, 1] > th[0, 1]           # chassis and CPU warm up
    early, late = slice(0, 200), slice(-5000, None)                  # first 0.2 s, last 5 s
    multiple = s.reserve / base
    assert multiple[late].mean() > 2 * multiple[early].mean() and multiple[late].mean() > 3
    share = [int(s.feed_sold[part].sum()) / int(s.sold[part].sum()) for part in (early, late)]
    assert share[1] > share[0] + 0.1
    feeders = next(c.share for c in hot.agents.classes if c.gpu_feeding)
    assert share[1] > 1.5 * feeders                        # feeders win beyond their numbers
    # The GPU price stays in its band: at most 2x the base, whatever the temperatures.
    assert s.gpu_reserve.max() <= 2 * hot.gpu.reserve and th[:, 8].max() <= 2.0


def test_gpu_utilisation_is_time_weighted_across_unaligned_dispatches() -> None:
    # 50 Hz dispatches, 100 Hz samples: every other sensor period holds no dispatch,
    # yet the GPU is busy through it (the window sold at the last dispatch).
    scenario = load_scenario(tiny(duration_s=0.2, gpu={"dispatch_hz": 50},
                                  thermal={"sensor_hz": 100}))
    gpu_util = simulate(scenario).series.thermal[:, 5]
    # The first window (t = 0) sells nothing: no feeder has won CPU work yet.
    assert gpu_util.size == 20 and gpu_util[:2].tolist() == [0.0, 0.0]
    assert gpu_util[2:].max() > 0
    assert (gpu_util[0::2] == gpu_util[1::2]).all()       # one window spans two samples


def test_a_die_past_its_target_closes_the_loop_through_the_pid() -> None:
    # thermal-closed in a 45 C room: the die starts near its target, so 10 s show the PID act.
    closed = load_scenario(next(p for p in EXAMPLES if p.stem == "thermal-closed"))
    scenario = replace(closed, duration_s=10, thermal=replace(closed.thermal, ambient_c=45))
    m = simulate(scenario).metrics
    assert m.target_reached_s is not None and m.pid_max > 1.2       # the feedback acts
    assert m.multiplier_min >= 1.0 and m.multiplier_max == 8.0 and 0 < m.cap_share < 1
    assert 0 < m.overshoot_c < 5 and m.settling_s is not None
    feeders = next(c.share for c in closed.agents.classes if c.gpu_feeding)
    assert m.gpu_full_ticks > 0 and m.feeder_share_gpu_full is not None
    assert 2 * feeders < m.feeder_share_gpu_full < 1      # most, not all: see the design doc


def test_a_die_below_its_target_leaves_the_pid_at_one() -> None:
    m = simulate(TINY, seed=1).metrics
    assert m.target_reached_s is None and m.settling_s is None and m.pid_max == 1.0
    assert m.overshoot_c == 0.0
