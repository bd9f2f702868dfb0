"""Auction mechanisms over any tick book: who wins this tick, and what each pays.

Every mechanism reads a book through one ``select`` (one draw, which matters
for the sampled book) and returns an :class:`Outcome` in integer micro-units.
In the k-unit mechanisms each winner gets one unit (one quantum); a bid's
``units`` is its demand cap only in :func:`proportional_share`.

Prices come from the book's rank prices (``tick_core.h``): exact bids in the
exact books, tier floors in the tier book. Either way a winner never pays
more than its own bid.

Example:
    >>> from auctioneer.tick.reference import IndexedHeap
    >>> book = IndexedHeap(8)
    >>> for agent, bid in [(0, 500), (1, 900), (2, 700), (3, 650)]:
    ...     book.update(agent, bid)
    >>> second_price(book, k=2)                       # both pay the 3rd bid
    Outcome(winners=(1, 2), payments=(650, 650), units=(1, 1))
    >>> generalized_second_price(book, k=2).payments  # each pays the next bid
    (700, 650)
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Protocol

from auctioneer.tick.limits import PRICE_MAX, check_count, check_price

__all__ = [
    "Book",
    "Mechanism",
    "Outcome",
    "first_price",
    "generalized_second_price",
    "posted_price",
    "proportional_share",
    "run",
    "second_price",
]


class Book(Protocol):
    """What a mechanism needs of a bid structure (native or reference)."""

    def __len__(self) -> int: ...
    def select(self, n: int) -> tuple[list[int], list[int]]: ...
    def bid(self, agent: int) -> tuple[int, int] | None: ...
    def items(self) -> list[tuple[int, int, int]]: ...


class Mechanism(enum.Enum):
    """The pricing rules a tick can run."""

    FIRST_PRICE = "first-price"
    """Top k win and pay their own bids. Fast, not truthful: bidders shade."""
    SECOND_PRICE = "second-price"
    """Top k win and all pay the (k+1)-th rank price (k-unit Vickrey). Truthful."""
    GSP = "gsp"
    """Top k win; the winner at rank i pays rank i+1's price. Not truthful for k > 1."""
    PROPORTIONAL = "proportional"
    """Every bidder gets supply in proportion to its bid (Kelly), capped by its units."""
    POSTED = "posted"
    """Up to k bidders at or above a posted price win and pay it. O(k), no ranking needed."""


@dataclass(frozen=True, slots=True)
class Outcome:
    """Winners in rank order, each one's payment (micro-units) and units won."""

    winners: tuple[int, ...]
    payments: tuple[int, ...]
    units: tuple[int, ...]

    @property
    def revenue(self) -> int:
        """Total paid, micro-units."""
        return sum(self.payments)


def _own_bid(book: Book, agent: int) -> int:
    bid = book.bid(agent)
    assert bid is not None, f"selected agent {agent} has no bid"
    return bid[0]


def _eligible(book: Book, agents: list[int], reserve: int) -> list[int]:
    return [a for a in agents if _own_bid(book, a) >= reserve]


def first_price(book: Book, k: int = 1, reserve: int = 0) -> Outcome:
    """Top ``k`` bidders at or above ``reserve`` win and pay their own bids. O(select k)."""
    check_price(reserve, "reserve")
    agents, _ = book.select(check_count(k, "k", 0, PRICE_MAX))
    winners = _eligible(book, agents, reserve)
    return Outcome(tuple(winners), tuple(_own_bid(book, a) for a in winners), (1,) * len(winners))


def second_price(book: Book, k: int = 1, reserve: int = 0) -> Outcome:
    """k-unit Vickrey: top ``k`` win; all pay max(reserve, (k+1)-th rank price). O(select k+1)."""
    check_price(reserve, "reserve")
    agents, prices = book.select(check_count(k, "k", 0, PRICE_MAX - 1) + 1)
    winners = _eligible(book, agents[:k], reserve)
    clearing = max(reserve, prices[k] if len(prices) > k else 0)
    return Outcome(tuple(winners), (clearing,) * len(winners), (1,) * len(winners))


def generalized_second_price(book: Book, k: int = 1, reserve: int = 0) -> Outcome:
    """GSP: the winner at rank i pays max(reserve, rank i+1's price). O(select k+1)."""
    check_price(reserve, "reserve")
    agents, prices = book.select(check_count(k, "k", 0, PRICE_MAX - 1) + 1)
    winners = _eligible(book, agents[:k], reserve)
    payments = tuple(
        max(reserve, prices[i + 1] if i + 1 < len(prices) else 0) for i in range(len(winners))
    )
    return Outcome(tuple(winners), payments, (1,) * len(winners))


def posted_price(book: Book, price: int, k: int = 1) -> Outcome:
    """Up to ``k`` bidders, in rank order, whose bid is at least ``price`` win and pay it."""
    check_price(price, "price")
    agents, _ = book.select(check_count(k, "k", 0, PRICE_MAX))
    winners = _eligible(book, agents, price)
    return Outcome(tuple(winners), (price,) * len(winners), (1,) * len(winners))


def proportional_share(book: Book, supply: int) -> Outcome:
    """Kelly's proportional share of ``supply`` units, each bidder capped at its units.

    Water-filling: bidders whose proportional share would exceed their demand
    get their demand and leave; the rest share what remains in proportion to
    their bids at the price p = (their bids) / (remaining supply), rounding by
    largest remainder (ties to the higher bid, then the lower agent id). Each
    pays p times its units, floored and never above its bid. O(N log N).
    """
    remaining = check_count(supply, "supply", 0, PRICE_MAX)
    open_ = sorted(((a, p, u) for a, p, u in book.items() if p > 0), key=lambda b: (-b[1], b[0]))
    got: dict[int, int] = {}
    while open_ and remaining:
        total = sum(p for _, p, _ in open_)
        capped = [b for b in open_ if b[2] * total <= remaining * b[1]]
        if not capped:
            break
        for agent, _, units in capped:
            got[agent] = units
            remaining -= units
        open_ = [b for b in open_ if b[0] not in got]
    total = sum(p for _, p, _ in open_)
    if open_ and remaining:
        shares = {a: remaining * p // total for a, p, _ in open_}
        leftover = remaining - sum(shares.values())
        by_remainder = sorted(open_, key=lambda b: (-(remaining * b[1] % total), -b[1], b[0]))
        for agent, _, _ in by_remainder[:leftover]:
            shares[agent] += 1
        got.update((a, s) for a, s in shares.items() if s)
    winners = sorted(got, key=lambda a: (-_own_bid(book, a), a))
    price_num, price_den = (total, remaining) if open_ and remaining else (0, 1)
    payments = tuple(min(_own_bid(book, a), got[a] * price_num // price_den) for a in winners)
    return Outcome(tuple(winners), payments, tuple(got[a] for a in winners))


def run(mechanism: Mechanism, book: Book, k: int = 1, price: int = 0) -> Outcome:
    """Run ``mechanism`` for ``k`` units (the supply, for proportional share).

    ``price`` is the posted price for POSTED and the reserve for the others
    (ignored by PROPORTIONAL).
    """
    if mechanism is Mechanism.FIRST_PRICE:
        return first_price(book, k, price)
    if mechanism is Mechanism.SECOND_PRICE:
        return second_price(book, k, price)
    if mechanism is Mechanism.GSP:
        return generalized_second_price(book, k, price)
    if mechanism is Mechanism.POSTED:
        return posted_price(book, price, k)
    return proportional_share(book, k)
