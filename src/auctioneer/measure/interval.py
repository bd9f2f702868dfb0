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

__all__ = ["Interval", "median_interval", "ratio_spread", "rounds_to_resolve"]

_Z95 = 1.959964
_MAD_TO_SD = 1.4826  # a normal's standard deviation over its median absolute deviation
_MEDIAN_EFFICIENCY = 1.2533  # sqrt(pi/2): the median's standard error over the mean's


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


def ratio_spread(ratios: Sequence[float]) -> float:
    """The spread of positive ratios: a robust standard deviation (1.4826 MAD) of their logs.

    0.1 means a single round's ratio is typically off by about 10 %; nan with
    fewer than two ratios.
    """
    logs = [math.log(r) for r in ratios if r > 0]
    if len(logs) < 2:
        return math.nan
    mid = statistics.median(logs)
    return _MAD_TO_SD * statistics.median(abs(v - mid) for v in logs)


def rounds_to_resolve(spread: float, half_width: float = 0.05) -> float:
    """Rounds whose median ratio has a 95 % interval of about +-``half_width`` at this spread.

    The normal approximation for a median: ``(1.96 x 1.2533 x spread / ln(1 +
    half_width))^2``; nan for a nan spread.
    """
    if not half_width > 0:
        raise ValueError(f"half_width must be positive, got {half_width}")
    if math.isnan(spread):
        return math.nan
    return math.ceil((_Z95 * _MEDIAN_EFFICIENCY * spread / math.log1p(half_width)) ** 2)
