"""Collusion: a ring of ``m`` bidders in repeated auctions, and what the seller loses.

Every bidder's value is drawn afresh each tick; bidders ``0..m-1`` are the
ring, the rest bid their values. Three strategies for the ring:

* ``truthful`` -- no ring: the baseline;
* ``rotation`` -- bid rotation: at tick t only member ``t mod m`` bids (its
  value); the others stay out, so the designated member faces only outsiders;
* ``all-low`` -- every member whose value reaches the lowest winning bid
  (the reserve or posted price, else 1 micro-unit) bids exactly that.

For each mechanism and defence the run reports the seller's revenue per
tick and the ring's gain (its members' summed utility minus theirs without
the ring), both with 95 % intervals over seeds. Defences are those of
:func:`auctioneer.incentives.sybil.mitigations`; a fee per identity and
reputation act on new identities, not on a ring of established bidders, so
they are measured here too and show it.

Example:
    >>> from auctioneer.incentives.market import IncentiveConfig, Mitigation, mechanism
    >>> config = IncentiveConfig.build(quick=True)
    >>> cells = collusion_cells(mechanism("second-price"), config, Mitigation("none"), 3)
    >>> [c.strategy for c in cells]
    ['truthful', 'rotation', 'all-low']
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from auctioneer.incentives import market
from auctioneer.incentives.market import IncentiveConfig, MechanismSpec, Mitigation
from auctioneer.incentives.rules import Bools, Ints, Rule, Semantics, draw_sample, outcomes
from auctioneer.incentives.stats import Interval, interval
from auctioneer.incentives.sybil import mitigations
from auctioneer.tick.mechanism import Mechanism

__all__ = ["STRATEGIES", "CollusionCell", "collusion_cells", "ring_bids", "run_collusion"]

STRATEGIES = ("truthful", "rotation", "all-low")
_STREAM = 3


@dataclass(frozen=True, slots=True)
class CollusionCell:
    """One mechanism, defence, ring size and strategy."""

    mechanism: str
    mitigation: str
    colluders: int
    strategy: str
    revenue: Interval
    """The seller's revenue, micro-units per tick."""
    ring_gain: Interval
    """The ring's summed utility minus its truthful utility (same defence), per tick."""
    revenue_ratio: float
    """Revenue over the truthful revenue without any defence."""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready builtins."""
        return {
            "mechanism": self.mechanism,
            "mitigation": self.mitigation,
            "colluders": self.colluders,
            "strategy": self.strategy,
            "revenue": self.revenue.to_dict(),
            "ring_gain": self.ring_gain.to_dict(),
            "revenue_over_undefended_truthful": round(self.revenue_ratio, 5),
        }


def lowest_winning_bid(rule: Rule) -> int:
    """What an all-low ring bids: the reserve (posted price), else 1 micro-unit.

    Proportional share ignores bids of 0, so its ring bids 1 too.
    """
    return rule.price if rule.price > 0 and rule.mechanism is not Mechanism.PROPORTIONAL else 1


def ring_bids(strategy: str, rule: Rule, values: Ints, m: int, tick: Ints
              ) -> tuple[Ints, Bools]:
    """Bids and presence of every bidder when ``0..m-1`` play ``strategy``.

    ``values`` is (rounds, n); ``tick`` the tick number of each row.
    """
    bids = values.copy()
    present = market.everyone(values.shape)
    if strategy == "rotation":
        present[:, :m] = np.arange(m)[None, :] == (tick % m)[:, None]
    elif strategy == "all-low":
        low = lowest_winning_bid(rule)
        bids[:, :m] = low
        present[:, :m] = values[:, :m] >= low
    elif strategy != "truthful":
        raise ValueError(f"unknown strategy {strategy!r}: choose from {', '.join(STRATEGIES)}")
    return bids, present


def _play(spec: MechanismSpec, config: IncentiveConfig, defence: Mitigation, m: int,
          strategy: str) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Per seed: mean revenue and mean ring utility per tick."""
    rule = defence.rule(spec.rule)
    revenue = np.empty(config.seeds)
    ring = np.empty(config.seeds)
    n, rounds = config.bidders, config.rounds
    for s in range(config.seeds):
        gen = market.rng(config, _STREAM, s)
        values = market.draw_values(gen, config, (rounds, n))
        arrival = market.shuffled_arrival(gen, rounds, n)
        bids, present = ring_bids(strategy, rule, values, m, np.arange(rounds))
        if rule.semantics is Semantics.SAMPLED:
            present = draw_sample(gen, rule.samples, arrival, present)
        units, paid = outcomes(rule, bids, arrival, present)
        utility = values * np.minimum(units, spec.demand) - paid - defence.fee
        revenue[s] = paid.sum() / rounds
        ring[s] = utility[:, :m].sum() / rounds
    return revenue, ring


def collusion_cells(spec: MechanismSpec, config: IncentiveConfig, defence: Mitigation, m: int,
                    baseline: float | None = None) -> list[CollusionCell]:
    """Every strategy for a ring of ``m``; ``baseline`` is the undefended truthful revenue."""
    played = {strategy: _play(spec, config, defence, m, strategy) for strategy in STRATEGIES}
    truthful_revenue, truthful_ring = played["truthful"]
    base = float(truthful_revenue.mean()) if baseline is None else baseline
    return [
        CollusionCell(
            mechanism=spec.name,
            mitigation=defence.name,
            colluders=m,
            strategy=strategy,
            revenue=interval(revenue.tolist()),
            ring_gain=interval((ring - truthful_ring).tolist()),
            revenue_ratio=float(revenue.mean()) / base if base > 0 else 0.0,
        )
        for strategy, (revenue, ring) in played.items()
    ]


def run_collusion(
    config: IncentiveConfig, step: Callable[[str], None] | None = None,
    specs: tuple[MechanismSpec, ...] = market.MECHANISMS,
) -> tuple[CollusionCell, ...]:
    """Every mechanism, ring size and defence."""
    cells: list[CollusionCell] = []
    for spec in specs:
        for m in config.colluders:
            baseline: float | None = None
            # Stake weighting reorders identities by capital; a ring of established
            # bidders holds equal stakes, so it would replay the undefended row.
            for defence in (d for d in mitigations(config) if not d.stake):
                if step is not None:
                    step(f"collusion  {spec.name}  m={m}  {defence.name}")
                mine = collusion_cells(spec, config, defence, m, baseline)
                baseline = mine[0].revenue.mean if baseline is None else baseline
                cells.extend(mine)
    return tuple(cells)
