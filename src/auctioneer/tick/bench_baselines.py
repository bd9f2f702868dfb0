"""The pure-Python bid books a tick structure must beat: ``heapq`` and ``SortedList``.

Both keep the tick books' order (price highest first, then the earlier
update first) and their calling shape (``update``, ``expire``, ``select``),
so :mod:`auctioneer.tick.bench` drives them with the same timing loop as the
native structures, and the tests hold them to :mod:`auctioneer.tick.reference`.

They are written as a careful programmer would write the obvious solution,
and no slower: arguments are not checked (the benchmark feeds valid ones),
so speed-ups quoted against them are, if anything, understated.

Example:
    >>> book = HeapqBook(capacity=8)
    >>> book.update(3, 900_000); book.update(5, 750_000); book.update(1, 900_000)
    >>> book.select(2)                 # winner 3 (earlier at 900000), runner-up 1
    ([3, 1], [900000, 900000])
    >>> book.expire(3); book.price(1)  # the Vickrey price after 3 leaves
    750000
"""

from __future__ import annotations

from heapq import heapify, heappop, heappush
from typing import Protocol

from sortedcontainers import SortedList

from auctioneer.tick.limits import MAX_CAPACITY, check_count

__all__ = ["BASELINES", "HeapqBook", "SortedListBook", "TickBook"]

_Entry = tuple[int, int, int]
"""``(-price, seq, agent)``: ascending order is rank order, as seqs never repeat."""

# A compaction rebuilds the heap from the live entries once stale ones
# outnumber live ones by this slack, so the heap stays O(live) in size while
# the O(N) rebuild is amortised over at least N updates.
_SLACK = 64


class TickBook(Protocol):
    """What the tick benchmark's timing loop calls: native books and baselines alike."""

    @property
    def capacity(self) -> int: ...
    def __len__(self) -> int: ...
    def update(self, agent: int, price: int) -> None: ...
    def expire(self, agent: int) -> None: ...
    def select(self, n: int) -> tuple[list[int], list[int]]: ...


class _Baseline:
    """What both baselines share: slots, the live entries, arrival stamps, peek and price."""

    __slots__ = ("_capacity", "_live", "_seq")

    def __init__(self, capacity: int) -> None:
        self._capacity = check_count(capacity, "capacity", 1, MAX_CAPACITY)
        self._live: dict[int, _Entry] = {}
        self._seq = 0

    @property
    def capacity(self) -> int:
        """Agent slots, as the tick books have: ids run 0..capacity-1."""
        return self._capacity

    def __len__(self) -> int:
        return len(self._live)

    def __contains__(self, agent: object) -> bool:
        return agent in self._live

    def select(self, n: int) -> tuple[list[int], list[int]]:
        raise NotImplementedError

    def peek(self) -> int | None:
        """The winner, or None when the book is empty."""
        agents, _ = self.select(1)
        return agents[0] if agents else None

    def price(self, k: int = 1) -> int:
        """The (k+1)-th bid, what k Vickrey winners pay (0 if there is none)."""
        prices = self.select(k + 1)[1]
        return prices[k] if len(prices) > k else 0


class HeapqBook(_Baseline):
    """A ``heapq`` min-heap of ``(-price, seq, agent)`` with lazy deletion.

    ``update`` pushes a fresh entry and records it as the agent's current
    one; the entry it replaces stays in the heap, stale, until it surfaces at
    the top (``select`` discards it) or a compaction drops it. ``select(n)``
    pops the first ``n - 1`` live entries, reads the n-th at the top and
    pushes the popped ones back. update O(log H), select O(n log H) plus the
    stale entries it meets, H <= 2 * live + 64 heap entries.
    """

    # An entry is live iff it *is* the agent's entry in ``_live``: an
    # identity test that needs no extra field.
    __slots__ = ("_heap",)

    def __init__(self, capacity: int) -> None:
        super().__init__(capacity)
        self._heap: list[_Entry] = []

    def update(self, agent: int, price: int) -> None:
        """Insert or replace ``agent``'s bid; it arrives now."""
        self._seq += 1
        entry = (-price, self._seq, agent)
        self._live[agent] = entry
        heappush(self._heap, entry)
        if len(self._heap) > 2 * len(self._live) + _SLACK:
            self._compact()

    def expire(self, agent: int) -> None:
        """Remove ``agent``'s bid; ValueError if it has none."""
        if self._live.pop(agent, None) is None:
            raise ValueError(f"agent {agent} has no live bid")
        if len(self._heap) > 2 * len(self._live) + _SLACK:
            self._compact()

    def select(self, n: int) -> tuple[list[int], list[int]]:
        """The top ``n`` agents in rank order and their bids."""
        heap, live = self._heap, self._live
        found: list[_Entry] = []
        popped: list[_Entry] = []
        while len(found) < n and heap:
            entry = heap[0]
            if live.get(entry[2]) is not entry:
                heappop(heap)
                continue
            found.append(entry)
            if len(found) < n:
                popped.append(heappop(heap))
        for entry in popped:
            heappush(heap, entry)
        return [e[2] for e in found], [-e[0] for e in found]

    def _compact(self) -> None:
        self._heap = list(self._live.values())
        heapify(self._heap)


class SortedListBook(_Baseline):
    """A ``sortedcontainers.SortedList`` of ``(-price, seq, agent)`` and a dict for removal.

    update and expire O(log N) (a remove and an add), select O(log N + n).
    """

    __slots__ = ("_sorted",)

    def __init__(self, capacity: int) -> None:
        super().__init__(capacity)
        self._sorted = SortedList()

    def update(self, agent: int, price: int) -> None:
        """Insert or replace ``agent``'s bid; it arrives now."""
        old = self._live.get(agent)
        if old is not None:
            self._sorted.remove(old)
        self._seq += 1
        entry = (-price, self._seq, agent)
        self._live[agent] = entry
        self._sorted.add(entry)

    def expire(self, agent: int) -> None:
        """Remove ``agent``'s bid; ValueError if it has none."""
        entry = self._live.pop(agent, None)
        if entry is None:
            raise ValueError(f"agent {agent} has no live bid")
        self._sorted.remove(entry)

    def select(self, n: int) -> tuple[list[int], list[int]]:
        """The top ``n`` agents in rank order and their bids."""
        found: list[_Entry] = list(self._sorted.islice(0, n))
        return [e[2] for e in found], [-e[0] for e in found]



BASELINES: dict[str, type[_Baseline]] = {
    "heapq": HeapqBook,
    "SortedList": SortedListBook,
}
"""The baselines by the name the benchmark reports them under."""
