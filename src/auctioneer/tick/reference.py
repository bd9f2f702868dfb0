"""Pure-Python reference implementations of the five tick structures.

This module is the specification that the native core (``_core``, built from
``tick_core.c``) is tested against: the same classes, methods, results,
exceptions and messages. It favours obviously-correct code over speed:
ranking is a sort, membership is a dict. ``tick_core.h`` documents the order,
the rank prices and each structure's algorithm; this file is that text run.

Every book has agent slots ``0..capacity-1``, at most one live bid per agent,
prices in micro-units (``0..PRICE_MAX``) and a units count (>= 1). Bids rank
by price, highest first, then by arrival (earlier update first); the tier
book ranks by tier, then arrival.

Example:
    >>> book = IndexedHeap(capacity=8)
    >>> book.update(3, 900_000); book.update(5, 750_000); book.update(1, 900_000)
    >>> book.peek(), book.top(2), book.price(1)      # winner, top 2, Vickrey price
    (3, [3, 1], 900000)
    >>> book.select(3)
    ([3, 1, 5], [900000, 900000, 750000])
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar, NamedTuple

from auctioneer.tick.limits import (
    MAX_CAPACITY,
    PRICE_MAX,
    check_agent,
    check_count,
    check_price,
    check_units,
)
from auctioneer.tick.tiermap import TierMap

__all__ = ["IndexedHeap", "LazyHeap", "SampledTopK", "TierBook", "TournamentTree"]

_MASK64 = (1 << 64) - 1
_GOLDEN = 0x9E3779B97F4A7C15


class _Slot(NamedTuple):
    seq: int
    price: int
    units: int


class _Book:
    """What every structure shares: slots, arrival stamps, argument checks."""

    kind: ClassVar[int]

    def __init__(self, capacity: int) -> None:
        self._capacity = check_count(capacity, "capacity", 1, MAX_CAPACITY)
        self._slots: dict[int, _Slot] = {}
        self._seq = 0

    @property
    def capacity(self) -> int:
        """Agent slots: ids run 0..capacity-1."""
        return self._capacity

    def __len__(self) -> int:
        return len(self._slots)

    def __contains__(self, agent: object) -> bool:
        return agent in self._slots

    def bid(self, agent: int) -> tuple[int, int] | None:
        """The agent's live ``(price, units)``, or None."""
        slot = self._slots.get(check_agent(agent, self._capacity))
        return None if slot is None else (slot.price, slot.units)

    def items(self) -> list[tuple[int, int, int]]:
        """Every live bid as ``(agent, price, units)``, by agent id."""
        return [(a, s.price, s.units) for a, s in sorted(self._slots.items())]

    def update(self, agent: int, price: int, units: int = 1) -> None:
        """Insert or replace ``agent``'s bid; it arrives now. O(1) here."""
        agent = check_agent(agent, self._capacity)
        price = check_price(price)
        units = check_units(units)
        self._seq += 1
        is_new = agent not in self._slots
        self._slots[agent] = _Slot(self._seq, price, units)
        self._on_update(agent, is_new)

    def expire(self, agent: int) -> None:
        """Remove ``agent``'s bid; ValueError if it has none."""
        agent = check_agent(agent, self._capacity)
        if agent not in self._slots:
            raise ValueError(f"agent {agent} has no live bid")
        self._on_expire(agent)
        del self._slots[agent]

    def clear(self) -> None:
        """Remove every bid (parameters and random state stay)."""
        self._slots.clear()
        self._on_clear()

    def select(self, n: int) -> tuple[list[int], list[int]]:
        """The top ``n`` agents in rank order and their rank prices, one draw."""
        n = check_count(n, "n", 0, self._capacity)
        agents = self._select(n)
        return agents, [self._rank_price(a) for a in agents]

    def peek(self) -> int | None:
        """The winner, or None when the book is empty."""
        agents, _ = self.select(1)
        return agents[0] if agents else None

    def top(self, k: int) -> list[int]:
        """The ``k`` highest-ranked agents."""
        return self.select(k)[0]

    def price(self, k: int = 1) -> int:
        """Rank price of the (k+1)-th bid: what k Vickrey winners pay (0 if none)."""
        k = check_count(k, "k", 0, self._capacity - 1)
        prices = self.select(k + 1)[1]
        return prices[k] if len(prices) > k else 0

    def _check(self) -> None:
        """Assert the invariants; tests call it after every mutation."""
        seqs = [s.seq for s in self._slots.values()]
        assert len(set(seqs)) == len(seqs), "arrival stamps repeat"
        assert all(0 < q <= self._seq for q in seqs), "arrival stamp out of range"
        for agent, slot in self._slots.items():
            assert 0 <= agent < self._capacity
            assert 0 <= slot.price <= PRICE_MAX and 1 <= slot.units <= PRICE_MAX

    # Hooks the structures override.
    def _rank_key(self, agent: int) -> tuple[int, int]:
        slot = self._slots[agent]
        return (-slot.price, slot.seq)

    def _rank_price(self, agent: int) -> int:
        return self._slots[agent].price

    def _ranked(self, pool: Iterable[int] | None = None) -> list[int]:
        return sorted(self._slots if pool is None else pool, key=self._rank_key)

    def _select(self, n: int) -> list[int]:
        return self._ranked()[:n]

    def _on_update(self, agent: int, is_new: bool) -> None:
        pass

    def _on_expire(self, agent: int) -> None:
        pass

    def _on_clear(self) -> None:
        pass


class IndexedHeap(_Book):
    """Exact indexed binary max-heap (the baseline). Native: update O(log N), peek O(1)."""

    kind = 4


class TournamentTree(_Book):
    """Exact tournament tree of group winners. Native: update O(group + log(N/group))."""

    kind = 2

    def __init__(self, capacity: int, group: int = 16) -> None:
        super().__init__(capacity)
        self.group = check_count(group, "group", 1, 64)


class TierBook(_Book):
    """Stratified price tiers, FIFO inside a tier. Native: update, expire O(1).

    Ranks by tier, then arrival; rank prices are tier floors, so a winner
    paying the next rank's price never pays more than its own bid.
    """

    kind = 0

    def __init__(self, capacity: int, tiermap: TierMap | None = None) -> None:
        super().__init__(capacity)
        if tiermap is not None and not isinstance(tiermap, TierMap):
            raise TypeError(f"tiermap must be a TierMap, got {tiermap!r}")
        self.tiermap = TierMap.log() if tiermap is None else tiermap

    def _rank_key(self, agent: int) -> tuple[int, int]:
        slot = self._slots[agent]
        return (-self.tiermap.tier_of(slot.price), slot.seq)

    def _rank_price(self, agent: int) -> int:
        return self.tiermap.floor(self.tiermap.tier_of(self._slots[agent].price))


class LazyHeap(_Book):
    """Caches the top ``depth`` bids; recomputes only when the seed's conditions say.

    Recompute (an O(N) scan natively) when (a) a bid would enter the cache by
    more than ``threshold``, (b) a cached agent changes or leaves, or (c)
    ``period`` selects have passed. Each select is one quantum.
    """

    kind = 1

    def __init__(self, capacity: int, depth: int = 2, threshold: int = 0,
                 period: int = 1024) -> None:
        super().__init__(capacity)
        self.depth = check_count(depth, "depth", 1, 64)
        self.threshold = check_price(threshold, "threshold")
        # With threshold 0 the cache is exact and the forced rescan only costs:
        # the default period keeps it out of the p99.9 at N = 1000.
        self.period = check_count(period, "period", 1, PRICE_MAX)
        self._cache: list[int] = []
        self._stale = True
        self._since = 0
        self.rescans = 0
        """Cache recomputes so far (each an O(N) scan natively)."""

    def _on_update(self, agent: int, is_new: bool) -> None:
        # Staleness is tested first: a stale cache may name expired agents.
        if (
            self._stale
            or agent in self._cache
            or len(self._cache) < self.depth
            or self._slots[agent].price > self._slots[self._cache[-1]].price + self.threshold
        ):
            self._stale = True

    def _on_expire(self, agent: int) -> None:
        if agent in self._cache:
            self._stale = True

    def _on_clear(self) -> None:
        self._cache = []
        self._stale = True
        self._since = 0

    def _select(self, n: int) -> list[int]:
        if self._stale or self._since >= self.period:
            self._cache = self._ranked()[: self.depth]
            self._stale = False
            self._since = 0
            self.rescans += 1
        self._since += 1
        return self._cache[:n] if n <= self.depth else self._ranked()[:n]

    def _check(self) -> None:
        super()._check()
        assert len(self._cache) <= self.depth
        assert all(a in self._slots for a in self._cache) or self._stale


class SampledTopK(_Book):
    """Ranks a fresh uniform sample of ``samples`` live bids at each select.

    Exact when ``samples`` >= live bids; otherwise may miss the true winner
    (the benchmark measures how often). Deterministic for a given ``seed``.
    """

    kind = 3

    def __init__(self, capacity: int, samples: int = 32, seed: int = 1) -> None:
        super().__init__(capacity)
        self.samples = check_count(samples, "samples", 1, MAX_CAPACITY)
        self.seed = check_count(seed, "seed", 0, _MASK64)
        self._state = seed or _GOLDEN
        self._dense: list[int] = []
        self._where: dict[int, int] = {}

    def _next(self) -> int:
        x = self._state
        x ^= x >> 12
        x ^= (x << 25) & _MASK64
        x ^= x >> 27
        self._state = x
        return (x * 0x2545F4914F6CDD1D) & _MASK64

    def _on_update(self, agent: int, is_new: bool) -> None:
        if is_new:
            self._where[agent] = len(self._dense)
            self._dense.append(agent)

    def _on_expire(self, agent: int) -> None:
        hole = self._where.pop(agent)
        last = self._dense.pop()
        if last != agent:
            self._dense[hole] = last
            self._where[last] = hole

    def _on_clear(self) -> None:
        self._dense.clear()
        self._where.clear()

    def _select(self, n: int) -> list[int]:
        live = len(self._dense)
        if self.samples >= live:
            return self._ranked()[:n]
        sample: dict[int, None] = {}
        for _ in range(self.samples):
            sample[self._dense[((self._next() >> 32) * live) >> 32]] = None
        return self._ranked(sample)[:n]

    def _check(self) -> None:
        super()._check()
        assert sorted(self._dense) == sorted(self._slots)
        assert all(self._dense[i] == a for a, i in self._where.items())
