"""Truthfulness: does an agent of known value gain by shading or inflating its bid?

For each mechanism and each value ``v`` of the agent studied, the agent bids
``v * f / 1000`` for every factor ``f`` of a grid against the same seeded
opponents (common random numbers: every factor meets the same opponents,
arrivals and samples), who bid their values. Its expected utility per tick
is averaged over ``rounds`` auctions per seed. The best response is the
factor with the highest utility over all seeds (the truthful factor wins
ties), and the gain from misreporting is its utility minus the truthful
one's, per seed, with a 95 % interval over seeds.

Common random numbers make the dominant-strategy case exact: in a Vickrey
auction no factor beats truth on any single auction, so the measured gain is
exactly 0, not 0 within noise.

Example:
    >>> from auctioneer.incentives.market import IncentiveConfig, mechanism
    >>> config = IncentiveConfig.build(quick=True)
    >>> cell = utility_curves(mechanism("second-price"), config, 1_200_000)
    >>> summarize(mechanism("second-price"), config, 1_200_000, cell).gain.mean
    0.0
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from auctioneer.incentives import market
from auctioneer.incentives.market import IncentiveConfig, MechanismSpec
from auctioneer.incentives.rules import Semantics, draw_sample, outcomes
from auctioneer.incentives.stats import Interval, interval

__all__ = [
    "TruthfulCell",
    "TruthfulSummary",
    "run_truthful",
    "summarize",
    "utility_curves",
]

_STREAM = 1


@dataclass(frozen=True, slots=True)
class TruthfulCell:
    """One mechanism and agent value: truthful vs best-response utility, micro-units/tick."""

    mechanism: str
    value: int
    truthful: Interval
    best_factor: int
    """The best response's bid factor, per mille of value (1000 = truthful)."""
    best: Interval
    gain: Interval
    """Best response minus truthful utility, per seed."""
    truthful_share: float
    """Share of seeds in which no factor beats truth by more than the tolerance."""
    curve: tuple[float, ...]
    """Mean utility at each factor of the grid."""

    @property
    def relative_gain(self) -> float | None:
        """The gain over the truthful utility, None when that is not positive."""
        return self.gain.mean / self.truthful.mean if self.truthful.mean > 0 else None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready builtins."""
        return {
            "mechanism": self.mechanism,
            "value": self.value,
            "truthful_utility": self.truthful.to_dict(),
            "best_factor_permille": self.best_factor,
            "best_utility": self.best.to_dict(),
            "gain": self.gain.to_dict(),
            "relative_gain": None if self.relative_gain is None else round(self.relative_gain, 5),
            "truthful_best_response_share": round(self.truthful_share, 4),
            "utility_by_factor": [round(u, 3) for u in self.curve],
        }


@dataclass(frozen=True, slots=True)
class TruthfulSummary:
    """A mechanism over all values: how truthful it measured."""

    mechanism: str
    truthful_share: float
    """Share of (value, seed) cells where truthful bidding is a best response."""
    max_gain: float
    """The largest mean gain from misreporting over the values, micro-units per tick."""
    max_relative_gain: float | None


def utility_curves(spec: MechanismSpec, config: IncentiveConfig, value: int
                   ) -> npt.NDArray[np.float64]:
    """Mean utility per tick, shape (seeds, factors), of bidding ``value * f / 1000``."""
    factors = np.asarray(config.factors, dtype=np.int64)
    n, rounds, width = config.bidders, config.rounds, len(factors)
    out = np.empty((config.seeds, width))
    for s in range(config.seeds):
        gen = market.rng(config, _STREAM, s)
        opponents = market.draw_values(gen, config, (rounds, config.opponents))
        arrival = market.shuffled_arrival(gen, rounds, n)
        present = market.everyone((rounds, n))
        if spec.rule.semantics is Semantics.SAMPLED:
            present = draw_sample(gen, spec.rule.samples, arrival, present)
        bids = np.empty((rounds, width, n), dtype=np.int64)
        bids[:, :, 0] = value * factors // 1000
        bids[:, :, 1:] = opponents[:, None, :]
        units, paid = outcomes(
            spec.rule,
            bids.reshape(rounds * width, n),
            np.repeat(arrival, width, axis=0),
            np.repeat(present, width, axis=0),
        )
        utility = value * np.minimum(units[:, 0], spec.demand) - paid[:, 0]
        out[s] = utility.reshape(rounds, width).sum(axis=0) / rounds
    return out


def summarize(spec: MechanismSpec, config: IncentiveConfig, value: int,
              curves: npt.NDArray[np.float64]) -> TruthfulCell:
    """The truthful and best-response utilities and the gain, from :func:`utility_curves`."""
    truth = config.factors.index(1000)
    pooled = curves.mean(axis=0)
    # Ties go to the truthful factor, then to the factor nearest it.
    order = sorted(range(len(config.factors)),
                   key=lambda i: (-pooled[i], i != truth, abs(config.factors[i] - 1000)))
    best = order[0]
    per_seed_best = curves.max(axis=1)
    return TruthfulCell(
        mechanism=spec.name,
        value=value,
        truthful=interval(curves[:, truth].tolist()),
        best_factor=config.factors[best],
        best=interval(curves[:, best].tolist()),
        gain=interval((curves[:, best] - curves[:, truth]).tolist()),
        truthful_share=float(np.mean(per_seed_best - curves[:, truth] <= config.tolerance)),
        curve=tuple(float(u) for u in pooled),
    )


def run_truthful(config: IncentiveConfig, step: Callable[[str], None] | None = None,
                 specs: tuple[MechanismSpec, ...] = market.MECHANISMS) -> tuple[TruthfulCell, ...]:
    """Every mechanism at every value; ``step(description)`` hears each cell start."""
    cells = []
    for spec in specs:
        for value in config.values:
            if step is not None:
                step(f"truthfulness  {spec.name}  value {value:,}")
            cells.append(summarize(spec, config, value, utility_curves(spec, config, value)))
    return tuple(cells)


def summaries(cells: tuple[TruthfulCell, ...]) -> tuple[TruthfulSummary, ...]:
    """Per mechanism, in the order the cells came: truthful share and largest gains."""
    names = list(dict.fromkeys(c.mechanism for c in cells))
    out = []
    for name in names:
        mine = [c for c in cells if c.mechanism == name]
        relative = [c.relative_gain for c in mine if c.relative_gain is not None]
        out.append(TruthfulSummary(
            mechanism=name,
            truthful_share=sum(c.truthful_share for c in mine) / len(mine),
            max_gain=max(c.gain.mean for c in mine),
            max_relative_gain=max(relative) if relative else None,
        ))
    return tuple(out)
