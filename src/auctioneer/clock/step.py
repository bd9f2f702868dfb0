"""The clock's price increment g(x, p): min(alpha * excess, delta), floored at epsilon, exact.

The paper's rule is ``g = min(alpha * z+, delta)`` per pool (``z+`` the
positive part of the excess demand). Three modes say what the step is
measured in; ``alpha``, ``delta`` and ``epsilon`` are exact
:class:`~fractions.Fraction` values and every step is an integer number of
micro-units, rounded down:

* ``ABSOLUTE`` -- the paper's form: ``alpha`` micro-units per unit of
  excess demand, ``delta`` and ``epsilon`` micro-units.
  ``step = max(min(alpha * z, delta), epsilon)``.
* ``NORMALISED`` -- the paper's normalisation for different base prices:
  the step is a fraction of the pool's *base* price, and the excess demand
  is relative to the pool's free supply ``S`` (pools differ in size by
  orders of magnitude, so "units of excess" would mean nothing across them).
  ``step = base * max(min(alpha * z / S, delta), epsilon)``.
* ``RELATIVE`` -- percentage steps: the same, as a fraction of the *current*
  price. ``step = p * max(min(alpha * z / S, delta), epsilon)``. The
  default: prices far apart move in proportion.

Any pool with positive excess demand moves by at least one micro-unit, so
the clock can never stall on a step that rounds to zero; pools with no
excess demand do not move. Arithmetic is Python integers on the pools with
positive excess demand (object arrays), so no intermediate can overflow.

Complexity: O(pools with positive excess demand) per round.

Example:
    >>> rule = StepRule(StepMode.RELATIVE, alpha=Fraction(1, 2), delta=Fraction(1, 20),
    ...                 epsilon=Fraction(1, 1000))
    >>> z = np.array([400, 10, 0, -5]); supply = np.array([1000, 1000, 1000, 1000])
    >>> p = np.array([2_000_000, 2_000_000, 2_000_000, 2_000_000])
    >>> rule.steps(z, p, base=p, supply=supply).tolist()  # 5% cap, 0.5%, nothing, nothing
    [100000, 10000, 0, 0]
    >>> rule.describe()
    'relative: step = p * max(min(1/2 * z/S, 5%), 0.1%)'
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import numpy.typing as npt

__all__ = ["DEFAULT_RULES", "StepMode", "StepRule", "parse_fraction"]


class StepMode(enum.Enum):
    """What ``alpha``, ``delta`` and ``epsilon`` are measured in."""

    ABSOLUTE = "absolute"
    """Micro-units: ``alpha`` per unit of excess demand; ``delta``, ``epsilon`` per step."""
    NORMALISED = "normalised"
    """Fractions of the pool's base price, per unit of relative excess demand ``z/S``."""
    RELATIVE = "relative"
    """Fractions of the pool's current price, per unit of relative excess demand ``z/S``."""


def _fraction(value: object, name: str) -> Fraction:
    if isinstance(value, bool) or not isinstance(value, int | Fraction):
        raise TypeError(f"{name} must be an int or a Fraction (exact), got {value!r}")
    return Fraction(value)


@dataclass(frozen=True, slots=True)
class StepRule:
    """``g = max(min(alpha * e, delta), epsilon) * scale``, at least 1 micro-unit.

    ``e`` is the excess demand (ABSOLUTE) or the excess over the pool's free
    supply (the others); ``scale`` is 1 micro-unit, the base price, or the
    current price (see :class:`StepMode`). ``alpha`` and ``delta`` must be
    positive, ``0 <= epsilon <= delta``.
    """

    mode: StepMode = StepMode.RELATIVE
    alpha: Fraction = Fraction(1, 2)
    delta: Fraction = Fraction(1, 20)
    epsilon: Fraction = Fraction(1, 1000)

    def __post_init__(self) -> None:
        if not isinstance(self.mode, StepMode):
            raise TypeError(f"mode must be a StepMode, got {self.mode!r}")
        for name in ("alpha", "delta", "epsilon"):
            object.__setattr__(self, name, _fraction(getattr(self, name), name))
        if self.alpha <= 0:
            raise ValueError(f"alpha {self.alpha} must be positive")
        if self.delta <= 0:
            raise ValueError(f"delta {self.delta} must be positive")
        if not 0 <= self.epsilon <= self.delta:
            raise ValueError(f"epsilon {self.epsilon} must be in 0..delta ({self.delta})")

    @classmethod
    def default(cls, mode: StepMode = StepMode.RELATIVE) -> StepRule:
        """The tuned defaults of ``mode`` (:data:`DEFAULT_RULES`)."""
        return DEFAULT_RULES[mode]

    def with_values(self, *, alpha: Fraction | None = None, delta: Fraction | None = None,
                    epsilon: Fraction | None = None) -> StepRule:
        """This rule with some values replaced; epsilon is clipped to the new delta."""
        new_delta = self.delta if delta is None else delta
        new_eps = self.epsilon if epsilon is None else epsilon
        if epsilon is None:
            new_eps = min(new_eps, Fraction(new_delta))
        return StepRule(self.mode, self.alpha if alpha is None else alpha, new_delta, new_eps)

    def describe(self) -> str:
        """The rule in one line, e.g. ``relative: step = p * max(min(1/2 * z/S, 5%), 0.1%)``."""
        if self.mode is StepMode.ABSOLUTE:
            return (f"absolute: step = max(min({_num(self.alpha)} * z, {_num(self.delta)}), "
                    f"{_num(self.epsilon)}) micro-units")
        scale = "base" if self.mode is StepMode.NORMALISED else "p"
        return (f"{self.mode.value}: step = {scale} * max(min({_num(self.alpha)} * z/S, "
                f"{_pct(self.delta)}), {_pct(self.epsilon)})")

    def max_step(self, price_bound: int, base_max: int) -> int:
        """The largest step any pool can take while its price is at most ``price_bound``."""
        top = max(self.delta, self.epsilon)
        if self.mode is StepMode.ABSOLUTE:
            return max(int(top), 1)
        scale = base_max if self.mode is StepMode.NORMALISED else price_bound
        return max(int(scale * top), 1)

    def steps(self, excess: npt.ArrayLike, prices: npt.ArrayLike, *, base: npt.ArrayLike,
              supply: npt.ArrayLike) -> npt.NDArray[np.int64]:
        """Each pool's increment: 0 where excess demand is <= 0, else at least 1.

        ``supply`` is each pool's free supply (the divisor of the relative
        excess; values below 1 count as 1). Exact integer arithmetic.
        """
        z = np.asarray(excess, dtype=np.int64)
        out = np.zeros(z.shape, dtype=np.int64)
        pos = np.flatnonzero(z > 0)
        if not pos.size:
            return out
        a, b = self.alpha.numerator, self.alpha.denominator
        d, e = self.delta.numerator, self.delta.denominator
        f, g = self.epsilon.numerator, self.epsilon.denominator
        zp = z[pos].astype(object)
        if self.mode is StepMode.ABSOLUTE:
            # floor(min(x, y)) = min(floor(x), floor(y)): floor is monotone.
            raw = np.minimum(a * zp // b, d // e)
            step = np.maximum(raw, f // g)
        else:
            picked = base if self.mode is StepMode.NORMALISED else prices
            scale = np.asarray(picked, dtype=np.int64)[pos].astype(object)
            s = np.maximum(np.asarray(supply, dtype=np.int64)[pos], 1).astype(object)
            raw = np.minimum(scale * a * zp // (b * s), scale * d // e)
            step = np.maximum(raw, scale * f // g)
        out[pos] = np.maximum(step, 1).astype(np.int64)
        return out


def _num(value: Fraction) -> str:
    return str(value.numerator) if value.denominator == 1 else str(value)


def _pct(value: Fraction) -> str:
    pct = value * 100
    if pct.denominator == 1:
        return f"{pct.numerator}%"
    text = f"{float(pct):.6g}"  # display only; the rule itself stays exact
    return f"{text}%"


DEFAULT_RULES: dict[StepMode, StepRule] = {
    StepMode.RELATIVE: StepRule(StepMode.RELATIVE, Fraction(1, 2), Fraction(1, 20),
                                Fraction(1, 1000)),
    StepMode.NORMALISED: StepRule(StepMode.NORMALISED, Fraction(1, 2), Fraction(1, 20),
                                  Fraction(1, 1000)),
    StepMode.ABSOLUTE: StepRule(StepMode.ABSOLUTE, Fraction(1_000), Fraction(10_000),
                                Fraction(1)),
}
"""Each mode's default rule. Relative and normalised: half the relative excess demand,
at most 5% and at least 0.1% of the price per round. Absolute: $0.001 per unit of
excess demand, at most $0.01, at least 1 micro-unit per round (one scale for every pool:
see ``docs/clock.md`` for why it is not the default)."""


def parse_fraction(text: str, name: str = "value", *, percent: bool = True) -> Fraction:
    """An exact fraction from ``"0.05"``, ``"5%"`` (when ``percent``), ``"1/20"`` or ``"3"``.

    Floats never enter: the text is read as a decimal or a ratio. ValueError
    names ``name`` and the text.

    Example:
        >>> parse_fraction("5%"), parse_fraction("0.5"), parse_fraction("1/3")
        (Fraction(1, 20), Fraction(1, 2), Fraction(1, 3))
    """
    raw = text.strip()
    scale = Fraction(1)
    if raw.endswith("%"):
        if not percent:
            raise ValueError(f"{name} {text!r}: a percentage is not allowed here")
        raw, scale = raw[:-1].strip(), Fraction(1, 100)
    try:
        value = Fraction(raw)
    except (ValueError, ZeroDivisionError):
        raise ValueError(f"{name} {text!r} is not a number like 0.05, 5% or 1/20") from None
    return value * scale
