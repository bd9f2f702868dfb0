"""The tick mechanisms, vectorised over many auctions at once: who wins, what each pays.

The incentive experiments run millions of small auctions (a few bidders
each), too many to push through a tick book one at a time. :func:`outcomes`
computes, for a batch of auctions (one row each), the units every bidder
wins and what it pays, with exactly the rules of
:mod:`auctioneer.tick.mechanism` over a book that ranks like the chosen
structure:

* ``EXACT`` -- price, then arrival (IndexedHeap, LazyHeap with threshold 0,
  TournamentTree; SampledTopK whenever the sample covers every bid);
* ``TIER`` -- a TierBook: tier, then arrival (FIFO inside a tier), tier
  floors as rank prices (linear tier maps);
* ``SAMPLED`` -- a SampledTopK: the exact ranking of the bidders in the
  sample, which :func:`draw_sample` draws (uniform draws with replacement
  over the live bids in arrival order, as the book does).

:func:`reference_outcome` is the specification: one auction through the
reference books and the real mechanism functions. Tests hold the two equal.
All money is int64 micro-units. Complexity: O(B N log N) for B auctions of
N bidders.

Example:
    >>> import numpy as np
    >>> rule = Rule(Mechanism.SECOND_PRICE, k=1)
    >>> bids = np.array([[500, 900, 700]])
    >>> arrival = np.array([[0, 1, 2]])
    >>> units, paid = outcomes(rule, bids, arrival, np.ones_like(bids, dtype=bool))
    >>> units.tolist(), paid.tolist()
    ([[0, 1, 0]], [[0, 700, 0]])
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from auctioneer.checks import require_int
from auctioneer.tick import reference
from auctioneer.tick.limits import PRICE_MAX
from auctioneer.tick.mechanism import Mechanism, run
from auctioneer.tick.tiermap import MapKind, TierMap

__all__ = [
    "Bools",
    "Ints",
    "Rule",
    "Semantics",
    "draw_sample",
    "outcomes",
    "reference_outcome",
]

Ints = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]


class Semantics(enum.Enum):
    """How a structure ranks the bids a mechanism reads."""

    EXACT = "exact"
    TIER = "tier"
    SAMPLED = "sampled"


@dataclass(frozen=True, slots=True)
class Rule:
    """A mechanism over a structure: ``k`` units (the supply, for proportional share).

    ``price`` is the reserve (the posted price for POSTED); ``tiermap`` is the
    tier book's mapping (linear only); ``samples`` the sampled book's draws.
    """

    mechanism: Mechanism
    k: int = 1
    price: int = 0
    semantics: Semantics = Semantics.EXACT
    tiermap: TierMap | None = None
    samples: int = 0

    def __post_init__(self) -> None:
        require_int(self.k, "k", 1, 1_000_000)
        require_int(self.price, "price", 0, PRICE_MAX)
        if self.semantics is Semantics.TIER and (
            self.tiermap is None or self.tiermap.kind is not MapKind.LINEAR
        ):
            raise ValueError("a TIER rule needs a linear tiermap")
        if self.semantics is Semantics.SAMPLED and self.samples < 1:
            raise ValueError(f"a SAMPLED rule needs samples >= 1, got {self.samples!r}")
        if self.mechanism is Mechanism.PROPORTIONAL and self.semantics is not Semantics.EXACT:
            raise ValueError("proportional share reads every bid: use EXACT semantics")

    def with_price(self, price: int) -> Rule:
        """The same rule with another reserve (posted price)."""
        return Rule(self.mechanism, self.k, price, self.semantics, self.tiermap, self.samples)


def _tiers(tiermap: TierMap, bids: Ints) -> tuple[Ints, Ints]:
    """Vectorised ``tier_of`` and ``floor`` of a linear map."""
    tier = np.where(bids < tiermap.base, 0, (bids - tiermap.base) // tiermap.width)
    tier = np.minimum(tier, tiermap.tiers - 1)
    floor = np.where(tier == 0, 0, tiermap.base + tier * tiermap.width)
    return tier.astype(np.int64), floor.astype(np.int64)


def draw_sample(rng: np.random.Generator, samples: int, arrival: Ints, present: Bools) -> Bools:
    """Which live bids a sampled book ranks: ``samples`` uniform draws with replacement.

    The book draws positions in its dense array, which holds live agents in
    arrival order; when the draws would cover every bid it ranks them all.
    """
    live = present.sum(axis=1)
    # Dense array: present agents by arrival, absent ones pushed behind them.
    dense = np.argsort(np.where(present, arrival, arrival.shape[1] + arrival), axis=1)
    draws = (rng.random((present.shape[0], samples)) * np.maximum(live, 1)[:, None]).astype(
        np.int64
    )
    picked = np.take_along_axis(dense, draws, axis=1)
    mask = np.zeros_like(present)
    np.put_along_axis(mask, picked, True, axis=1)
    return np.where((samples >= live)[:, None], present, mask & present)


def outcomes(rule: Rule, bids: Ints, arrival: Ints, present: Bools) -> tuple[Ints, Ints]:
    """Units won and payments, shape (B, N), for B auctions of N bidder slots.

    ``bids`` in micro-units; ``arrival`` a permutation of 0..N-1 per row (the
    update order, earlier first); ``present`` who has a live bid (for a
    SAMPLED rule: who is in the sample, see :func:`draw_sample`). The column
    is the agent id (proportional share breaks exact ties by it).
    """
    if rule.mechanism is Mechanism.PROPORTIONAL:
        return _proportional(rule.k, bids, present)
    n = bids.shape[1]
    if rule.semantics is Semantics.TIER:
        assert rule.tiermap is not None
        rank, rank_price = _tiers(rule.tiermap, bids)
    else:
        rank, rank_price = bids, bids
    key = np.where(present, rank * n + (n - 1 - arrival), -1)
    order = np.argsort(-key, axis=1)
    own = np.take_along_axis(bids, order, axis=1)
    price = np.take_along_axis(rank_price, order, axis=1)
    count = present.sum(axis=1)[:, None]
    position = np.arange(n)[None, :]
    top = position < np.minimum(rule.k, count)
    reserve = rule.price

    def next_price(at: Ints) -> Ints:
        """The rank price at position ``at`` (0 where no bid ranks there)."""
        got = np.take_along_axis(price, np.minimum(at, n - 1), axis=1)
        return np.where(at < count, got, 0)

    if rule.mechanism is Mechanism.FIRST_PRICE:
        win = top & (own >= reserve)
        pay = own
    elif rule.mechanism is Mechanism.SECOND_PRICE:
        win = top & (own >= reserve)
        pay = np.maximum(reserve, next_price(np.full((bids.shape[0], 1), rule.k)))
        pay = np.broadcast_to(pay, own.shape)
    elif rule.mechanism is Mechanism.GSP:
        win = top & (own >= reserve)
        among = np.cumsum(win, axis=1)  # a winner's index among winners, plus one
        pay = np.maximum(reserve, next_price(among))
    else:  # POSTED
        win = top & (own >= reserve)
        pay = np.full_like(own, reserve)
    units = np.zeros_like(bids)
    paid = np.zeros_like(bids)
    np.put_along_axis(units, order, win.astype(np.int64), axis=1)
    np.put_along_axis(paid, order, np.where(win, pay, 0), axis=1)
    return units, paid


def _proportional(supply: int, bids: Ints, present: Bools) -> tuple[Ints, Ints]:
    """Kelly's share of ``supply`` with uncapped demand (every bid's units = supply)."""
    live = present & (bids > 0)
    p = np.where(live, bids, 0)
    total = p.sum(axis=1, keepdims=True)
    single = live.sum(axis=1, keepdims=True) == 1
    safe = np.maximum(total, 1)
    share = supply * p // safe
    leftover = supply - share.sum(axis=1, keepdims=True)
    remainder = np.where(live, supply * p % safe, -1)
    cols = np.broadcast_to(np.arange(bids.shape[1]), bids.shape)
    by_remainder = np.lexsort((cols, -p, -remainder), axis=1)
    extra = np.zeros_like(bids)
    np.put_along_axis(
        extra, by_remainder, (np.arange(bids.shape[1])[None, :] < leftover).astype(np.int64), axis=1
    )
    # A lone bidder takes the whole supply, capped, and pays nothing: nobody competes.
    units = np.where(single, np.where(live, supply, 0), share + np.where(live, extra, 0))
    paid = np.where(single | (units == 0), 0, np.minimum(p, units * total // supply))
    return units.astype(np.int64), paid.astype(np.int64)


def reference_outcome(
    rule: Rule, bids: list[int], arrival: list[int], present: list[bool]
) -> tuple[list[int], list[int]]:
    """One auction through a reference book and :func:`auctioneer.tick.mechanism.run`.

    The specification :func:`outcomes` is tested against. A SAMPLED rule
    ranks exactly the bidders in ``present`` (the sample).
    """
    n = len(bids)
    capacity = max(n, rule.k + 1)  # select(k + 1) needs that many slots
    book: reference.IndexedHeap | reference.TierBook
    if rule.semantics is Semantics.TIER:
        book = reference.TierBook(capacity, rule.tiermap)
    else:
        book = reference.IndexedHeap(capacity)
    units_each = rule.k if rule.mechanism is Mechanism.PROPORTIONAL else 1
    for agent in sorted(range(n), key=lambda a: arrival[a]):
        if present[agent]:
            book.update(agent, bids[agent], units_each)
    outcome = run(rule.mechanism, book, rule.k, rule.price)
    units, paid = [0] * n, [0] * n
    for agent, payment, got in zip(outcome.winners, outcome.payments, outcome.units, strict=True):
        units[agent], paid[agent] = got, payment
    return units, paid
