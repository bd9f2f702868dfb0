"""Sybil attacks: one agent split into k identities. Does it gain, and what stops it?

The agent (unit demand, known value) controls ``k`` identities among the
seeded opponents. It searches two families of bids for the best one, on the
same opponents for every choice (common random numbers):

* ``equal`` -- every identity bids ``value * f / 1000``;
* ``shills`` -- one identity bids ``value * f / 1000``, the others bid 0.

It pays for every unit any identity wins, and values only ``demand`` units.
The Sybil gain at ``k`` is the best utility with ``k`` identities minus the
best with one (so a first-price agent's shading is not counted as Sybil
gain), per seed, 95 % interval over seeds, averaged over the agent's values.

Mitigations (:class:`~auctioneer.incentives.market.Mitigation`): a reserve,
a fee per identity per tick, reputation, under which the ``k - 1`` new
identities queue behind every established bidder (FIFO last) and enter a
sampled book's draw only with the given chance, and stake weighting
(:mod:`~auctioneer.incentives.stake`), under which the k identities share
one agent's capital and the book draws and orders by stake.

Example:
    >>> from auctioneer.incentives.market import IncentiveConfig, Mitigation, mechanism
    >>> config = IncentiveConfig.build(quick=True)
    >>> cells = sybil_cells(mechanism("second-price"), config, Mitigation("none"))
    >>> [(c.identities, c.gain.mean <= 0) for c in cells]
    [(2, True), (4, True)]
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from auctioneer.incentives import market
from auctioneer.incentives.market import IncentiveConfig, MechanismSpec, Mitigation
from auctioneer.incentives.rules import Bools, Ints, Semantics, draw_sample, outcomes
from auctioneer.incentives.stake import split_stakes, stake_order, stake_sample
from auctioneer.incentives.stats import Interval, interval

__all__ = [
    "FAMILIES",
    "SybilCell",
    "best_utility",
    "mitigations",
    "run_sybil",
    "sybil_cells",
    "with_fee",
]

FAMILIES = ("equal", "shills")
_STREAM = 2


@dataclass(frozen=True, slots=True)
class SybilCell:
    """One mechanism, defence and identity count: the gain from splitting."""

    mechanism: str
    mitigation: str
    identities: int
    honest: Interval
    """Best utility with one identity, micro-units per tick."""
    sybil: Interval
    """Best utility with ``identities`` identities."""
    gain: Interval
    best: str
    """The best strategy found: family and factor, e.g. ``equal@1000``."""

    @property
    def relative_gain(self) -> float | None:
        """The gain over the honest best utility, None when that is not positive."""
        return self.gain.mean / self.honest.mean if self.honest.mean > 0 else None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready builtins."""
        relative = self.relative_gain
        return {
            "mechanism": self.mechanism,
            "mitigation": self.mitigation,
            "identities": self.identities,
            "honest_utility": self.honest.to_dict(),
            "sybil_utility": self.sybil.to_dict(),
            "gain": self.gain.to_dict(),
            "relative_gain": None if relative is None else round(relative, 5),
            "best_strategy": self.best,
        }


def mitigations(config: IncentiveConfig) -> tuple[Mitigation, ...]:
    """No defence, then each defence alone, at the configured strengths."""
    return (
        Mitigation("none"),
        Mitigation("reserve", reserve=config.reserve),
        Mitigation("identity-fee", fee=config.fee),
        Mitigation("reputation", reputation=config.reputation),
        Mitigation("stake", stake=True),
    )


def _setting(spec: MechanismSpec, config: IncentiveConfig, defence: Mitigation, k: int,
             seed: int, parts: int) -> tuple[Ints, Ints, Bools]:
    """Opponents' values, arrivals and presence for one seed; identities are columns 0..k-1.

    Opponents depend on the seed only, so every ``k`` meets the same ones.
    """
    rounds, n = config.rounds, config.opponents + k
    opponents = market.draw_values(market.rng(config, _STREAM, seed), config,
                                   (rounds, config.opponents))
    gen = market.rng(config, _STREAM, seed, k)
    arrival = market.shuffled_arrival(gen, rounds, n)
    new = np.zeros(n, dtype=bool)
    new[1:k] = True
    if defence.reputation is not None:
        # New identities queue behind every established bidder, in their own order.
        arrival = np.argsort(np.argsort(arrival + n * new, axis=1), axis=1).astype(np.int64)
    present = market.everyone((rounds, n))
    if defence.stake:
        stakes = split_stakes(rounds, n, k, parts)
        arrival = stake_order(gen, stakes)
        if spec.rule.semantics is Semantics.SAMPLED:
            present = stake_sample(gen, spec.rule.samples, stakes, present)
    elif spec.rule.semantics is Semantics.SAMPLED:
        present = draw_sample(gen, spec.rule.samples, arrival, present)
        if defence.reputation is not None:
            admitted = gen.integers(0, 1000, size=present.shape) < defence.reputation
            present &= ~new | admitted
    return opponents, arrival, present


def best_utility(spec: MechanismSpec, config: IncentiveConfig, defence: Mitigation, k: int,
                 value: int) -> tuple[npt.NDArray[np.float64], list[str]]:
    """Utility per tick, shape (seeds, strategies), of every strategy with ``k`` identities.

    Under stake weighting one identity may also lock only part of its
    capital (1/j for each j of ``config.identities``): what a Sybil's shill
    split buys, a lower stake for the bidding identity, one identity can buy
    too, and the gain from splitting is measured against that.
    """
    if defence.stake and k == 1:
        parts = [_utility_locked(spec, config, defence, value, j) for j in config.identities]
        return (np.concatenate([u for u, _ in parts], axis=1),
                [name for _, names in parts for name in names])
    return _utility_locked(spec, config, defence, value, k, k)


def _utility_locked(spec: MechanismSpec, config: IncentiveConfig, defence: Mitigation,
                        value: int, parts: int, k: int = 1
                        ) -> tuple[npt.NDArray[np.float64], list[str]]:
    """As :func:`best_utility`, with each identity locking 1/``parts`` of the capital."""
    factors = np.asarray(config.sybil_factors, dtype=np.int64)
    families = FAMILIES if k > 1 else FAMILIES[:1]
    locked = f"/stake 1/{parts}" if defence.stake and k == 1 and parts > 1 else ""
    names = [f"{family}@{f}{locked}" for family in families for f in config.sybil_factors]
    rule = defence.rule(spec.rule)
    rounds, n, width = config.rounds, config.opponents + k, len(names)
    out = np.empty((config.seeds, width))
    for s in range(config.seeds):
        opponents, arrival, present = _setting(spec, config, defence, k, s, parts)
        bids = np.zeros((rounds, width, n), dtype=np.int64)
        own = value * factors // 1000
        bids[:, : len(factors), :k] = own[None, :, None]
        if k > 1:
            bids[:, len(factors):, 0] = own[None, :]
        bids[:, :, k:] = opponents[:, None, :]
        units, paid = outcomes(rule, bids.reshape(rounds * width, n),
                               np.repeat(arrival, width, axis=0),
                               np.repeat(present, width, axis=0))
        won = np.minimum(units[:, :k].sum(axis=1), spec.demand)
        utility = value * won - paid[:, :k].sum(axis=1) - defence.fee * k
        out[s] = utility.reshape(rounds, width).sum(axis=0) / rounds
    return out, names


def _best(curves: npt.NDArray[np.float64]) -> tuple[npt.NDArray[np.float64], int]:
    """Per-seed utility of the strategy best over all seeds, and its index."""
    pick = int(np.argmax(curves.mean(axis=0)))
    return curves[:, pick], pick


def sybil_cells(spec: MechanismSpec, config: IncentiveConfig, defence: Mitigation
                ) -> list[SybilCell]:
    """The gain from each ``k`` of ``config.identities`` over one identity.

    Averaged over ``config.sybil_values``; the one-identity best is computed
    once per value and shared by every ``k``.
    """
    count = len(config.sybil_values)
    honest = np.zeros(config.seeds)
    for value in config.sybil_values:
        honest += _best(best_utility(spec, config, defence, 1, value)[0])[0] / count
    cells = []
    for k in config.identities:
        if k == 1:
            continue
        sybil = np.zeros(config.seeds)
        best_names = []
        for value in config.sybil_values:
            many, names = best_utility(spec, config, defence, k, value)
            utility, pick = _best(many)
            sybil += utility / count
            best_names.append(names[pick])
        cells.append(SybilCell(
            mechanism=spec.name,
            mitigation=defence.name,
            identities=k,
            honest=interval(honest.tolist()),
            sybil=interval(sybil.tolist()),
            gain=interval((sybil - honest).tolist()),
            best=", ".join(dict.fromkeys(best_names)),
        ))
    return cells


def with_fee(cell: SybilCell, fee: int, name: str) -> SybilCell:
    """``cell`` under a fee per identity per tick.

    The fee does not depend on the bids, so it changes no best response:
    it lowers the honest utility by ``fee`` and the Sybil's by ``k * fee``.
    """
    def shift(i: Interval, by: float) -> Interval:
        return Interval(i.mean - by, i.low - by, i.high - by)

    k = cell.identities
    return SybilCell(cell.mechanism, name, k, shift(cell.honest, fee),
                     shift(cell.sybil, k * fee), shift(cell.gain, (k - 1) * fee), cell.best)


def run_sybil(config: IncentiveConfig, step: Callable[[str], None] | None = None,
              specs: tuple[MechanismSpec, ...] = market.MECHANISMS) -> tuple[SybilCell, ...]:
    """Every mechanism and defence, at every identity count above one."""
    cells: list[SybilCell] = []
    for spec in specs:
        for defence in mitigations(config):
            if step is not None:
                step(f"sybil  {spec.name}  {defence.name}")
            if defence.fee:
                base = [c for c in cells if c.mechanism == spec.name and c.mitigation == "none"]
                cells.extend(with_fee(c, defence.fee, defence.name) for c in base)
            else:
                cells.extend(sybil_cells(spec, config, defence))
    return tuple(cells)
