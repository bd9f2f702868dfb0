"""What ``auctioneer simulate`` predicts for a mix of bid classes on the scheduler.

A mix (``kernel/vm/mix.yaml``) names classes of CPU-bound tasks: a price (0:
no bid), a task count, a slice in quanta and a budget per 1 s window for the
whole class. :func:`mix_scenario` writes it as the simulator's scenario, the
one ``auctioneer simulate`` runs: one always-busy agent per task bidding the
class's price under ``cpu.policy: fair-share``
(:mod:`auctioneer.sim.fairshare`, the scheduler's policy) with the
scheduler's constants (:mod:`~auctioneer.kernel.layout`), one tick per
quantum, the class's budget split evenly over its tasks (they run at one
weight, so they spend alike), and the reserve held at the price page's.
:func:`predict` runs it and reads each class's share and payment.

Example:
    >>> gold, free = TaskClass("gold", 90_000, 1), TaskClass("free", 0, 1)
    >>> [round(r.share, 2) for r in predict([gold, free], cpus=1, seconds=3.0)]
    [0.91, 0.09]
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from auctioneer.checks import require_int, require_number
from auctioneer.kernel.layout import (
    BANK_NS,
    BUDGET_PERIOD_NS,
    FREE_WEIGHT,
    LAG_NS,
    MAX_BID,
    MAX_UNITS,
    QUANTUM_NS,
    U32_MAX,
    Bid,
)

__all__ = ["ClassResult", "Prediction", "TaskClass", "load_mix", "load_prediction",
           "mix_scenario", "predict"]

PREDICT_S = 5.0
"""Simulated seconds per prediction: five budget windows."""
_NS_PER_MS = 1_000_000


@dataclass(frozen=True, slots=True)
class TaskClass:
    """``tasks`` CPU-bound tasks of one agent: price (0: no bid), slice units, budget per window."""

    name: str
    price: int
    tasks: int
    units: int = 1
    budget: int = 0

    def __post_init__(self) -> None:
        Bid(price=self.price, units=self.units, budget=self.budget)  # the map's ranges
        require_int(self.price, "price", 0, MAX_BID)
        require_int(self.tasks, "tasks", 1, 4096)


@dataclass(frozen=True, slots=True)
class ClassResult:
    """A class's share of all the CPUs' time, and what it paid per second (micro-units)."""

    name: str
    share: float
    paid_per_s: float


@dataclass(frozen=True, slots=True)
class Prediction:
    """What ``auctioneer simulate`` gave a mix at a reserve: the JSON of ``kernel predict``."""

    cpus: int
    reserve: int
    classes: tuple[ClassResult, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"cpus": self.cpus, "reserve": self.reserve,
                "classes": [{"name": c.name, "share": c.share, "paid_per_s": c.paid_per_s}
                            for c in self.classes]}


def load_prediction(path: Path, cpus: int, classes: Sequence[TaskClass],
                    reserve: int) -> Prediction:
    """A saved prediction, refused unless it is for these CPUs, classes and reserve."""
    import json

    try:
        data = json.loads(path.read_text())
        got = Prediction(int(data["cpus"]), int(data["reserve"]), tuple(
            ClassResult(str(c["name"]), float(c["share"]), float(c["paid_per_s"]))
            for c in data["classes"]))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"{path}: not a prediction from auctioneer kernel predict --json "
                         f"({exc})") from None
    for field, have, want in (("cpus", got.cpus, cpus), ("reserve", got.reserve, reserve),
                              ("classes", [c.name for c in got.classes],
                               [c.name for c in classes])):
        if have != want:
            raise ValueError(f"{path}: {field} is {have}, the run has {want}")
    return got


def load_mix(path: Path) -> tuple[int, list[TaskClass]]:
    """A mix file: ``cpus`` and ``classes`` (name, price, tasks, units, budget)."""
    import yaml

    data = yaml.safe_load(path.read_text())
    if not isinstance(data, dict) or not isinstance(data.get("classes"), list):
        raise ValueError(f"{path}: expected 'cpus' and a 'classes' list")
    try:
        classes = [TaskClass(**c) for c in data["classes"]]
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{path}: classes: {exc}") from None
    return int(data.get("cpus", os.cpu_count() or 1)), classes


def _busy() -> dict[str, Any]:
    """A CPU-bound agent: work from its first millisecond on, never served out."""
    return {"arrivals": {"process": "poisson", "rate_hz": 1000},
            "quanta": {"dist": "constant", "value": 1_000_000}}


def mix_scenario(classes: Sequence[TaskClass], cpus: int, reserve: int = 0,
                 seconds: float = PREDICT_S) -> dict[str, Any]:
    """The mix as a simulator scenario (parsed YAML: :func:`auctioneer.sim.load_scenario`)."""
    require_int(cpus, "cpus", 1, 1024)
    require_int(reserve, "reserve", 0, U32_MAX)
    require_number(seconds, "seconds", 0.001, 3600)
    count = sum(c.tasks for c in classes)
    return {
        "name": "kernel-mix",
        "description": "bid classes of CPU-bound tasks on the sched_ext scheduler "
                       "(auctioneer kernel mix)",
        "duration_s": seconds,
        "cpu": {"tick_hz": 1_000_000_000 // QUANTUM_NS, "cores": cpus, "policy": "fair-share",
                "coupled": False, "reserve": reserve,
                "fair_share": {"free_weight": FREE_WEIGHT, "max_bid": MAX_BID,
                               "max_units": MAX_UNITS, "bank_ms": BANK_NS / _NS_PER_MS,
                               "lag_ms": LAG_NS / _NS_PER_MS,
                               "window_s": BUDGET_PERIOD_NS / 1e9}},
        "agents": {"count": count, "classes": [
            {"name": c.name, "share": c.tasks / count,
             "value": {"dist": "constant", "value": c.price}, **_busy(), "units": c.units,
             **({"budget": c.budget // c.tasks} if c.budget else {})}
            for c in classes]},
    }


def predict(classes: Sequence[TaskClass], cpus: int, reserve: int = 0,
            seconds: float = PREDICT_S) -> list[ClassResult]:
    """Each class's share of all the CPUs and payment per second, by ``auctioneer simulate``."""
    from auctioneer.sim import load_scenario, simulate

    result = simulate(load_scenario(mix_scenario(classes, cpus, reserve, seconds)))
    m = result.metrics
    return [ClassResult(c.name, share, paid / seconds)
            for c, share, paid in zip(classes, m.class_share, m.class_paid, strict=True)]
