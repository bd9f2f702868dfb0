"""The discrete-event simulator: both planes, the thermal loop and the agents, event by event.

A scenario (YAML, :func:`load_scenario`) names the CPU tick market, the GPU
dispatch, the sensors and the agent population; :func:`simulate` draws the
agents and their work from the seed, drives the :class:`Model`'s handlers
with the :class:`EventLoop` (a heap of ``(time, priority, seq, event)`` in
integer nanoseconds) and measures the run: efficiency against the offline
optimum, revenue, Gini, temperatures, time above the limit and the auction's
share of each tick. ``docs/sim.md`` has the design and the measurements.

Modules: :mod:`~auctioneer.sim.loop` (the loop), :mod:`~auctioneer.sim.scenario`
(the file format), :mod:`~auctioneer.sim.distributions` and
:mod:`~auctioneer.sim.workload` (valuations, sizes, arrivals),
:mod:`~auctioneer.sim.population` (the agents, drawn ahead),
:mod:`~auctioneer.sim.model` (the handlers), :mod:`~auctioneer.sim.optimum`
(the offline optimum), :mod:`~auctioneer.sim.metrics` (the statistics),
:mod:`~auctioneer.sim.run` (a run) and :mod:`~auctioneer.sim.report` (report and plots).

Example:
    >>> from auctioneer.sim import EXAMPLE, load_scenario, simulate
    >>> result = simulate(load_scenario(EXAMPLE), seed=1)
    >>> result.metrics.ticks, result.metrics.quanta_supply
    (50, 100)
"""

from auctioneer.sim.distributions import (
    Constant,
    Distribution,
    Geometric,
    LogNormal,
    Pareto,
    Uniform,
    draw,
)
from auctioneer.sim.loop import EventLoop, Handler, Priority
from auctioneer.sim.metrics import gini, share_percentiles, time_above, trace_hash, variance
from auctioneer.sim.model import Model, make_book
from auctioneer.sim.optimum import Demand, Optimum, gpu_optimum, per_tick_optimum
from auctioneer.sim.population import Population, class_counts, draw_population
from auctioneer.sim.report import markdown, write_outputs, write_plots
from auctioneer.sim.run import Metrics, Series, SimResult, measure, simulate
from auctioneer.sim.scenario import (
    EXAMPLE,
    AgentClass,
    Agents,
    CpuPlane,
    GpuPlane,
    Scenario,
    ScenarioError,
    Thermal,
    load_scenario,
)
from auctioneer.sim.workload import Arrivals, Bursty, Diurnal, Poisson, arrivals

__all__ = [
    "EXAMPLE",
    "AgentClass",
    "Agents",
    "Arrivals",
    "Bursty",
    "Constant",
    "CpuPlane",
    "Demand",
    "Distribution",
    "Diurnal",
    "EventLoop",
    "Geometric",
    "GpuPlane",
    "Handler",
    "LogNormal",
    "Metrics",
    "Model",
    "Optimum",
    "Pareto",
    "Poisson",
    "Population",
    "Priority",
    "Scenario",
    "ScenarioError",
    "Series",
    "SimResult",
    "Thermal",
    "Uniform",
    "arrivals",
    "class_counts",
    "draw",
    "draw_population",
    "gini",
    "gpu_optimum",
    "load_scenario",
    "make_book",
    "markdown",
    "measure",
    "per_tick_optimum",
    "share_percentiles",
    "simulate",
    "time_above",
    "trace_hash",
    "variance",
    "write_outputs",
    "write_plots",
]
