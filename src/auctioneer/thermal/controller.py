"""Temperature to price multiplier: an integer fixed-point PID with anti-windup.

The multiplier is Q16.16 (:data:`ONE` is 1.0x); temperatures are integer
millidegrees Celsius (what :class:`~auctioneer.thermal.sensor.Sensor`
reports); every operation on the path the tick calls is an int add,
multiply, floor-divide or compare, so the arithmetic is exact and the same on
any machine (the C port is a transliteration with 64-bit ints).

The law, with ``e`` the error above target in millikelvin and ``r`` the
filtered rate of change in millikelvin per second::

    m = clamp(ONE + kp*e/1000 + ki*A/10**9 + kd*r/1000, min_q, max_q)

where ``A`` is the integral of ``e`` in mK*us, kept exactly. The derivative
acts on the (filtered) measurement, not the error, so moving the target does
not kick the price. Anti-windup is twofold: the integral is not advanced
while the output is saturated and the error would push it further out
(conditional integration), and ``A`` is clamped so the integral term alone
never exceeds the output range (so recovery after saturation starts at once).

Shipped gains (:data:`DEFAULT_GAINS`) come from the step-response analysis in
``docs/thermal.md`` (:mod:`auctioneer.thermal.response` reproduces it).

Example:
    >>> c = PriceController(target_c=85, period_s=0.01)
    >>> c.update(80_000) == ONE                     # 5 K below target: floor 1.0x
    True
    >>> c.update(95_000) > ONE                      # 10 K above: the price rises
    True
    >>> to_float(c.output(200_000, 0)) == 8.0       # saturates at max 8x
    True
"""

from __future__ import annotations

from dataclasses import dataclass

from auctioneer.checks import require_int, require_number

__all__ = [
    "DEFAULT_GAINS",
    "DEFAULT_MAX_MULTIPLIER",
    "FRACTION_BITS",
    "ONE",
    "Gains",
    "PriceController",
    "to_float",
    "to_q",
]

FRACTION_BITS = 16
"""Fraction bits of the Q16.16 multiplier."""
ONE = 1 << FRACTION_BITS
"""1.0x in Q16.16."""
DEFAULT_MAX_MULTIPLIER = 8 * ONE
"""The seed's ceiling: prices rise up to 8x."""
_RATE_SHIFT = 2
"""The derivative's measurement filter: an EMA with weight 1/4 on each new sample."""


def to_q(value: float) -> int:
    """A float multiplier or gain to Q16.16, rounded (configuration only, not the hot path)."""
    return round(value * ONE)


def to_float(q: int) -> float:
    """A Q16.16 value as a float (reports and plots)."""
    return q / ONE


@dataclass(frozen=True, slots=True)
class Gains:
    """PID gains in Q16.16: multiplier per kelvin, per kelvin-second, per kelvin/second."""

    kp: int
    ki: int
    kd: int = 0

    def __post_init__(self) -> None:
        for name in ("kp", "ki", "kd"):
            require_int(getattr(self, name), f"gains.{name}", 0, 1 << 32)

    @classmethod
    def from_float(cls, kp: float, ki: float, kd: float = 0.0) -> Gains:
        """Gains from floats (e.g. 0.2 per K), rounded to Q16.16."""
        for name, value in (("kp", kp), ("ki", ki), ("kd", kd)):
            if not isinstance(value, int | float) or not 0 <= value <= 65536:
                raise ValueError(f"gains.{name} {value!r} is out of range 0..65536")
        return cls(to_q(kp), to_q(ki), to_q(kd))

    def as_floats(self) -> tuple[float, float, float]:
        """``(kp, ki, kd)`` as floats."""
        return (to_float(self.kp), to_float(self.ki), to_float(self.kd))


DEFAULT_GAINS = Gains.from_float(kp=0.2, ki=0.015, kd=0.0)
"""Shipped gains: PI with ``kp / ki`` = 13.3 s, the CPU die's 13.1 s mode (the zero cancels
it), kp from the overshoot/noise trade-off; no D, which only amplifies sensor noise here.
``docs/thermal.md`` has the sweep (:func:`auctioneer.thermal.response.step_response`)."""


class PriceController:
    """A PID controller from die temperature to a price multiplier, in integers.

    ``update`` once per sensor reading (every ``period_s``); ``output`` is the
    law at any temperature and rate without changing state (the schedule
    uses it to precompute the next ticks). O(1) each.
    """

    __slots__ = ("_acc", "_acc_hi", "_acc_lo", "_filtered", "_last", "_rate", "gains",
                 "max_q", "min_q", "period_us", "target_mc")

    def __init__(self, target_c: float = 85.0, gains: Gains | None = None, *,
                 period_s: float = 0.01, min_q: int = ONE,
                 max_q: int = DEFAULT_MAX_MULTIPLIER) -> None:
        self.target_mc = round(require_number(target_c, "target_c", 0, 150) * 1000)
        self.gains = DEFAULT_GAINS if gains is None else gains
        if not isinstance(self.gains, Gains):
            raise TypeError(f"gains must be a Gains, got {self.gains!r}")
        self.period_us = round(require_number(period_s, "period_s", 1e-4, 1.0) * 1_000_000)
        self.min_q = require_int(min_q, "min_q", 0, 1 << 40)
        self.max_q = require_int(max_q, "max_q", self.min_q, 1 << 40)
        ki = self.gains.ki
        # Bounds on A such that ki*A/10**9 stays within [min_q - ONE, max_q - ONE].
        self._acc_hi = (self.max_q - ONE) * 10**9 // ki if ki else 0
        self._acc_lo = -((ONE - self.min_q) * 10**9 // ki) if ki else 0
        self._acc = 0
        self._filtered: int | None = None
        self._rate = 0
        self._last = self.min_q if self.min_q > ONE else min(ONE, self.max_q)

    @property
    def multiplier(self) -> int:
        """The last output, Q16.16."""
        return self._last

    @property
    def integral(self) -> int:
        """The integral state A, millikelvin-microseconds."""
        return self._acc

    @property
    def rate(self) -> int:
        """The filtered rate of change, millikelvin per second."""
        return self._rate

    def reset(self) -> None:
        """Forget the integral and the measurement history."""
        self._acc, self._filtered, self._rate = 0, None, 0

    def output(self, milli_c: int, rate_mk_s: int) -> int:
        """The law at temperature ``milli_c`` and rate ``rate_mk_s``, with today's integral."""
        g = self.gains
        e = milli_c - self.target_mc
        q = ONE + g.kp * e // 1000 + g.ki * self._acc // 10**9 + g.kd * rate_mk_s // 1000
        return self.min_q if q < self.min_q else self.max_q if q > self.max_q else q

    def update(self, milli_c: int) -> int:
        """Take one reading (integer millidegrees); return the new multiplier, Q16.16."""
        if type(milli_c) is not int:
            raise TypeError(f"milli_c must be an int, got {milli_c!r}")
        prev = self._filtered
        if prev is None:
            self._filtered = milli_c
        else:
            self._filtered = prev + ((milli_c - prev) >> _RATE_SHIFT)
            self._rate = (self._filtered - prev) * 1_000_000 // self.period_us
        e = milli_c - self.target_mc
        if self.gains.ki:
            g = self.gains
            raw = (ONE + g.kp * e // 1000 + g.ki * self._acc // 10**9
                   + g.kd * self._rate // 1000)
            # Conditional integration: never wind further into saturation.
            if not ((raw >= self.max_q and e > 0) or (raw <= self.min_q and e < 0)):
                acc = self._acc + e * self.period_us
                self._acc = min(max(acc, self._acc_lo), self._acc_hi)
        self._last = self.output(milli_c, self._rate)
        return self._last
