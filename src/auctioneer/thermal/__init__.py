"""Thermal pricing: plant, sensors, PID controller, predictive schedule, coupling.

A sibling of :mod:`auctioneer.tick` rather than a part of it: the plant and
the controller serve both planes (the CPU tick and the GPU dispatch, whose
auction is :mod:`auctioneer.gpu`) and the simulator, while the tick only
reads one precomputed multiplier in O(1) (:meth:`PriceSchedule.multiplier_at`).
``docs/thermal.md`` has the design and the control analysis.

* :mod:`~auctioneer.thermal.plant` -- lumped RC network (CPU die, GPU die,
  chassis) with an energy ledger.
* :mod:`~auctioneer.thermal.sensor` -- 10-100 Hz sensors with seeded noise and delay.
* :mod:`~auctioneer.thermal.controller` -- integer Q16.16 PID with anti-windup.
* :mod:`~auctioneer.thermal.schedule` -- multipliers precomputed for the next 10 ms.
* :mod:`~auctioneer.thermal.coupling` -- the dual-plane price tables.
* :mod:`~auctioneer.thermal.response` -- closed-loop step response of the controller.

Example:
    >>> from auctioneer.thermal import ONE, PriceController, PriceSchedule, Sensor, ThermalPlant
    >>> plant, sensor = ThermalPlant(), Sensor(rate_hz=100, seed=7)
    >>> schedule = PriceSchedule(PriceController(target_c=85.0, period_s=sensor.period_s))
    >>> temps = plant.step(0.01, cpu_util=1.0, gpu_util=0.9)
    >>> schedule.refresh(sensor.sample(0.01, temps.cpu), tick=10)
    >>> schedule.multiplier_at(11) == ONE            # still cool: base price
    True
"""

from auctioneer.thermal.controller import (
    DEFAULT_GAINS,
    DEFAULT_MAX_MULTIPLIER,
    FRACTION_BITS,
    ONE,
    Gains,
    PriceController,
    to_float,
    to_q,
)
from auctioneer.thermal.coupling import (
    BINS,
    GPU_BAND,
    CouplingTable,
    cpu_formula,
    gpu_formula,
)
from auctioneer.thermal.plant import (
    EnergyLedger,
    Node,
    PlantConfig,
    Power,
    Temperatures,
    ThermalPlant,
)
from auctioneer.thermal.schedule import DEFAULT_HORIZON_S, PriceSchedule
from auctioneer.thermal.sensor import Reading, Sensor

__all__ = [
    "BINS",
    "DEFAULT_GAINS",
    "DEFAULT_HORIZON_S",
    "DEFAULT_MAX_MULTIPLIER",
    "FRACTION_BITS",
    "GPU_BAND",
    "ONE",
    "CouplingTable",
    "EnergyLedger",
    "Gains",
    "Node",
    "PlantConfig",
    "Power",
    "PriceController",
    "PriceSchedule",
    "Reading",
    "Sensor",
    "Temperatures",
    "ThermalPlant",
    "cpu_formula",
    "gpu_formula",
    "to_float",
    "to_q",
]
