"""Thermal awareness, measured: does a mechanism's price follow a thermal multiplier?

The thermal controller hands the tick a price multiplier (1x cool ... 8x
when the GPU runs hot). A mechanism can only act on it through its reserve
(the posted price, for POSTED): the reserve becomes ``base * multiplier``.
With every bidder truthful, this measures at each multiplier the units sold
per tick, the mean price per unit, and the share of units won by bidders
whose value clears the raised reserve (the work worth running hot). A
mechanism is thermal-aware when its price rises with the multiplier;
proportional share has no reserve to raise, so its price does not move.

Applying the multiplier costs one multiply at select time in every
structure (the reserve is read by the mechanism, not stored in the book),
so no book is re-ranked: O(1) per tick.

Example:
    >>> from auctioneer.incentives.market import IncentiveConfig, mechanism
    >>> config = IncentiveConfig.build(quick=True)
    >>> cell = thermal_response(mechanism("second-price"), config)
    >>> cell.aware, cell.points[-1].multiplier
    (True, 8)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from auctioneer.incentives import market
from auctioneer.incentives.market import IncentiveConfig, MechanismSpec
from auctioneer.incentives.rules import Semantics, draw_sample, outcomes

__all__ = ["ThermalCell", "ThermalPoint", "run_thermal", "thermal_response"]

_STREAM = 4


@dataclass(frozen=True, slots=True)
class ThermalPoint:
    """The market at one multiplier (all seeds pooled)."""

    multiplier: int
    reserve: int
    units_per_tick: float
    price_per_unit: float
    """Mean payment per unit sold, micro-units (0 when nothing sold)."""
    high_value_share: float
    """Share of units won by bidders whose value is at least the reserve."""


@dataclass(frozen=True, slots=True)
class ThermalCell:
    """A mechanism's response to the multiplier."""

    mechanism: str
    points: tuple[ThermalPoint, ...]

    @property
    def response(self) -> float | None:
        """Price per unit at the largest multiplier over that at the smallest."""
        first, last = self.points[0].price_per_unit, self.points[-1].price_per_unit
        return last / first if first > 0 else None

    @property
    def aware(self) -> bool:
        """The price per unit never falls and rises overall as the multiplier grows."""
        prices = [p.price_per_unit for p in self.points if p.units_per_tick > 0]
        rising = all(b >= a for a, b in zip(prices, prices[1:], strict=False))
        return len(prices) > 1 and rising and prices[-1] > prices[0]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready builtins."""
        return {
            "mechanism": self.mechanism,
            "aware": self.aware,
            "price_response": None if self.response is None else round(self.response, 4),
            "points": [
                {"multiplier": p.multiplier, "reserve": p.reserve,
                 "units_per_tick": round(p.units_per_tick, 4),
                 "price_per_unit": round(p.price_per_unit, 3),
                 "high_value_share": round(p.high_value_share, 4)}
                for p in self.points
            ],
        }


def thermal_response(spec: MechanismSpec, config: IncentiveConfig) -> ThermalCell:
    """Units, price and who wins at every multiplier of ``config.multipliers``."""
    points = []
    n, rounds = config.bidders, config.rounds
    for multiplier in config.multipliers:
        reserve = config.thermal_reserve * multiplier
        rule = spec.rule.with_price(reserve)
        sold = paid_total = high = 0
        for s in range(config.seeds):
            gen = market.rng(config, _STREAM, s)
            values = market.draw_values(gen, config, (rounds, n))
            arrival = market.shuffled_arrival(gen, rounds, n)
            present = market.everyone((rounds, n))
            if rule.semantics is Semantics.SAMPLED:
                present = draw_sample(gen, rule.samples, arrival, present)
            units, paid = outcomes(rule, values, arrival, present)
            sold += int(units.sum())
            paid_total += int(paid.sum())
            high += int(units[values >= reserve].sum())
        points.append(ThermalPoint(
            multiplier=multiplier,
            reserve=reserve,
            units_per_tick=sold / (rounds * config.seeds),
            price_per_unit=paid_total / sold if sold else 0.0,
            high_value_share=high / sold if sold else 0.0,
        ))
    return ThermalCell(spec.name, tuple(points))


def run_thermal(config: IncentiveConfig, step: Callable[[str], None] | None = None,
                specs: tuple[MechanismSpec, ...] = market.MECHANISMS) -> tuple[ThermalCell, ...]:
    """Every mechanism's response to the thermal multiplier."""
    cells = []
    for spec in specs:
        if step is not None:
            step(f"thermal  {spec.name}")
        cells.append(thermal_response(spec, config))
    return tuple(cells)
