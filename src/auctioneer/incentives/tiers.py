"""The tier book's width, and its order within a tier: what each choice costs and invites.

The tier width is the tier book's one design parameter. Narrow tiers rank
almost exactly; wide tiers leave more to the within-tier order. For each
width of a sweep, on the same opponents (common random numbers):

* **allocation error** -- truthful bidders: the share of auctions whose
  winner is not the highest value, and welfare over the optimum;
* **misreport gain** -- the largest mean gain from the best bid factor over
  truthful bidding, over the agent values of the run moved to the middle of
  their tiers (:mod:`~auctioneer.incentives.truthful`);
* **Sybil gain** -- the gain from the run's largest identity count
  (:mod:`~auctioneer.incentives.sybil`, no defence);
* **early-mover gain** -- what a truthful agent gains per tick by always
  being first in arrival order, over arriving at a random place.

**FIFO or random within a tier.** Under FIFO (what ``tick_core.c`` does)
arrival order decides within a tier, so an agent that is first -- or that
never re-submits, keeping its old place -- gains the early-mover gain. A
book that shuffles each tier at select time makes arrival worthless (its
early-mover gain is zero by construction) but then every extra identity is
one more lottery ticket, and the Sybil gain is the same as FIFO's with
random arrival, the column measured here. Neither order changes the price
(a tier floor) or who is in the top tier.

Example:
    >>> from auctioneer.incentives.market import IncentiveConfig
    >>> cell = width_cell(50_000, IncentiveConfig.build(quick=True))
    >>> cell.width, 0 <= cell.error_rate < 0.2, cell.early_gain.mean > 0
    (50000, True, True)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from auctioneer.incentives import market
from auctioneer.incentives.market import IncentiveConfig, MechanismSpec, Mitigation
from auctioneer.incentives.rules import Rule, Semantics, outcomes
from auctioneer.incentives.stats import Interval, interval
from auctioneer.incentives.sybil import sybil_cells
from auctioneer.incentives.truthful import summarize, utility_curves
from auctioneer.tick.mechanism import Mechanism
from auctioneer.tick.tiermap import TierMap

__all__ = ["WIDTHS", "WidthCell", "mid_tier", "run_widths", "tier_spec", "width_cell"]

WIDTHS = (10_000, 25_000, 50_000, 100_000, 250_000, 500_000)
"""Tier widths swept, micro-units: 1 cent to 50 cents over a $0.50..$1.50 value range."""
_STREAM = 8


def tier_spec(width: int) -> MechanismSpec:
    """Vickrey on a linear tier book of ``width`` micro-units per tier, FIFO inside a tier."""
    return MechanismSpec(f"tier-{width}", Rule(Mechanism.SECOND_PRICE, 1,
                                               semantics=Semantics.TIER,
                                               tiermap=TierMap.linear(width)), 1,
                         f"Vickrey on {width / 10_000:g}-cent tiers")


@dataclass(frozen=True, slots=True)
class WidthCell:
    """One tier width's costs and incentives."""

    width: int
    tiers: int
    """Tiers the value range spans at this width."""
    error_rate: float
    """Share of truthful auctions whose winner is not the highest value."""
    welfare_ratio: float
    """Truthful welfare over the optimum (1 = exact)."""
    misreport_gain: float
    """Largest mean gain from the best bid factor over truth, over the run's values."""
    sybil_gain: Interval
    identities: int
    early_gain: Interval
    """Gain per tick from always arriving first, FIFO (0 by construction when random)."""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready builtins."""
        return {
            "width": self.width, "tiers": self.tiers,
            "error_rate": round(self.error_rate, 5),
            "welfare_ratio": round(self.welfare_ratio, 6),
            "misreport_gain": round(self.misreport_gain, 3),
            "sybil_gain": self.sybil_gain.to_dict(), "identities": self.identities,
            "early_gain_fifo": self.early_gain.to_dict(),
            "early_gain_random": {"mean": 0.0, "ci95": [0.0, 0.0]},
        }


def _truthful_round(spec: MechanismSpec, config: IncentiveConfig, seed: int
                    ) -> tuple[int, int, int, int, np.ndarray, np.ndarray]:
    """Truthful auctions of one seed: wrong winners, auctions, welfare, optimum, and the
    agent's utility with random arrival and when first, per value."""
    gen = market.rng(config, _STREAM, seed)
    rounds, n = config.rounds, config.bidders
    values = market.draw_values(gen, config, (rounds, n))
    arrival = market.shuffled_arrival(gen, rounds, n)
    units, _ = outcomes(spec.rule, values, arrival, market.everyone((rounds, n)))
    won = units.argmax(axis=1)
    wrong = int((values[np.arange(rounds), won] < values.max(axis=1)).sum())
    welfare = int((values * units).sum())
    optimum = int(values.max(axis=1).sum())
    own = np.asarray(config.values, dtype=np.int64)
    random_u, first_u = np.empty(own.size), np.empty(own.size)
    for i, value in enumerate(own):
        bids = values.copy()
        bids[:, 0] = value
        for order, out in ((arrival, random_u), (_first(arrival), first_u)):
            got, paid = outcomes(spec.rule, bids, order, market.everyone((rounds, n)))
            out[i] = (value * got[:, 0] - paid[:, 0]).sum() / rounds
    return wrong, rounds, welfare, optimum, random_u, first_u


def _first(arrival: np.ndarray) -> np.ndarray:
    """The same orders with bidder 0 moved to the front (the others keep their order)."""
    moved = arrival + (arrival < arrival[:, :1])
    moved[:, 0] = 0
    return moved.astype(np.int64)


def mid_tier(values: tuple[int, ...], width: int) -> tuple[int, ...]:
    """Each value moved to the middle of its tier (a value on a floor pays its own value and
    gains nothing from any bid; mid-tier is the typical case), duplicates dropped.

    >>> mid_tier((625_000, 825_000), 50_000), mid_tier((625_000, 700_000), 500_000)
    ((625000, 825000), (750000,))
    """
    return tuple(dict.fromkeys(v - v % width + width // 2 for v in values))


def width_cell(width: int, config: IncentiveConfig) -> WidthCell:
    """Every measure at one width, the agent's values moved to mid-tier."""
    spec = tier_spec(width)
    config = replace(config, values=mid_tier(config.values, width),
                     sybil_values=mid_tier(config.sybil_values, width))
    wrong = auctions = welfare = best = 0
    early = []
    for s in range(config.seeds):
        w, a, wel, opt, random_u, first_u = _truthful_round(spec, config, s)
        wrong, auctions, welfare, best = wrong + w, auctions + a, welfare + wel, best + opt
        early.append(float((first_u - random_u).mean()))
    gains = [summarize(spec, config, v, utility_curves(spec, config, v)).gain.mean
             for v in config.values]
    sybil = sybil_cells(spec, config, Mitigation("none"))[-1]
    return WidthCell(
        width=width, tiers=-(-(config.high - config.low) // width),
        error_rate=wrong / auctions, welfare_ratio=welfare / best,
        misreport_gain=max(gains), sybil_gain=sybil.gain, identities=sybil.identities,
        early_gain=interval(early),
    )


def run_widths(config: IncentiveConfig, step: Callable[[str], None] | None = None,
               widths: tuple[int, ...] = WIDTHS) -> tuple[WidthCell, ...]:
    """Every width of the sweep."""
    cells = []
    for width in widths:
        if step is not None:
            step(f"tier width  {width:,}")
        cells.append(width_cell(width, config))
    return tuple(cells)
