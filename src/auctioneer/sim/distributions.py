"""Seeded draws of integers: agents' valuations (micro-units) and job sizes (quanta).

Parameters are in the drawn unit (micro-units for money); shapes such as
``sigma`` and ``alpha`` are floats, which is fine: they describe a random
world, and every draw is rounded to an ``int`` before it touches money.

Example:
    >>> import numpy as np
    >>> draw(Uniform(10, 20), np.random.default_rng(1), 4)
    array([15, 15, 18, 20])
    >>> Pareto(scale=100, alpha=3.0).mean
    150.0
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from auctioneer.tick.limits import PRICE_MAX

__all__ = ["Constant", "Distribution", "Geometric", "LogNormal", "Pareto", "Uniform", "draw"]

IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class Constant:
    """Always ``value``."""

    value: int

    @property
    def mean(self) -> float:
        return float(self.value)


@dataclass(frozen=True, slots=True)
class Uniform:
    """Integers uniform on ``low..high`` inclusive."""

    low: int
    high: int

    @property
    def mean(self) -> float:
        return (self.low + self.high) / 2


@dataclass(frozen=True, slots=True)
class LogNormal:
    """``median * exp(sigma * Z)``: a heavy-ish right tail, median ``median``."""

    median: int
    sigma: float

    @property
    def mean(self) -> float:
        return self.median * math.exp(self.sigma**2 / 2)


@dataclass(frozen=True, slots=True)
class Pareto:
    """Pareto type I: ``scale / U**(1/alpha)``, at least ``scale``; mean finite for alpha > 1."""

    scale: int
    alpha: float

    @property
    def mean(self) -> float:
        return math.inf if self.alpha <= 1 else self.scale * self.alpha / (self.alpha - 1)


@dataclass(frozen=True, slots=True)
class Geometric:
    """Geometric on 1, 2, ... with mean ``mean`` (>= 1): job sizes in quanta."""

    mean: float


Distribution = Constant | Uniform | LogNormal | Pareto | Geometric
"""Every distribution a scenario can name."""


def draw(dist: Distribution, rng: np.random.Generator, n: int, low: int = 1,
         high: int = PRICE_MAX) -> IntArray:
    """``n`` draws rounded to integers and clipped to ``low..high``. O(n)."""
    values: npt.NDArray[np.float64] | IntArray
    if isinstance(dist, Constant):
        values = np.full(n, dist.value, dtype=np.int64)
    elif isinstance(dist, Uniform):
        values = rng.integers(dist.low, dist.high, size=n, endpoint=True, dtype=np.int64)
    elif isinstance(dist, LogNormal):
        values = np.rint(dist.median * np.exp(dist.sigma * rng.standard_normal(n)))
    elif isinstance(dist, Pareto):
        values = np.rint(dist.scale * (1.0 + rng.pareto(dist.alpha, n)))
    else:
        values = rng.geometric(1.0 / dist.mean, n).astype(np.int64)
    return np.clip(values, low, high).astype(np.int64)
