"""The thermal plant: a lumped RC network of CPU die, GPU die and chassis.

Each node is a heat capacity (J/K) with a conductance to ambient (W/K);
the dies also conduct into the chassis, which is how the GPU's heat reaches
the CPU. Utilisation makes heat, ``power = idle_w + util * (max_w - idle_w)``.
Floats are fine here: this is a model of the world, not money.

Integration is forward Euler on sub-steps short enough to be stable and
accurate (a quarter of the fastest node's ``C / sum(G)``); every joule that
leaves one node enters another or the ambient in the same sub-step, so the
energy ledger balances to rounding: ``stored - stored_0 == heat_in - to_ambient``.

Example:
    >>> plant = ThermalPlant()
    >>> hot = plant.steady_state(cpu_util=1.0, gpu_util=1.0)
    >>> round(hot.chassis, 1), round(hot.cpu, 1), round(hot.gpu, 1)
    (58.3, 108.3, 93.3)
    >>> _ = plant.step(1.0, cpu_util=1.0, gpu_util=1.0)
    >>> e = plant.energy
    >>> abs(e.stored_j - e.heat_in_j + e.to_ambient_j) < 1e-6
    True
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from auctioneer.checks import require_number

__all__ = ["EnergyLedger", "Node", "PlantConfig", "Power", "Temperatures", "ThermalPlant"]


def _positive(value: object, field_name: str, *, zero_ok: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{field_name} must be a number, got {value!r}")
    bad = value < 0 if zero_ok else value <= 0
    if bad or not math.isfinite(value):
        bound = ">= 0" if zero_ok else "> 0"
        raise ValueError(f"{field_name} {value!r} must be finite and {bound}")
    return float(value)


@dataclass(frozen=True, slots=True)
class Node:
    """A lumped thermal mass: ``heat_capacity`` J/K, ``conductance`` W/K to ambient."""

    name: str
    heat_capacity: float
    conductance: float = 0.0

    def __post_init__(self) -> None:
        _positive(self.heat_capacity, f"{self.name}.heat_capacity")
        _positive(self.conductance, f"{self.name}.conductance", zero_ok=True)


@dataclass(frozen=True, slots=True)
class Power:
    """Heat from utilisation: ``idle_w`` at 0, ``max_w`` at 1, linear between."""

    idle_w: float
    max_w: float

    def __post_init__(self) -> None:
        _positive(self.idle_w, "idle_w", zero_ok=True)
        _positive(self.max_w, "max_w", zero_ok=True)
        if self.max_w < self.idle_w:
            raise ValueError(f"max_w {self.max_w!r} is below idle_w {self.idle_w!r}")

    def at(self, util: float) -> float:
        """Watts at utilisation ``util`` (0..1)."""
        return self.idle_w + util * (self.max_w - self.idle_w)


@dataclass(frozen=True, slots=True)
class PlantConfig:
    """Parameters of the three-node plant (SI units, degrees Celsius).

    The defaults are a 1U box with a 150 W CPU and a 350 W GPU: either die
    alone stays below its limit at full load; both together overheat the
    chassis, which is the seed's scenario (GPU hot => CPU margin low).
    """

    cpu: Node = field(default_factory=lambda: Node("cpu", 40.0))
    gpu: Node = field(default_factory=lambda: Node("gpu", 80.0))
    chassis: Node = field(default_factory=lambda: Node("chassis", 2000.0, 15.0))
    cpu_to_chassis: float = 3.0
    """W/K from the CPU die (through its heatsink) into the chassis air."""
    gpu_to_chassis: float = 10.0
    """W/K from the GPU die into the chassis air."""
    cpu_power: Power = field(default_factory=lambda: Power(10.0, 150.0))
    gpu_power: Power = field(default_factory=lambda: Power(30.0, 350.0))
    ambient_c: float = 25.0

    def __post_init__(self) -> None:
        for name, node in (("cpu", self.cpu), ("gpu", self.gpu), ("chassis", self.chassis)):
            if not isinstance(node, Node):
                raise TypeError(f"{name} must be a Node, got {node!r}")
        _positive(self.cpu_to_chassis, "cpu_to_chassis")
        _positive(self.gpu_to_chassis, "gpu_to_chassis")
        if not isinstance(self.ambient_c, int | float) or not -50.0 <= self.ambient_c <= 60.0:
            raise ValueError(f"ambient_c {self.ambient_c!r} is out of range -50..60")
        if self.chassis.conductance + self.cpu.conductance + self.gpu.conductance <= 0:
            raise ValueError("conductance 0 everywhere: the plant has no path to ambient")

    @property
    def nodes(self) -> tuple[Node, Node, Node]:
        """``(cpu, gpu, chassis)``, the order of every array here."""
        return (self.cpu, self.gpu, self.chassis)

    def conductance_matrix(self) -> np.ndarray:
        """G (W/K) with ``C dT/dt = -G (T - T_amb) + P``: symmetric, positive definite."""
        a, b = self.cpu_to_chassis, self.gpu_to_chassis
        return np.array([
            [a + self.cpu.conductance, 0.0, -a],
            [0.0, b + self.gpu.conductance, -b],
            [-a, -b, a + b + self.chassis.conductance],
        ])

    def time_constants(self) -> tuple[float, float, float]:
        """The plant's modal time constants in seconds, fastest first (1 / eigenvalues)."""
        caps = np.array([n.heat_capacity for n in self.nodes])
        scale = 1.0 / np.sqrt(caps)
        # C^-1/2 G C^-1/2 is symmetric with the same eigenvalues as C^-1 G.
        rates = np.linalg.eigvalsh(scale[:, None] * self.conductance_matrix() * scale[None, :])
        fast, mid, slow = sorted(1.0 / rates)
        return (float(fast), float(mid), float(slow))


@dataclass(frozen=True, slots=True)
class Temperatures:
    """Node temperatures, degrees Celsius."""

    cpu: float
    gpu: float
    chassis: float

    def as_dict(self) -> dict[str, float]:
        """``{"cpu": ..., "gpu": ..., "chassis": ...}``."""
        return {"cpu": self.cpu, "gpu": self.gpu, "chassis": self.chassis}


@dataclass(frozen=True, slots=True)
class EnergyLedger:
    """Joules since the start: heat made, heat lost to ambient, heat stored above ambient."""

    heat_in_j: float
    to_ambient_j: float
    stored_j: float
    """``sum(C * (T - T_amb))`` now minus the same at the start."""

    @property
    def imbalance_j(self) -> float:
        """``stored - (in - out)``: zero up to rounding."""
        return self.stored_j - (self.heat_in_j - self.to_ambient_j)


class ThermalPlant:
    """The RC network's state and its integrator.

    ``step`` is O(sub-steps) with a fixed 3-node update; the simulator calls
    it at each thermal event with the utilisation since the last one.
    """

    __slots__ = ("_caps", "_config", "_g_amb", "_heat_in", "_max_dt", "_out", "_stored0",
                 "_temps", "time_s")

    def __init__(self, config: PlantConfig | None = None,
                 initial: Temperatures | None = None) -> None:
        self._config = PlantConfig() if config is None else config
        if not isinstance(self._config, PlantConfig):
            raise TypeError(f"config must be a PlantConfig, got {self._config!r}")
        amb = self._config.ambient_c
        start = initial or Temperatures(amb, amb, amb)
        self._temps = [float(start.cpu), float(start.gpu), float(start.chassis)]
        self._caps = tuple(n.heat_capacity for n in self._config.nodes)
        self._g_amb = tuple(n.conductance for n in self._config.nodes)
        g = self._config.conductance_matrix()
        self._max_dt = 0.25 * min(c / g[i, i] for i, c in enumerate(self._caps))
        self._heat_in = 0.0
        self._out = 0.0
        self._stored0 = self._stored()
        self.time_s = 0.0

    @property
    def config(self) -> PlantConfig:
        """The parameters."""
        return self._config

    @property
    def temperatures(self) -> Temperatures:
        """Node temperatures now."""
        cpu, gpu, chassis = self._temps
        return Temperatures(cpu, gpu, chassis)

    @property
    def energy(self) -> EnergyLedger:
        """The energy ledger since construction."""
        return EnergyLedger(self._heat_in, self._out, self._stored() - self._stored0)

    def _stored(self) -> float:
        amb = self._config.ambient_c
        return sum(c * (t - amb) for c, t in zip(self._caps, self._temps, strict=True))

    def step(self, dt_s: float, cpu_util: float, gpu_util: float) -> Temperatures:
        """Advance ``dt_s`` seconds at constant utilisations (0..1); return the new temperatures."""
        dt_s = _positive(dt_s, "dt_s", zero_ok=True)
        p_cpu = self._config.cpu_power.at(require_number(cpu_util, "cpu_util", 0, 1))
        p_gpu = self._config.gpu_power.at(require_number(gpu_util, "gpu_util", 0, 1))
        n = max(1, math.ceil(dt_s / self._max_dt))
        h = dt_s / n
        cfg = self._config
        amb, a, b = cfg.ambient_c, cfg.cpu_to_chassis, cfg.gpu_to_chassis
        c_cpu, c_gpu, c_ch = self._caps
        g_cpu, g_gpu, g_ch = self._g_amb
        cpu, gpu, ch = self._temps
        heat_in = out = 0.0
        for _ in range(n):
            q_cpu = a * (cpu - ch)     # W, die -> chassis
            q_gpu = b * (gpu - ch)
            loss = g_cpu * (cpu - amb) + g_gpu * (gpu - amb) + g_ch * (ch - amb)
            cpu += h * (p_cpu - q_cpu - g_cpu * (cpu - amb)) / c_cpu
            gpu += h * (p_gpu - q_gpu - g_gpu * (gpu - amb)) / c_gpu
            ch += h * (q_cpu + q_gpu - g_ch * (ch - amb)) / c_ch
            heat_in += h * (p_cpu + p_gpu)
            out += h * loss
        self._temps = [cpu, gpu, ch]
        self._heat_in += heat_in
        self._out += out
        self.time_s += dt_s
        return self.temperatures

    def steady_state(self, cpu_util: float, gpu_util: float) -> Temperatures:
        """Where the temperatures settle at constant utilisations: solve ``G dT = P``."""
        cfg = self._config
        power = np.array([cfg.cpu_power.at(require_number(cpu_util, "cpu_util", 0, 1)),
                          cfg.gpu_power.at(require_number(gpu_util, "gpu_util", 0, 1)), 0.0])
        rise = np.linalg.solve(cfg.conductance_matrix(), power)
        cpu, gpu, chassis = (float(cfg.ambient_c + r) for r in rise)
        return Temperatures(cpu, gpu, chassis)
