"""Arrival processes for jobs: Poisson, bursty on/off and diurnal, drawn ahead in integer ns.

Every process is drawn for a whole interval at once (numpy, one call per
agent), sorted, as nanosecond ``int64`` times; the event loop then walks
each agent's array as one stream. Drawing ahead keeps randomness out of the
hot loop and makes a run a pure function of its seed.

* :class:`Poisson` -- a homogeneous Poisson process: the count is
  Poisson(rate * T) and, given the count, the times are uniform (exact).
* :class:`Bursty` -- a two-state Markov-modulated Poisson process: ON
  periods Exp(``on_s``) with arrivals at ``rate_hz``, OFF periods
  Exp(``off_s``) with none; the first state is drawn from the stationary
  law. Long-run rate ``rate_hz * on_s / (on_s + off_s)``.
* :class:`Diurnal` -- rate ``rate_hz * (1 + amplitude * sin(2 pi t / period_s
  + phase))``, by thinning a Poisson process at the peak rate (exact).
  Long-run rate ``rate_hz`` over whole periods.

Example:
    >>> import numpy as np
    >>> times = arrivals(Poisson(1000.0), np.random.default_rng(7), 0, 10**9)
    >>> 900 < len(times) < 1100, bool((np.diff(times) >= 0).all())
    (True, True)
    >>> Bursty(rate_hz=30.0, on_s=1.0, off_s=2.0).mean_rate
    10.0
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = ["Arrivals", "Bursty", "Diurnal", "Poisson", "arrivals"]

NS = 1_000_000_000
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class Poisson:
    """Arrivals at a constant ``rate_hz``."""

    rate_hz: float

    @property
    def mean_rate(self) -> float:
        """Long-run arrivals per second."""
        return self.rate_hz


@dataclass(frozen=True, slots=True)
class Bursty:
    """ON/OFF: ``rate_hz`` during ON periods (mean ``on_s``), none in OFF (mean ``off_s``)."""

    rate_hz: float
    on_s: float
    off_s: float

    @property
    def mean_rate(self) -> float:
        """Long-run arrivals per second."""
        return self.rate_hz * self.on_s / (self.on_s + self.off_s)


@dataclass(frozen=True, slots=True)
class Diurnal:
    """A sinusoidal rate around ``rate_hz``, ``amplitude`` in 0..1, period ``period_s``."""

    rate_hz: float
    amplitude: float
    period_s: float
    phase: float = 0.0

    @property
    def mean_rate(self) -> float:
        """Long-run arrivals per second (over whole periods)."""
        return self.rate_hz


Arrivals = Poisson | Bursty | Diurnal
"""Every arrival process a scenario can name."""


def _uniform_times(rng: np.random.Generator, rate_hz: float, start: int, end: int) -> IntArray:
    count = int(rng.poisson(rate_hz * (end - start) / NS)) if end > start else 0
    times = rng.integers(start, end, size=count, dtype=np.int64) if count else np.empty(
        0, dtype=np.int64)
    times.sort()
    return times


def arrivals(process: Arrivals, rng: np.random.Generator, start: int, end: int) -> IntArray:
    """Sorted arrival times in ``[start, end)`` ns. O(arrivals) (+ O(periods) when bursty)."""
    if isinstance(process, Poisson):
        return _uniform_times(rng, process.rate_hz, start, end)
    if isinstance(process, Diurnal):
        peak = process.rate_hz * (1.0 + process.amplitude)
        times = _uniform_times(rng, peak, start, end)
        angle = 2 * math.pi * times / (process.period_s * NS) + process.phase
        keep = rng.random(times.size) * (1.0 + process.amplitude) < (
            1.0 + process.amplitude * np.sin(angle))
        kept: IntArray = times[keep]
        return kept
    on = rng.random() * (process.on_s + process.off_s) < process.on_s
    pieces: list[IntArray] = []
    time = start
    while time < end:
        length = int(rng.exponential(process.on_s if on else process.off_s) * NS) + 1
        if on:
            pieces.append(_uniform_times(rng, process.rate_hz, time, min(time + length, end)))
        time += length
        on = not on
    return np.concatenate(pieces) if pieces else np.empty(0, dtype=np.int64)
