"""Equilibria, measured: iterated best response among symmetric bidders, and the price of anarchy.

The truthfulness test (:mod:`.truthful`) answers one agent's best reply to
truthful opponents. Here every bidder plays the same *bid function*: a bid
factor (per mille of value, from the run's factor grid) for each of
``buckets`` equal slices of the value range. Starting from a profile
(truthful bidding, or every bucket shading, or inflating, or a random
profile: :func:`starting_profiles`; a mechanism may have several
equilibria, and :func:`worst` keeps the one with the largest price of
anarchy), each round computes every bucket's best-response factor against
opponents playing the current profile, and moves each bucket halfway
(in grid steps, at least one) towards it. A bucket only moves when its
best factor beats the current one by more than ``tolerance`` micro-units
per auction, so a fixed point is an epsilon-equilibrium on the grid.

All rounds replay one batch of auctions (common random numbers: values,
arrival orders, samples), so a round is a deterministic map of the profile
and the iteration ends exactly: at a fixed point, on a repeated profile (a
cycle), or at the round cap. The agent whose reply is computed has its
value stratified over the buckets (equal auctions per bucket); the others
draw uniformly.

At the profile reached, over the same batch: welfare (value of the units
won, capped at demand; payments are transfers), the optimum (the units to
the highest values, i.e. truthful bids in an efficient mechanism), the
empirical **price of anarchy** = optimum / welfare, and seller revenue
against truthful VCG (k-unit Vickrey) on the same values. Money sums are
integers; complexity O(rounds x factors) batches of the rule per mechanism.

Example:
    >>> from auctioneer.incentives.market import IncentiveConfig, mechanism
    >>> config = IncentiveConfig.build(quick=True)
    >>> cell = equilibrium(mechanism("second-price"), config)
    >>> cell.converged, set(cell.factors), cell.price_of_anarchy
    (True, {1000}, 1.0)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from auctioneer.incentives.market import (
    MECHANISMS,
    IncentiveConfig,
    MechanismSpec,
    everyone,
    rng,
    shuffled_arrival,
)
from auctioneer.incentives.rules import Bools, Ints, Semantics, draw_sample, outcomes

__all__ = [
    "Batch",
    "EquilibriumCell",
    "bucket_edges",
    "draw_batch",
    "equilibrium",
    "optimum",
    "run_equilibrium",
    "starting_profiles",
    "vickrey_revenue",
    "worst",
]

_STREAM = 5


@dataclass(frozen=True, slots=True)
class EquilibriumCell:
    """Where iterated best response ended for one mechanism, and what it is worth.

    Money fields are integer micro-unit sums over all ``auctions`` of the batch.
    """

    mechanism: str
    start: str
    """The profile iteration started from: ``truthful``, ``shaded``, ``inflated``, ``random``."""
    converged: bool
    rounds: int
    """Best-response rounds run (the last one found the fixed point or the repeat)."""
    cycle: int
    """Length of the cycle the profile entered; 0 when converged or capped."""
    edges: tuple[int, ...]
    """Bucket edges: bucket b holds values ``edges[b] <= v < edges[b + 1]``."""
    factors: tuple[int, ...]
    """The profile reached: a bid factor per bucket, per mille of value."""
    auctions: int
    welfare: int
    truthful_welfare: int
    """Welfare when everyone bids truthfully under this mechanism."""
    optimum: int
    revenue: int
    vickrey_revenue: int

    @property
    def price_of_anarchy(self) -> float | None:
        """Optimal over equilibrium welfare (1 = efficient); None when nothing was won."""
        return self.optimum / self.welfare if self.welfare > 0 else None

    @property
    def truthful_ratio(self) -> float | None:
        """Optimal over truthful welfare: the structure's loss without any strategy."""
        return self.optimum / self.truthful_welfare if self.truthful_welfare > 0 else None

    @property
    def revenue_ratio(self) -> float | None:
        """Revenue at the profile over truthful Vickrey revenue; None when that is 0."""
        return self.revenue / self.vickrey_revenue if self.vickrey_revenue > 0 else None

    @property
    def status(self) -> str:
        """``converged``, ``cycle`` or ``capped``."""
        return "converged" if self.converged else "cycle" if self.cycle else "capped"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready builtins; money per tick (auction)."""
        def ratio(x: float | None) -> float | None:
            return None if x is None else round(x, 6)

        return {
            "mechanism": self.mechanism,
            "start": self.start,
            "status": self.status,
            "converged": self.converged,
            "rounds": self.rounds,
            "cycle_length": self.cycle,
            "bucket_edges": list(self.edges),
            "factors_permille": list(self.factors),
            "auctions": self.auctions,
            "welfare_per_tick": round(self.welfare / self.auctions, 3),
            "truthful_welfare_per_tick": round(self.truthful_welfare / self.auctions, 3),
            "optimal_welfare_per_tick": round(self.optimum / self.auctions, 3),
            "price_of_anarchy": ratio(self.price_of_anarchy),
            "truthful_welfare_ratio": ratio(self.truthful_ratio),
            "revenue_per_tick": round(self.revenue / self.auctions, 3),
            "vickrey_revenue_per_tick": round(self.vickrey_revenue / self.auctions, 3),
            "revenue_over_vickrey": ratio(self.revenue_ratio),
        }


@dataclass(frozen=True, slots=True)
class Batch:
    """One seed's auctions: values (column 0 stratified by bucket), arrivals, samples."""

    values: Ints
    arrival: Ints
    present: Bools
    buckets: Ints
    """Each value's bucket index."""


def bucket_edges(config: IncentiveConfig) -> Ints:
    """``buckets + 1`` integer edges splitting ``low..high`` into equal slices.

    >>> bucket_edges(IncentiveConfig.build(quick=True)).tolist()[:3]
    [500000, 625000, 750000]
    """
    span = config.high - config.low + 1
    return config.low + np.arange(config.buckets + 1, dtype=np.int64) * span // config.buckets


def draw_batch(spec: MechanismSpec, config: IncentiveConfig, seed: int) -> Batch:
    """Seed ``seed``'s auctions; the same for every mechanism but for the sample drawn."""
    gen = rng(config, _STREAM, seed)
    rounds, n = config.rounds, config.bidders
    edges = bucket_edges(config)
    values = gen.integers(config.low, config.high, size=(rounds, n), endpoint=True,
                          dtype=np.int64)
    own = np.arange(rounds) % config.buckets
    values[:, 0] = gen.integers(edges[own], edges[own + 1], dtype=np.int64)
    arrival = shuffled_arrival(gen, rounds, n)
    present = everyone((rounds, n))
    if spec.rule.semantics is Semantics.SAMPLED:
        present = draw_sample(gen, spec.rule.samples, arrival, present)
    buckets = (np.searchsorted(edges, values, side="right") - 1).astype(np.int64)
    return Batch(values, arrival, present, buckets)


def _bids(batch: Batch, factors: Ints) -> Ints:
    """Every bidder's bid under a profile (a factor per bucket)."""
    return batch.values * factors[batch.buckets] // 1000


def _welfare(spec: MechanismSpec, batch: Batch, bids: Ints) -> tuple[int, int]:
    """(welfare, revenue) of the batch's auctions under ``bids``."""
    units, paid = outcomes(spec.rule, bids, batch.arrival, batch.present)
    return (int((batch.values * np.minimum(units, spec.demand)).sum()), int(paid.sum()))


def optimum(values: Ints, k: int, demand: int) -> int:
    """Welfare of ``k`` units to the highest values, ``demand`` each at most.

    >>> optimum(np.array([[3, 9, 5]]), k=2, demand=1), optimum(np.array([[3, 9, 5]]), 2, 2)
    (14, 18)
    """
    ranked = -np.sort(-values, axis=1)
    share = np.clip(k - demand * np.arange(values.shape[1]), 0, demand)
    return int((ranked * share[None, :]).sum())


def vickrey_revenue(values: Ints, k: int, demand: int) -> int:
    """Truthful VCG revenue for ``k`` units: unit demand pays the (k+1)th value per unit;
    a demand of all ``k`` units (one winner) pays k times the second value.

    >>> vickrey_revenue(np.array([[3, 9, 5, 1]]), k=2, demand=1)
    6
    >>> vickrey_revenue(np.array([[3, 9, 5, 1]]), k=2, demand=2)
    10
    """
    if demand != 1 and demand < k:
        raise ValueError(f"VCG revenue needs demand 1 or >= k ({k}), got {demand}")
    ranked = -np.sort(-values, axis=1)
    at = k if demand == 1 else 1
    if at >= values.shape[1]:
        return 0
    return int(k * ranked[:, at].sum())


def _best_responses(spec: MechanismSpec, config: IncentiveConfig, batches: list[Batch],
                    profile: Ints, grid: Ints) -> tuple[Ints, Ints]:
    """Utility sums, shape (buckets, factors), of column 0 against the profile; and counts."""
    width = len(grid)
    totals = np.zeros((config.buckets, width), dtype=np.int64)
    counts = np.zeros(config.buckets, dtype=np.int64)
    for batch in batches:
        rows, n = batch.values.shape
        bids = np.empty((rows, width, n), dtype=np.int64)
        bids[:, :, :] = _bids(batch, grid[profile])[:, None, :]
        value = batch.values[:, 0]
        bids[:, :, 0] = value[:, None] * grid[None, :] // 1000
        units, paid = outcomes(spec.rule, bids.reshape(rows * width, n),
                               np.repeat(batch.arrival, width, axis=0),
                               np.repeat(batch.present, width, axis=0))
        utility = (value[:, None] * np.minimum(units[:, 0], spec.demand).reshape(rows, width)
                   - paid[:, 0].reshape(rows, width))
        np.add.at(totals, batch.buckets[:, 0], utility)
        counts += np.bincount(batch.buckets[:, 0], minlength=config.buckets)
    return totals, counts


def _step(totals: Ints, counts: Ints, profile: Ints, tolerance: int) -> Ints:
    """Each bucket's damped move towards its best factor (none within ``tolerance``)."""
    best = np.argmax(totals, axis=1)  # the first (lowest) of tied factors
    current = totals[np.arange(len(profile)), profile]
    better = totals[np.arange(len(profile)), best] - current > tolerance * counts
    gap = best - profile
    move = np.sign(gap) * ((np.abs(gap) + 1) // 2)
    return np.where(better, profile + move, profile).astype(np.int64)


def starting_profiles(config: IncentiveConfig) -> dict[str, Ints]:
    """Where iteration starts: truthful; every bucket shading to the grid factor nearest
    0.7 or inflating to the one nearest 1.3; and a seeded random profile (grid indices)."""
    grid = np.asarray(config.factors, dtype=np.int64)

    def everywhere(factor: int) -> Ints:
        return np.full(config.buckets, int(np.argmin(np.abs(grid - factor))), dtype=np.int64)

    random = rng(config, _STREAM, 10**6).integers(0, grid.size, size=config.buckets)
    return {"truthful": everywhere(1000), "shaded": everywhere(700),
            "inflated": everywhere(1300), "random": random.astype(np.int64)}


def equilibrium(spec: MechanismSpec, config: IncentiveConfig, start: str = "truthful"
                ) -> EquilibriumCell:
    """Iterated best response from the ``start`` profile under ``spec``; see the module doc."""
    grid = np.asarray(config.factors, dtype=np.int64)
    batches = [draw_batch(spec, config, s) for s in range(config.seeds)]
    profile = starting_profiles(config)[start]
    seen = {profile.tobytes(): 0}
    converged, cycle, rounds = False, 0, 0
    while rounds < config.equilibrium_rounds:
        rounds += 1
        totals, counts = _best_responses(spec, config, batches, profile, grid)
        moved = _step(totals, counts, profile, config.tolerance)
        if np.array_equal(moved, profile):
            converged = True
            break
        key = moved.tobytes()
        if key in seen:
            cycle = rounds - seen[key]
            profile = moved
            break
        seen[key] = rounds
        profile = moved
    welfare = revenue = truthful = best = vcg = 0
    truth = np.full(config.buckets, 1000, dtype=np.int64)
    for batch in batches:
        w, r = _welfare(spec, batch, _bids(batch, grid[profile]))
        welfare, revenue = welfare + w, revenue + r
        truthful += _welfare(spec, batch, _bids(batch, truth))[0]
        best += optimum(batch.values, spec.rule.k, spec.demand)
        vcg += vickrey_revenue(batch.values, spec.rule.k, spec.demand)
    return EquilibriumCell(
        mechanism=spec.name, start=start, converged=converged, rounds=rounds, cycle=cycle,
        edges=tuple(int(e) for e in bucket_edges(config)),
        factors=tuple(int(f) for f in grid[profile]),
        auctions=config.seeds * config.rounds, welfare=welfare, truthful_welfare=truthful,
        optimum=best, revenue=revenue, vickrey_revenue=vcg,
    )


def run_equilibrium(config: IncentiveConfig, step: Callable[[str], None] | None = None,
                    specs: tuple[MechanismSpec, ...] = MECHANISMS, start: str = "truthful"
                    ) -> tuple[EquilibriumCell, ...]:
    """Every mechanism from one ``start``; ``step(description)`` hears each start."""
    cells = []
    for spec in specs:
        if step is not None:
            step(f"equilibrium  {spec.name}  from {start}")
        cells.append(equilibrium(spec, config, start))
    return tuple(cells)


def worst(cells: tuple[EquilibriumCell, ...]) -> tuple[EquilibriumCell, ...]:
    """Per mechanism (first-seen order), the end profile with the largest price of anarchy
    among those that reached a fixed point or a cycle (a capped run found no equilibrium);
    a mechanism whose every run was capped keeps its worst capped run."""
    out = []
    for name in dict.fromkeys(c.mechanism for c in cells):
        mine = [c for c in cells if c.mechanism == name]
        ended = [c for c in mine if c.status != "capped"] or mine
        out.append(max(ended, key=lambda c: (c.price_of_anarchy or 0.0, c.start)))
    return tuple(out)
