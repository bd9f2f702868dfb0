"""The controller's closed-loop step response: the analysis behind the shipped gains.

The loop: the CPU die's temperature is sampled by a noisy, delayed sensor;
each reading updates the :class:`~auctioneer.thermal.controller.PriceController`;
its multiplier scales the CPU price; demand answers the price with unit
elasticity (``util = offered / multiplier``: agents keep their spending
constant, the simplest demand curve that still answers prices), and the
utilisation heats the plant. The step: the offered CPU load jumps from
``before`` to ``after`` at t = 0 with the GPU busy at ``gpu_util``, from the
steady state of the load before. The run is event-driven (a plant step to
each sample and to each reading's arrival), so 120 s costs 24,000 plant steps.

Overshoot, settling time and target crossings are measured on the *true*
die temperature (the sensor's noise is not the controller's fault).

Example:
    >>> r = step_response(StepScenario(duration_s=60.0, noise_sd_c=0.0))
    >>> r.overshoot_c < 2.0, r.settling_s is not None, r.crossings
    (True, True, 0)
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from auctioneer.thermal.controller import DEFAULT_GAINS, ONE, Gains, PriceController, to_float
from auctioneer.thermal.plant import PlantConfig, ThermalPlant
from auctioneer.thermal.sensor import Sensor

__all__ = ["Settling", "StepResponse", "StepScenario", "settling", "step_response"]


@dataclass(frozen=True, slots=True)
class StepScenario:
    """The experiment: loads, target, sensor and how long to watch."""

    target_c: float = 85.0
    gpu_util: float = 0.9
    before: float = 0.3
    """Offered CPU load (0..1) before the step, at multiplier 1."""
    after: float = 1.0
    """Offered CPU load from t = 0."""
    duration_s: float = 120.0
    sensor_hz: float = 100.0
    noise_sd_c: float = 0.25
    delay_s: float = 0.005
    seed: int = 0
    band_c: float = 1.0
    """Settled means within this many kelvin of the target from then on."""

    def __post_init__(self) -> None:
        for name in ("gpu_util", "before", "after"):
            value = getattr(self, name)
            if not isinstance(value, int | float) or not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} {value!r} is out of range 0..1")
        if not isinstance(self.duration_s, int | float) or not 1.0 <= self.duration_s <= 3600:
            raise ValueError(f"duration_s {self.duration_s!r} is out of range 1..3600")
        if not isinstance(self.band_c, int | float) or not 0 < self.band_c <= 20:
            raise ValueError(f"band_c {self.band_c!r} is out of range (0, 20]")


@dataclass(frozen=True, slots=True)
class StepResponse:
    """The trajectories (one point per sensor sample) and the step's figures of merit."""

    scenario: StepScenario
    gains: Gains
    times_s: tuple[float, ...]
    cpu_c: tuple[float, ...]
    gpu_c: tuple[float, ...]
    chassis_c: tuple[float, ...]
    measured_c: tuple[float, ...]
    multiplier: tuple[float, ...]
    cpu_util: tuple[float, ...]
    overshoot_c: float
    """Peak true die temperature above the target (0 if it never got there)."""
    settling_s: float | None
    """First time after which the die stays within ``band_c`` of the target; None: never."""
    crossings: int
    """Times the die crosses the target (hysteresis a quarter band) after first passing it:
    0 is a settle without oscillation; 1 is an undershoot; more is ringing."""
    rise_s: float | None
    """First time the die reaches the target minus the band."""
    final_multiplier: float

    def to_dict(self) -> dict[str, object]:
        """JSON-ready builtins."""
        kp, ki, kd = self.gains.as_floats()
        return {
            "scenario": asdict(self.scenario),
            "gains": {"kp": kp, "ki": ki, "kd": kd, "kp_q": self.gains.kp,
                      "ki_q": self.gains.ki, "kd_q": self.gains.kd},
            "overshoot_c": self.overshoot_c,
            "settling_s": self.settling_s,
            "rise_s": self.rise_s,
            "crossings": self.crossings,
            "final_multiplier": self.final_multiplier,
            "series": {
                "t_s": list(self.times_s), "cpu_c": list(self.cpu_c),
                "gpu_c": list(self.gpu_c), "chassis_c": list(self.chassis_c),
                "measured_c": list(self.measured_c), "multiplier": list(self.multiplier),
                "cpu_util": list(self.cpu_util),
            },
        }


def step_response(scenario: StepScenario | None = None, gains: Gains | None = None,
                  config: PlantConfig | None = None) -> StepResponse:
    """Run the closed loop through the load step; O(duration x sensor rate)."""
    sc = StepScenario() if scenario is None else scenario
    g = DEFAULT_GAINS if gains is None else gains
    probe = ThermalPlant(config)
    plant = ThermalPlant(config, probe.steady_state(sc.before, sc.gpu_util))
    sensor = Sensor(sc.sensor_hz, sc.noise_sd_c, sc.delay_s, sc.seed)
    ctl = PriceController(sc.target_c, g, period_s=sensor.period_s)
    period, delay = sensor.period_s, min(sc.delay_s, sensor.period_s)
    util, mult = sc.after, ONE
    times, cpu, gpu, chassis, measured, mults, utils = [], [], [], [], [], [], []
    steps = round(sc.duration_s * sc.sensor_hz)
    for k in range(steps):
        temps = plant.step(period - delay if k else 0.0, util, sc.gpu_util)
        reading = sensor.sample(k * period, temps.cpu)
        times.append(k * period)
        cpu.append(temps.cpu)
        gpu.append(temps.gpu)
        chassis.append(temps.chassis)
        measured.append(reading.celsius)
        mults.append(to_float(mult))
        utils.append(util)
        plant.step(delay, util, sc.gpu_util)
        mult = ctl.update(reading.milli_c)
        util = min(1.0, sc.after * ONE / mult)
    return _measured(sc, g, times, cpu, gpu, chassis, measured, mults, utils)


@dataclass(frozen=True, slots=True)
class Settling:
    """How a temperature trace approaches a target: the loop's figures of merit."""

    overshoot_c: float
    """Peak above the target (0 if it never got there)."""
    settling_s: float | None
    """First time after which the trace stays within the band; None: it ends outside."""
    crossings: int
    """Crossings of the target (hysteresis a quarter band) after first passing it."""
    rise_s: float | None
    """First time the trace reaches the target minus the band; None: never."""


def settling(times: list[float], temps: list[float], target: float, band: float) -> Settling:
    """Overshoot, settling time, crossings and rise time of ``temps`` against ``target``. O(n).

    A trace whose last sample is outside the band has not settled (None),
    even if it ends steady below the target.

    >>> settling([0.0, 1.0, 2.0, 3.0], [80.0, 84.5, 85.5, 85.2], 85.0, 1.0)
    Settling(overshoot_c=0.5, settling_s=1.0, crossings=0, rise_s=1.0)
    """
    overshoot = max(0.0, max(temps) - target)
    outside = [i for i, t in enumerate(temps) if abs(t - target) > band]
    settled = 0 if not outside else outside[-1] + 1
    settling_s = times[settled] if settled < len(times) else None
    rise = next((times[i] for i, t in enumerate(temps) if t >= target - band), None)
    # Sides of the target the trace visits, with a hysteresis of a quarter band so that a
    # settled die's jitter does not count; the first arrival from below is not a crossing.
    sides: list[int] = []
    for t in temps:
        side = 1 if t > target + band / 4 else -1 if t < target - band / 4 else 0
        if side and (not sides or sides[-1] != side):
            sides.append(side)
    first_up = sides.index(1) if 1 in sides else len(sides)
    return Settling(overshoot, settling_s, max(0, len(sides) - first_up - 1), rise)


def _measured(sc: StepScenario, g: Gains, times: list[float], cpu: list[float],
              gpu: list[float], chassis: list[float], measured: list[float],
              mults: list[float], utils: list[float]) -> StepResponse:
    fit = settling(times, cpu, sc.target_c, sc.band_c)
    return StepResponse(sc, g, tuple(times), tuple(cpu), tuple(gpu), tuple(chassis),
                        tuple(measured), tuple(mults), tuple(utils), fit.overshoot_c,
                        fit.settling_s, fit.crossings, fit.rise_s, mults[-1])
