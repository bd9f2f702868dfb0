"""Means with confidence intervals over independent seeds (Student's t, 95 %).

Each seed of an experiment is one independent estimate (its own opponents,
arrivals and samples); the interval is the mean of those estimates plus or
minus t(0.975, seeds - 1) standard errors. These are statistics of money,
not money, so they are floats (micro-units per tick).

Example:
    >>> interval([1.0, 2.0, 3.0])
    Interval(mean=2.0, low=-0.484..., high=4.484...)
    >>> interval([5.0, 5.0]).half_width
    0.0
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["Interval", "interval", "t_quantile"]

# t(0.975, df) for df = 1..30; beyond that the normal quantile is within 2 %.
_T975 = (12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179,
         2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064,
         2.060, 2.056, 2.052, 2.048, 2.045, 2.042)


def t_quantile(df: int) -> float:
    """The two-sided 95 % Student t quantile for ``df`` degrees of freedom."""
    if df < 1:
        raise ValueError(f"df {df} must be at least 1")
    return _T975[df - 1] if df <= len(_T975) else 1.960


@dataclass(frozen=True, slots=True)
class Interval:
    """A mean over seeds and its 95 % confidence interval."""

    mean: float
    low: float
    high: float

    @property
    def half_width(self) -> float:
        """Half the interval's width."""
        return (self.high - self.low) / 2

    def to_dict(self) -> dict[str, float | list[float]]:
        """Rounded to a thousandth of a micro-unit, for JSON."""
        return {"mean": round(self.mean, 3), "ci95": [round(self.low, 3), round(self.high, 3)]}


def interval(samples: Sequence[float]) -> Interval:
    """Mean and 95 % t interval of ``samples`` (at least two)."""
    n = len(samples)
    if n < 2:
        raise ValueError(f"an interval needs at least 2 samples, got {n}")
    mean = math.fsum(samples) / n
    var = math.fsum((x - mean) ** 2 for x in samples) / (n - 1)
    half = t_quantile(n - 1) * math.sqrt(var / n)
    return Interval(mean, mean - half, mean + half)
