"""Scenario files: YAML in, a frozen :class:`Scenario` out, errors naming the field.

A scenario says how long to simulate, the two planes, the thermal loop and
the agent population (``docs/sim.md`` documents every field; the files in
``examples/sim/`` are annotated). pydantic validates strictly at this
boundary (:mod:`auctioneer.jsonfile`'s rules: unknown fields refused, no
coercion of ``"3"`` to 3, money by the rule of :mod:`auctioneer.money`); the simulator only
ever sees the dataclasses below.

Any problem raises :class:`ScenarioError`, one line naming the file, the
field's path (``agents.classes[1] 'batch' arrivals.rate_hz``) and the value.
YAML syntax errors and duplicate keys are refused with their line.

Example:
    >>> s = load_scenario(EXAMPLE)
    >>> s.cpu.tick_hz, s.agents.count, [c.name for c in s.agents.classes]
    (1000, 20, ['feeder', 'background'])
    >>> load_scenario({**EXAMPLE, "cpu": {"tick_hz": 50}})
    Traceback (most recent call last):
      ...
    auctioneer.sim.scenario.ScenarioError: cpu.tick_hz: 50 must be >= 1000
"""

from __future__ import annotations

import os
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import AfterValidator, Field

from auctioneer.jsonfile import FileError, Money, Name, Strict, read_text, validate
from auctioneer.money import parse_money
from auctioneer.sim import distributions
from auctioneer.sim.distributions import Distribution
from auctioneer.sim.fairshare import FairSharePolicy
from auctioneer.sim.workload import Arrivals, Bursty, Diurnal, Poisson
from auctioneer.tick import Mechanism
from auctioneer.tick.limits import PRICE_MAX

__all__ = [
    "EXAMPLE",
    "AgentClass",
    "Agents",
    "CpuPlane",
    "GpuPlane",
    "Scenario",
    "ScenarioError",
    "Thermal",
    "load_scenario",
]


class ScenarioError(FileError):
    """A scenario file that cannot be simulated: one line naming the field and value."""


# --------------------------------------------------------------------------
# What the simulator sees


@dataclass(frozen=True, slots=True)
class CpuPlane:
    """The tick market: ``cores`` unit quanta sold per tick at ``tick_hz``."""

    tick_hz: int
    cores: int
    structure: str
    mechanism: Mechanism
    reserve: int
    """Micro-units per quantum at multiplier 1.0x; the thermal loop scales it."""
    policy: str = "auction"
    """``auction``: each tick's quanta go to the mechanism's winners; ``fair-share``: the
    kernel scheduler's fair queueing with money as the weight (:mod:`auctioneer.sim.fairshare`)."""
    fair_share: FairSharePolicy = FairSharePolicy()
    coupled: bool = True
    """Whether the reserve follows the thermal coupling; False: always ``reserve``."""


@dataclass(frozen=True, slots=True)
class GpuPlane:
    """The GPU plane: one GPU's window of ``1000 / dispatch_hz`` ms sold at each dispatch."""

    dispatch_hz: int
    memory_gib: int
    reserve: int
    """Micro-units per GPU millisecond at 1.0x."""


@dataclass(frozen=True, slots=True)
class Thermal:
    """Sensors, the controller's target and the limit the report measures against."""

    sensor_hz: int
    noise_c: float
    delay_ms: float
    target_c: float
    limit_c: float
    ambient_c: float
    start_util: tuple[float, float] | None
    """``(cpu, gpu)`` utilisation whose steady state the run starts at; None: ambient."""


@dataclass(frozen=True, slots=True)
class AgentClass:
    """A kind of agent: its share of the population, valuations and workload."""

    name: str
    share: float
    gpu_feeding: bool
    value: Distribution
    """Micro-units per CPU quantum (the agent bids it: Vickrey makes that its best bid)."""
    arrivals: Arrivals
    quanta: Distribution
    """CPU quanta per job."""
    gpu_us_per_quantum: int
    """GPU microseconds of work each CPU quantum won produces (feeders only)."""
    gpu_value: Distribution
    """Micro-units per GPU millisecond."""
    gpu_memory_gib: int
    budget: int = 0
    """Fair-share only: micro-units each agent may pay per budget window; 0: no limit."""
    units: int = 1
    """Fair-share only: the slice an agent asks for, in quanta."""


@dataclass(frozen=True, slots=True)
class Agents:
    """``count`` agent slots; with churn each slot's agents come and go."""

    count: int
    classes: tuple[AgentClass, ...]
    lifetime_s: float | None
    """Mean time an agent stays (exponential); None: everyone stays the whole run."""
    gap_s: float
    """Mean time a slot stays empty between two agents."""


@dataclass(frozen=True, slots=True)
class Scenario:
    """One simulation: planes, thermal loop, agents, how long and the default seed."""

    name: str
    description: str
    duration_s: float
    seed: int
    cpu: CpuPlane
    gpu: GpuPlane
    thermal: Thermal
    agents: Agents

    @property
    def duration_ns(self) -> int:
        """The simulated host time, nanoseconds."""
        return round(self.duration_s * 1_000_000_000)


# --------------------------------------------------------------------------
# The file format (pydantic, the boundary only)

def _bounded_money(text: str | int, high: int, why: str) -> int:
    value = parse_money(text)
    if not 0 <= value <= high:
        raise ValueError(f"{text!r} is out of range 0..{high / 1e6:.6f} ({why})")
    return value


def _money(text: str | int) -> int:
    return _bounded_money(text, PRICE_MAX, "the tick core's 32-bit prices")


def _budget(text: str | int) -> int:
    return _bounded_money(text, 2**63 - 1, "a budget is a signed 64-bit count of micro-units")


def _unchanged_if(check: Callable[[str | int], int]) -> Callable[[str | int], str | int]:
    """A validator that keeps the text (parsed later) once ``check`` accepts it."""
    def validate(text: str | int) -> str | int:
        check(text)
        return text
    return validate


Price = Annotated[Money, AfterValidator(_unchanged_if(_money))]
Budget = Annotated[Money, AfterValidator(_unchanged_if(_budget))]
Share = Annotated[float, Field(ge=0, le=1)]
Positive = Annotated[float, Field(gt=0)]


class _MoneyConstant(Strict):
    dist: Literal["constant"]
    value: Price


class _MoneyUniform(Strict):
    dist: Literal["uniform"]
    low: Price
    high: Price


class _MoneyLogNormal(Strict):
    dist: Literal["lognormal"]
    median: Price
    sigma: Annotated[float, Field(ge=0, le=10)]


class _MoneyPareto(Strict):
    dist: Literal["pareto"]
    scale: Price
    alpha: Annotated[float, Field(gt=0, le=100)]


_MoneyDist = Annotated[_MoneyConstant | _MoneyUniform | _MoneyLogNormal | _MoneyPareto,
                       Field(discriminator="dist")]


class _CountConstant(Strict):
    dist: Literal["constant"]
    value: Annotated[int, Field(ge=1, le=1_000_000)]


class _CountUniform(Strict):
    dist: Literal["uniform"]
    low: Annotated[int, Field(ge=1, le=1_000_000)]
    high: Annotated[int, Field(ge=1, le=1_000_000)]


class _CountGeometric(Strict):
    dist: Literal["geometric"]
    mean: Annotated[float, Field(ge=1, le=1_000_000)]


_CountDist = Annotated[_CountConstant | _CountUniform | _CountGeometric,
                       Field(discriminator="dist")]

Rate = Annotated[float, Field(ge=0, le=100_000)]


class _Poisson(Strict):
    process: Literal["poisson"]
    rate_hz: Rate


class _Bursty(Strict):
    process: Literal["bursty"]
    rate_hz: Rate
    on_s: Positive
    off_s: Positive


class _Diurnal(Strict):
    process: Literal["diurnal"]
    rate_hz: Rate
    amplitude: Share
    period_s: Positive
    phase: float = 0.0


_Arrivals = Annotated[_Poisson | _Bursty | _Diurnal, Field(discriminator="process")]


class _Gpu(Strict):
    us_per_quantum: Annotated[int, Field(ge=0, le=1_000_000)] = 100
    memory_gib: Annotated[int, Field(ge=0, le=1024)] = 1
    value_per_ms: _MoneyDist


class _Class(Strict):
    name: Name
    share: Share
    gpu_feeding: bool = False
    value: _MoneyDist
    arrivals: _Arrivals
    quanta: _CountDist
    gpu: _Gpu | None = None
    budget: Budget | None = None
    units: Annotated[int, Field(ge=1, le=1024)] = 1


class _Churn(Strict):
    lifetime_s: Positive
    gap_s: Annotated[float, Field(ge=0)] = 0.0


class _Agents(Strict):
    count: Annotated[int, Field(ge=1, le=100_000)]
    churn: _Churn | None = None
    classes: Annotated[list[_Class], Field(min_length=1)]


class _FairShare(Strict):
    free_weight: Annotated[int, Field(ge=1, le=2**32 - 1)] = 10_000
    max_bid: Price = 310_000
    max_units: Annotated[int, Field(ge=1, le=1024)] = 16
    bank_ms: Annotated[float, Field(ge=0, le=60_000)] = 16.0
    lag_ms: Annotated[float, Field(ge=0, le=60_000)] = 1.0
    window_s: Annotated[float, Field(gt=0, le=3600)] = 1.0


class _Cpu(Strict):
    tick_hz: Annotated[int, Field(ge=1000, le=10_000)] = 10_000
    cores: Annotated[int, Field(ge=1, le=1024)] = 8
    structure: Literal["TierBook", "LazyHeap", "TournamentTree", "SampledTopK",
                       "IndexedHeap"] = "TierBook"
    mechanism: Literal["first-price", "second-price", "gsp", "posted",
                       "proportional"] = "second-price"
    reserve: Price = "0.0001"
    policy: Literal["auction", "fair-share"] = "auction"
    fair_share: _FairShare = _FairShare()
    coupled: bool = True


class _GpuPlane(Strict):
    dispatch_hz: Annotated[int, Field(ge=10, le=100)] = 100
    memory_gib: Annotated[int, Field(ge=1, le=100_000)] = 80
    reserve: Price = "0.001"


class _Start(Strict):
    cpu_util: Share
    gpu_util: Share


class _Thermal(Strict):
    sensor_hz: Annotated[int, Field(ge=10, le=100)] = 100
    noise_c: Annotated[float, Field(ge=0, le=10)] = 0.2
    delay_ms: Annotated[float, Field(ge=0, le=100)] = 2.0
    target_c: Annotated[float, Field(ge=0, le=150)] = 85.0
    limit_c: Annotated[float, Field(ge=0, le=150)] = 90.0
    ambient_c: Annotated[float, Field(ge=-40, le=60)] = 25.0
    start: _Start | None = None


class _Scenario(Strict):
    name: Name
    description: str = ""
    duration_s: Annotated[float, Field(gt=0, le=3600)]
    seed: Annotated[int, Field(ge=0, le=2**64 - 1)] = 0
    cpu: _Cpu = _Cpu()
    gpu: _GpuPlane = _GpuPlane()
    thermal: _Thermal = _Thermal()
    agents: _Agents


EXAMPLE: dict[str, Any] = {
    "name": "tiny",
    "duration_s": 0.05,
    "cpu": {"tick_hz": 1000, "cores": 2},
    "agents": {"count": 20, "classes": [
        {"name": "feeder", "share": 0.25, "gpu_feeding": True,
         "value": {"dist": "lognormal", "median": "0.002", "sigma": 0.5},
         "arrivals": {"process": "poisson", "rate_hz": 40},
         "quanta": {"dist": "geometric", "mean": 4},
         "gpu": {"us_per_quantum": 2000, "memory_gib": 4,
                 "value_per_ms": {"dist": "uniform", "low": "0.001", "high": "0.003"}}},
        {"name": "background", "share": 0.75,
         "value": {"dist": "pareto", "scale": "0.0001", "alpha": 2.0},
         "arrivals": {"process": "bursty", "rate_hz": 60, "on_s": 0.02, "off_s": 0.02},
         "quanta": {"dist": "constant", "value": 3}}]},
}
"""A tiny valid scenario as parsed YAML (documentation and tests)."""


# --------------------------------------------------------------------------
# Loading


class _UniqueKeyLoader(yaml.SafeLoader):
    """PyYAML's safe loader, refusing a key given twice in one mapping."""


def _unique_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)
        if not isinstance(key, Hashable):
            mark = key_node.start_mark
            raise ScenarioError(f"line {mark.line + 1} column {mark.column + 1}",
                                f"a {type(key).__name__} cannot be a key")
        if key in seen:
            mark = key_node.start_mark
            raise ScenarioError(f"line {mark.line + 1} column {mark.column + 1}",
                                f"key {key!r} appears twice in one mapping")
        seen.add(key)
    return loader.construct_mapping(node)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _unique_mapping)


def _parse_yaml(text: str, source: str | None) -> Any:
    try:
        return yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 - a SafeLoader subclass
    except ScenarioError as exc:
        raise ScenarioError(exc.where, exc.detail, source) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"line {mark.line + 1} column {mark.column + 1}" if mark else ""
        raise ScenarioError(where, f"malformed YAML: {exc.problem}", source) from None
    except yaml.reader.ReaderError as exc:
        raise ScenarioError(f"character {exc.position}", f"malformed YAML: {exc.reason} "
                            f"(#x{exc.character:04x})", source) from None
    except RecursionError:
        raise ScenarioError("", "malformed YAML: nested too deeply", source) from None


def _label(node: object) -> str | None:
    return node.get("name") if isinstance(node, Mapping) else None


def _policy(model: _FairShare) -> FairSharePolicy:
    ms = 1_000_000
    return FairSharePolicy(model.free_weight, _money(model.max_bid), model.max_units,
                           round(model.bank_ms * ms), round(model.lag_ms * ms),
                           round(model.window_s * 1000 * ms))


def _money_dist(model: _MoneyDist) -> Distribution:
    if isinstance(model, _MoneyConstant):
        return distributions.Constant(_money(model.value))
    if isinstance(model, _MoneyUniform):
        return distributions.Uniform(_money(model.low), _money(model.high))
    if isinstance(model, _MoneyLogNormal):
        return distributions.LogNormal(_money(model.median), model.sigma)
    return distributions.Pareto(_money(model.scale), model.alpha)


def _count_dist(model: _CountDist) -> Distribution:
    if isinstance(model, _CountConstant):
        return distributions.Constant(model.value)
    if isinstance(model, _CountUniform):
        return distributions.Uniform(model.low, model.high)
    return distributions.Geometric(model.mean)


def _arrivals(model: _Arrivals) -> Arrivals:
    if isinstance(model, _Poisson):
        return Poisson(model.rate_hz)
    if isinstance(model, _Bursty):
        return Bursty(model.rate_hz, model.on_s, model.off_s)
    return Diurnal(model.rate_hz, model.amplitude, model.period_s, model.phase)


def _semantic_checks(model: _Scenario) -> list[tuple[str, str]]:
    """Cross-field problems pydantic cannot see: ``(where, detail)``, first one reported."""
    problems: list[tuple[str, str]] = []
    for i, c in enumerate(model.agents.classes):
        where = f"agents.classes[{i}] {c.name!r}"
        for field, dist in (("value", c.value), *(
                (("gpu.value_per_ms", c.gpu.value_per_ms),) if c.gpu else ())):
            if isinstance(dist, _MoneyUniform) and _money(dist.low) > _money(dist.high):
                problems.append((f"{where} {field}.high",
                                 f"{dist.high!r} is below low {dist.low!r}"))
        if isinstance(c.quanta, _CountUniform) and c.quanta.low > c.quanta.high:
            problems.append((f"{where} quanta.high",
                             f"{c.quanta.high} is below low {c.quanta.low}"))
        if c.gpu_feeding and c.gpu is None:
            problems.append((f"{where} gpu", "is required when gpu_feeding is true"))
        if model.cpu.policy != "fair-share":
            for field, given in (("budget", c.budget is not None), ("units", c.units != 1)):
                if given:
                    problems.append((f"{where} {field}", "needs cpu.policy fair-share"))
    total = sum(c.share for c in model.agents.classes)
    if abs(total - 1.0) > 1e-9:
        problems.append(("agents.classes", f"shares add up to {total:g}, not 1"))
    names = [c.name for c in model.agents.classes]
    if len(set(names)) != len(names):
        problems.append(("agents.classes", f"class names repeat: {names}"))
    if model.thermal.delay_ms * model.thermal.sensor_hz > 1000:
        problems.append(("thermal.delay_ms", f"{model.thermal.delay_ms:g} is longer than one "
                         f"sensor period ({1000 / model.thermal.sensor_hz:g} ms)"))
    return problems


def _build(model: _Scenario) -> Scenario:
    classes = tuple(
        AgentClass(
            name=c.name, share=c.share, gpu_feeding=c.gpu_feeding, value=_money_dist(c.value),
            arrivals=_arrivals(c.arrivals), quanta=_count_dist(c.quanta),
            gpu_us_per_quantum=c.gpu.us_per_quantum if c.gpu and c.gpu_feeding else 0,
            gpu_value=_money_dist(c.gpu.value_per_ms) if c.gpu else distributions.Constant(0),
            gpu_memory_gib=c.gpu.memory_gib if c.gpu else 0,
            budget=0 if c.budget is None else _budget(c.budget), units=c.units)
        for c in model.agents.classes)
    churn = model.agents.churn
    cpu, gpu, th = model.cpu, model.gpu, model.thermal
    return Scenario(
        name=model.name, description=model.description, duration_s=model.duration_s,
        seed=model.seed,
        cpu=CpuPlane(cpu.tick_hz, cpu.cores, cpu.structure, Mechanism(cpu.mechanism),
                     _money(cpu.reserve), cpu.policy, _policy(cpu.fair_share), cpu.coupled),
        gpu=GpuPlane(gpu.dispatch_hz, gpu.memory_gib, _money(gpu.reserve)),
        thermal=Thermal(th.sensor_hz, th.noise_c, th.delay_ms, th.target_c, th.limit_c,
                        th.ambient_c,
                        (th.start.cpu_util, th.start.gpu_util) if th.start else None),
        agents=Agents(model.agents.count, classes, churn.lifetime_s if churn else None,
                      churn.gap_s if churn else 0.0),
    )


def load_scenario(source: str | os.PathLike[str] | Mapping[str, Any]) -> Scenario:
    """A scenario from a YAML file's path, YAML text (a ``str`` with a newline) or parsed data.

    Raises :class:`ScenarioError` naming the file, field and value.
    """
    name: str | None = None
    if isinstance(source, Mapping):
        data: Any = source
    elif isinstance(source, str) and "\n" in source:
        data = _parse_yaml(source, None)
    else:
        path = Path(source)
        name = str(path)
        text = read_text(path, ScenarioError)
        data = _parse_yaml(text, name)
    if data is None:
        raise ScenarioError("(top level)", "the scenario is empty: write a mapping of its "
                            "fields (docs/sim.md)", name)
    if not isinstance(data, Mapping):
        raise ScenarioError("(top level)", f"{str(data)[:40]!r} is a {type(data).__name__}, "
                            "not a mapping of the scenario's fields", name)
    model = validate(_Scenario, data, name, ScenarioError, _label)
    problems = _semantic_checks(model)
    if problems:
        where, detail = problems[0]
        raise ScenarioError(where, detail, name)
    return _build(model)
