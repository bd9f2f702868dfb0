"""The predictive price schedule: the tick reads its multiplier in O(1).

Sensors report at 10-100 Hz, the tick runs at 1-10 kHz. At each reading
the schedule runs one real controller update, then extrapolates the
temperature linearly from the reading (taken ``delay`` ago) along the
controller's filtered rate, and precomputes the controller's output at every
tick of the next ``horizon`` (10 ms, or one sensor period if longer, so a
tick never reads past it). ``multiplier_at(tick)`` is then one subtraction,
one clamp and one list index. Integer throughout: times in microseconds,
temperatures in millidegrees, multipliers in Q16.16.

Example:
    >>> from auctioneer.thermal.controller import PriceController
    >>> from auctioneer.thermal.sensor import Reading
    >>> s = PriceSchedule(PriceController(85, period_s=0.01), tick_hz=1000)
    >>> s.refresh(Reading(0.0, 0.005, 90_000), tick=5)
    >>> len(s), s.multiplier_at(5) == s.recompute(5), s.multiplier_at(10**6) == s.multiplier_at(14)
    (10, True, True)
"""

from __future__ import annotations

import math

from auctioneer.checks import require_int
from auctioneer.thermal.controller import ONE, PriceController
from auctioneer.thermal.sensor import Reading

__all__ = ["DEFAULT_HORIZON_S", "PriceSchedule"]

DEFAULT_HORIZON_S = 0.010
"""The seed's horizon: precompute the next 10 ms."""


class PriceSchedule:
    """Multipliers for the next ticks, refreshed at each sensor reading."""

    __slots__ = ("_base_mc", "_rate", "_start", "_table", "_taken_us", "controller", "tick_hz",
                 "ticks")

    def __init__(self, controller: PriceController, tick_hz: int = 1000,
                 horizon_s: float | None = None) -> None:
        if not isinstance(controller, PriceController):
            raise TypeError(f"controller must be a PriceController, got {controller!r}")
        require_int(tick_hz, "tick_hz", 1000, 10_000)
        self.controller = controller
        self.tick_hz = tick_hz
        period_s = controller.period_us / 1_000_000
        horizon = max(DEFAULT_HORIZON_S, period_s) if horizon_s is None else horizon_s
        if isinstance(horizon, bool) or not isinstance(horizon, int | float) or not (
            0 < horizon <= 1.0
        ):
            raise ValueError(f"horizon_s {horizon_s!r} is out of range (0, 1]")
        self.ticks = max(1, math.ceil(horizon * tick_hz - 1e-9))
        self._table = [ONE] * self.ticks
        self._start = 0
        self._base_mc = 0
        self._rate = 0
        self._taken_us = 0

    def __len__(self) -> int:
        return self.ticks

    @property
    def start_tick(self) -> int:
        """The tick the table's first entry is for."""
        return self._start

    def predicted_mc(self, tick: int) -> int:
        """The extrapolated temperature at ``tick``, millidegrees."""
        age_us = tick * 1_000_000 // self.tick_hz - self._taken_us
        return self._base_mc + self._rate * age_us // 1_000_000

    def recompute(self, tick: int) -> int:
        """The controller's output at ``tick``, computed now (what the table caches)."""
        tick = min(max(tick, self._start), self._start + self.ticks - 1)
        return self.controller.output(self.predicted_mc(tick), self._rate)

    def refresh(self, reading: Reading, tick: int) -> None:
        """Take ``reading`` (available at ``tick``): update the controller, refill the table."""
        self.controller.update(reading.milli_c)
        self._base_mc = reading.milli_c
        self._rate = self.controller.rate
        self._taken_us = round(reading.taken_s * 1_000_000)
        self._start = tick
        out, base, rate, taken = self.controller.output, self._base_mc, self._rate, self._taken_us
        hz = self.tick_hz
        self._table = [out(base + rate * ((t * 1_000_000 // hz) - taken) // 1_000_000, rate)
                       for t in range(tick, tick + self.ticks)]

    def multiplier_at(self, tick: int) -> int:
        """The multiplier (Q16.16) for ``tick``; held at the ends outside the horizon. O(1)."""
        i = tick - self._start
        table = self._table
        return table[0] if i <= 0 else table[i] if i < self.ticks else table[-1]
