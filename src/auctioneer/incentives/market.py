"""The market the experiments play in: the mechanisms studied, the bidders, the parameters.

Every experiment draws opponents' values i.i.d. uniform in integer
micro-units (the tick benchmark's $0.50..$1.50 by default), repeats an
auction ``rounds`` times per seed and ``seeds`` times, and measures an
agent's utility ``value * min(units, demand) - payments``. Randomness comes
from :func:`rng` only, so a run is a function of its seed.

Example:
    >>> config = IncentiveConfig.build(quick=True)
    >>> [m.name for m in MECHANISMS][:3]
    ['first-price', 'second-price', 'vickrey-k']
    >>> factor_bid(1_000_000, 950)
    950000
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from auctioneer.checks import require_int
from auctioneer.incentives.rules import Bools, Ints, Rule, Semantics
from auctioneer.tick.mechanism import Mechanism
from auctioneer.tick.tiermap import TierMap

__all__ = [
    "MECHANISMS",
    "STRUCTURE_MECHANISM",
    "IncentiveConfig",
    "MechanismSpec",
    "Mitigation",
    "draw_values",
    "everyone",
    "factor_bid",
    "mechanism",
    "rng",
    "shuffled_arrival",
]

_SEED_MAX = 2**64 - 1
TIER_WIDTH = 50_000
"""The tier book's tier width in the experiments: 5 cents, 20 tiers over the value range."""
COARSE_TIER_WIDTH = 250_000
"""A coarse tier book's width: 25 cents, 4 tiers over the value range."""
SAMPLES = 4
"""The sampled book's draws per tick: well below the 10 bidders, as at N = 1000 with 32."""
POSTED_PRICE = 1_000_000
"""The posted price: the median value."""
SUPPLY = 10
"""Units proportional share divides each tick: one per bidder on average."""
UNITS = 3
"""Units the k-unit mechanisms sell each tick."""


@dataclass(frozen=True, slots=True)
class MechanismSpec:
    """A mechanism under study: its rule and how many units its bidders want."""

    name: str
    rule: Rule
    demand: int
    """Units an agent values (more are worthless to it): 1, or the whole supply."""
    description: str


MECHANISMS: tuple[MechanismSpec, ...] = (
    MechanismSpec("first-price", Rule(Mechanism.FIRST_PRICE, 1), 1,
                  "one unit, winner pays its bid"),
    MechanismSpec("second-price", Rule(Mechanism.SECOND_PRICE, 1), 1,
                  "one unit, Vickrey (IndexedHeap/LazyHeap/TournamentTree)"),
    MechanismSpec("vickrey-k", Rule(Mechanism.SECOND_PRICE, UNITS), 1,
                  f"{UNITS} units, all pay the {UNITS + 1}th bid"),
    MechanismSpec("gsp", Rule(Mechanism.GSP, UNITS), 1,
                  f"{UNITS} units, rank i pays rank i+1's bid"),
    MechanismSpec("posted", Rule(Mechanism.POSTED, UNITS, POSTED_PRICE), 1,
                  f"{UNITS} units at a posted $1.00 to the top bidders above it"),
    MechanismSpec("proportional", Rule(Mechanism.PROPORTIONAL, SUPPLY), SUPPLY,
                  f"{SUPPLY} units shared in proportion to bids (Kelly)"),
    MechanismSpec("tier-fifo", Rule(Mechanism.SECOND_PRICE, 1, semantics=Semantics.TIER,
                                    tiermap=TierMap.linear(TIER_WIDTH)), 1,
                  "Vickrey on a TierBook: 5-cent tiers, FIFO inside a tier, floor prices"),
    MechanismSpec("tier-coarse", Rule(Mechanism.SECOND_PRICE, 1, semantics=Semantics.TIER,
                                      tiermap=TierMap.linear(COARSE_TIER_WIDTH)), 1,
                  "the same with 25-cent tiers: arrival order decides more often"),
    MechanismSpec("sampled", Rule(Mechanism.SECOND_PRICE, 1, semantics=Semantics.SAMPLED,
                                  samples=SAMPLES), 1,
                  f"Vickrey on a SampledTopK ranking {SAMPLES} draws"),
)
"""Every mechanism the experiments measure, in table order."""

STRUCTURE_MECHANISM = {
    "TierBook": "tier-fifo",
    "LazyHeap": "second-price",
    "TournamentTree": "second-price",
    "SampledTopK": "sampled",
    "IndexedHeap": "second-price",
}
"""The mechanism each structure runs a tick with (select(2): winner + Vickrey price).
The three exact structures rank identically (tests/tick's differential tests), so
one measurement stands for all three."""


def mechanism(name: str) -> MechanismSpec:
    """The spec named ``name``; ValueError listing the names otherwise."""
    for spec in MECHANISMS:
        if spec.name == name:
            return spec
    raise ValueError(
        f"unknown mechanism {name!r}: choose from {', '.join(m.name for m in MECHANISMS)}"
    )


@dataclass(frozen=True, slots=True)
class Mitigation:
    """A defence: a reserve price, a fee per identity per tick, a reputation discount, stake.

    ``reputation`` (per mille) is the chance a new identity is let into a
    sampled book's draw; new identities also queue behind established ones
    (FIFO last). None: no reputation. ``stake``: every identity locks
    capital and the book weighs it by its stake -- a sampled book draws in
    proportion to stake, a tier orders its members by a stake-weighted
    lottery instead of arrival -- so an agent that splits its capital over
    k identities splits its weight too (:mod:`auctioneer.incentives.stake`).
    """

    name: str
    reserve: int = 0
    fee: int = 0
    reputation: int | None = None
    stake: bool = False

    def rule(self, rule: Rule) -> Rule:
        """``rule`` with the reserve applied (a posted price never drops)."""
        return rule.with_price(max(rule.price, self.reserve)) if self.reserve else rule


@dataclass(frozen=True, slots=True)
class IncentiveConfig:
    """What to run. :meth:`build` fills in the full run's or ``quick``'s defaults."""

    seed: int = 0
    seeds: int = 10
    rounds: int = 600
    opponents: int = 9
    low: int = 500_000
    high: int = 1_500_000
    values: tuple[int, ...] = (625_000, 825_000, 1_025_000, 1_225_000, 1_425_000)
    """The agent's values: one per fifth of the range, each mid-tier (a value on a tier
    floor gains nothing from inflating into the next tier, since it pays that floor)."""
    factors: tuple[int, ...] = ()
    """Bid factors in per mille of value: the best-response grid."""
    sybil_values: tuple[int, ...] = (825_000, 1_225_000)
    sybil_factors: tuple[int, ...] = ()
    identities: tuple[int, ...] = (1, 2, 4, 8)
    colluders: tuple[int, ...] = (3, 10)
    reserve: int = 800_000
    """The reserve-price mitigation."""
    fee: int = 20_000
    """The identity-cost mitigation, per identity per tick."""
    reputation: int = 250
    """The reputation mitigation: per mille chance a new identity enters the draw."""
    thermal_reserve: int = 150_000
    """The reserve at multiplier 1 in the thermal test."""
    multipliers: tuple[int, ...] = (1, 2, 4, 8)
    tolerance: int = 1_000
    """Gain (micro-units per tick) below which truthful still counts as a best response."""
    buckets: int = 8
    """Value buckets of the equilibrium's bid functions (a factor per bucket)."""
    equilibrium_rounds: int = 20
    """Cap on the equilibrium's best-response rounds."""
    quick: bool = False

    def __post_init__(self) -> None:
        require_int(self.seed, "seed", 0, _SEED_MAX)
        require_int(self.seeds, "seeds", 2, 1000)
        require_int(self.rounds, "rounds", 1, 1_000_000)
        require_int(self.opponents, "opponents", UNITS, 200)
        require_int(self.low, "low", 1, self.high)
        for value in (*self.values, *self.sybil_values):
            require_int(value, "value", 1, 2**31)
        if not self.factors or 1000 not in self.factors:
            raise ValueError("factors must include 1000 (the truthful bid)")
        if not self.sybil_factors or 1000 not in self.sybil_factors:
            raise ValueError("sybil_factors must include 1000 (the truthful bid)")
        if 1 not in self.identities:
            raise ValueError("identities must include 1 (the honest agent)")
        for m in self.colluders:
            require_int(m, "colluders", 2, self.opponents + 1)
        require_int(self.buckets, "buckets", 1, 64)
        require_int(self.equilibrium_rounds, "equilibrium_rounds", 1, 1000)

    @classmethod
    def build(cls, *, seed: int = 0, rounds: int | None = None, quick: bool = False
              ) -> IncentiveConfig:
        """The full run (or a ``quick`` smoke run, a few seconds) with ``seed``/``rounds``."""
        fine = tuple(range(500, 1501, 20))
        wide = (250, 330, 400, 450, *fine, 1600, 1750, 2000, 2500, 3000, 4000)
        coarse = (600, 800, 900, 1000, 1100, 1300)
        if quick:
            return cls(seed=seed, seeds=4, rounds=rounds or 200, values=(825_000, 1_225_000),
                       factors=(250, 500, 700, 800, 900, 950, 1000, 1050, 1100, 1500, 2000),
                       sybil_values=(1_025_000,), sybil_factors=(700, 900, 1000, 1100),
                       identities=(1, 2, 4), colluders=(3,), multipliers=(1, 8), quick=True)
        return cls(seed=seed, rounds=rounds or 600, factors=wide, sybil_factors=coarse)

    @property
    def bidders(self) -> int:
        """Bidders in the market: the opponents and the agent studied."""
        return self.opponents + 1


def rng(config: IncentiveConfig, *stream: int) -> np.random.Generator:
    """The generator of one stream (experiment, seed index, ...) of this run."""
    return np.random.default_rng([config.seed, *stream])


def factor_bid(value: int, factor: int) -> int:
    """The bid ``value * factor / 1000``, floored: integer money only."""
    return value * factor // 1000


def shuffled_arrival(gen: np.random.Generator, rows: int, n: int) -> Ints:
    """A random update order per auction: a permutation of 0..n-1 per row."""
    return np.argsort(gen.random((rows, n)), axis=1).astype(np.int64)


def draw_values(gen: np.random.Generator, config: IncentiveConfig, shape: tuple[int, ...]
                ) -> Ints:
    """Opponents' values, uniform integer micro-units in ``low..high``."""
    return gen.integers(config.low, config.high, size=shape, endpoint=True, dtype=np.int64)


def everyone(shape: tuple[int, ...]) -> Bools:
    """A presence mask with every bidder present."""
    return np.ones(shape, dtype=bool)
