"""The simulator's measures: fairness, thermal stability, overhead, and the trace's hash.

Allocation efficiency needs the offline optimum and lives in
:mod:`auctioneer.sim.optimum`; everything here is a plain statistic of
recorded series.

Example:
    >>> gini([1, 1, 1, 1]), gini([0, 0, 0, 4])
    (0.0, 0.75)
    >>> time_above([80.0, 90.0, 86.0, 70.0], 0.01, limit=85.0)
    0.02
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

__all__ = ["gini", "share_percentiles", "time_above", "trace_hash", "variance"]


def gini(amounts: Sequence[int] | npt.NDArray[np.int64]) -> float:
    """Gini coefficient of non-negative amounts: 0 equal, (n-1)/n one takes all. O(n log n).

    ``G = sum_i sum_j |x_i - x_j| / (2 n sum x)``, computed on the sorted
    amounts as ``(2 sum_i i x_(i)) / (n sum x) - (n + 1) / n`` with i from 1.
    0 for an empty list or when nobody got anything.
    """
    values = np.sort(np.asarray(amounts, dtype=np.int64))
    n, total = values.size, int(values.sum())
    if n == 0 or total == 0:
        return 0.0
    if values[0] < 0:
        raise ValueError(f"gini needs non-negative amounts, got {int(values[0])}")
    weighted = int(np.dot(np.arange(1, n + 1, dtype=np.int64), values))
    return (2 * weighted - (n + 1) * total) / (n * total)


def variance(samples: Sequence[float] | npt.NDArray[np.float64]) -> float:
    """Population variance (0 for fewer than two samples)."""
    data = np.asarray(samples, dtype=np.float64)
    return float(data.var()) if data.size > 1 else 0.0


def time_above(samples: Sequence[float] | npt.NDArray[np.float64], dt_s: float,
               limit: float) -> float:
    """Seconds above ``limit`` for samples each holding for ``dt_s`` (strictly above counts)."""
    data = np.asarray(samples, dtype=np.float64)
    return round(int((data > limit).sum()) * dt_s, 9)


def share_percentiles(ns: Sequence[int] | npt.NDArray[np.int64],
                      period_ns: int) -> tuple[float, float, float]:
    """``(mean, p50, p99)`` of ``ns / period_ns``: a cost as a share of each period.

    p50 and p99 are nearest-rank (observed values: numpy's ``inverted_cdf``).
    """
    data = np.asarray(ns, dtype=np.int64)
    if data.size == 0:
        return (0.0, 0.0, 0.0)
    p50, p99 = np.quantile(data, (0.5, 0.99), method="inverted_cdf")
    return (float(data.mean()) / period_ns, int(p50) / period_ns, int(p99) / period_ns)


def trace_hash(*series: Sequence[int] | npt.NDArray[np.int64]) -> str:
    """A short hash of integer series, to compare two runs for identity.

    Each series is hashed with its length, so ``([1], [2])`` and ``([1, 2], [])`` differ.

    Example:
        >>> trace_hash([1, 2], [3]) == trace_hash([1, 2], [3]) != trace_hash([1], [2, 3])
        True
    """
    digest = hashlib.blake2b(digest_size=8)
    for values in series:
        data = np.asarray(values, dtype=np.int64)
        digest.update(np.int64(data.size).tobytes())
        digest.update(data.tobytes())
    return digest.hexdigest()
