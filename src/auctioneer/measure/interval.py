"""A median and its percentile-bootstrap confidence interval.

For benchmarks on a noisy clock (the VM's wall clock on a shared host), where
a median alone cannot say whether 10 % is resolved: resample the values with
replacement, take each resample's median, and report the middle ``level`` of
those medians. Seeded, so a report is reproducible from its samples.

Example:
    >>> m = median_interval([1.0, 1.0, 1.0])
    >>> (m.median, m.low, m.high)
    (1.0, 1.0, 1.0)
"""

from __future__ import annotations

import math
import random
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["Interval", "median_interval"]


@dataclass(frozen=True, slots=True)
class Interval:
    """A median with the bounds of its confidence interval (nan without values)."""

    median: float
    low: float
    high: float
    n: int


def median_interval(values: Sequence[float], level: float = 0.95, draws: int = 2000,
                    seed: int = 0) -> Interval:
    """The median of ``values`` and its ``level`` percentile-bootstrap interval."""
    if not 0 < level < 1:
        raise ValueError(f"level must lie in (0, 1), got {level}")
    if draws < 1:
        raise ValueError(f"draws must be at least 1, got {draws}")
    if not values:
        return Interval(math.nan, math.nan, math.nan, 0)
    rng = random.Random(seed)
    n = len(values)
    medians = sorted(statistics.median(rng.choices(values, k=n)) for _ in range(draws))
    tail = (1 - level) / 2
    low = medians[int(tail * (draws - 1))]
    high = medians[math.ceil((1 - tail) * (draws - 1))]
    return Interval(statistics.median(values), low, high, n)
