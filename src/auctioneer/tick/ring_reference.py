"""Pure-Python reference of the bid rings and the price page: the specification.

:mod:`auctioneer.tick.ring` runs ``ring.c`` over shared memory;
this module is what it must behave like, written to be obviously right: a
ring is a :class:`collections.deque` under a lock, the page a tuple under a
lock. The classes have the same constructors, methods, results, exceptions
and messages, so the differential tests drive both with one program. Its
"shared memory" is a registry inside this process: :meth:`SpscRing.attach`
finds a ring by name among those this process created (threads may share
it, other processes may not).

A bid is ``(agent, price, units)``: agent 0..2**64-1, price 0..PRICE_MAX
micro-units, units 0..2**32-1 where 0 withdraws the agent's bid. A ring holds
``capacity`` bids (a power of two, 2..2**24) and hands them out oldest first;
``push`` on a full ring returns False and changes nothing. The price page
holds :class:`Prices`: a tick counter, the CPU and GPU prices (micro-units)
and their multipliers in parts per million (``MULTIPLIER_ONE`` is 1x).

Example:
    >>> ring = SpscRing.create(4)
    >>> ring.push(7, 850_000), ring.push(9, 910_000, 2), ring.push(7, 0, 0)
    (True, True, True)
    >>> ring.drain(2), len(ring)
    ([(7, 850000, 1), (9, 910000, 2)], 1)
    >>> ring.unlink()
"""

from __future__ import annotations

import itertools
import threading
from collections import deque
from typing import ClassVar, Protocol, Self

from auctioneer.tick.limits import (
    DEFAULT_TRIES,
    Prices,
    check_bid,
    check_capacity,
    check_max,
    check_prices,
    check_tries,
)

__all__ = [
    "BidSink",
    "MpscRing",
    "PricePage",
    "SpscRing",
    "apply_bids",
]

class BidSink(Protocol):
    """What a drained bid is applied to: any tick book, native or reference."""

    def update(self, agent: int, price: int, units: int = 1) -> None: ...

    def expire(self, agent: int) -> None: ...


def apply_bids(book: BidSink, bids: list[tuple[int, int, int]]) -> int:
    """Apply bids in order (units 0: ``expire``, else ``update``); return how many the
    book refused (agent out of its range, or a withdrawal of an absent bid).

    Example:
        >>> from auctioneer.tick.reference import IndexedHeap
        >>> book = IndexedHeap(4)
        >>> apply_bids(book, [(1, 500, 1), (2, 700, 3), (1, 0, 0), (3, 0, 0), (9, 5, 1)])
        2
        >>> book.items()
        [(2, 700, 3)]
    """
    rejected = 0
    for agent, price, units in bids:
        try:
            if units == 0:
                book.expire(agent)
            else:
                book.update(agent, price, units)
        except ValueError:
            rejected += 1
    return rejected


class _Shared:
    """What lives "in shared memory": the state and the lock guarding it."""

    def __init__(self, kind: str, capacity: int) -> None:
        self.kind = kind
        self.capacity = capacity
        self.lock = threading.Lock()
        self.bids: deque[tuple[int, int, int]] = deque()
        self.prices = Prices(0, 0, 0, 0, 0)
        self.seq = 0


_REGISTRY: dict[str, _Shared] = {}
_NAMES = itertools.count()


class _Handle:
    """A process's handle on a named shared state: create, attach, close, unlink."""

    _kind: ClassVar[str]
    _held: _Shared | None

    def __init__(self, name: str, shared: _Shared) -> None:
        self._name = name
        self._held = shared

    @classmethod
    def _create(cls, capacity: int, name: str | None) -> Self:
        if name is None:
            name = f"ref-{cls._kind.lower()}-{next(_NAMES)}"
        if name in _REGISTRY:
            raise FileExistsError(f"{name!r} already exists")
        shared = _REGISTRY[name] = _Shared(cls._kind, capacity)
        return cls(name, shared)

    @classmethod
    def attach(cls, name: str) -> Self:
        """Open the structure another handle created under ``name``."""
        shared = _REGISTRY.get(name)
        if shared is None:
            raise FileNotFoundError(f"no shared structure named {name!r}")
        if shared.kind != cls._kind:
            raise ValueError(f"the buffer holds no {cls._kind} of this version")
        return cls(name, shared)

    @property
    def name(self) -> str:
        """The name other processes attach by."""
        return self._name

    @property
    def _state(self) -> _Shared:
        if self._held is None:
            raise ValueError("this object has released its buffer")
        return self._held

    def close(self) -> None:
        """Let go of the structure (others keep it); this handle is unusable afterwards."""
        self._held = None

    def unlink(self) -> None:
        """Close, and destroy the structure's name (the creator calls this once)."""
        self.close()
        _REGISTRY.pop(self._name, None)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class SpscRing(_Handle):
    """A bounded FIFO of bids: the single-producer single-consumer ring's contract."""

    _kind = "SPSC ring"

    @classmethod
    def create(cls, capacity: int, name: str | None = None) -> Self:
        """A new, empty ring of ``capacity`` bids (a power of two, 2..2**24)."""
        return cls._create(check_capacity(capacity), name)

    @property
    def capacity(self) -> int:
        """Bids the ring holds."""
        return self._state.capacity

    def __len__(self) -> int:
        state = self._state
        with state.lock:
            return len(state.bids)

    def push(self, agent: int, price: int, units: int = 1, /) -> bool:
        """Submit one bid; False, and nothing changes, when the ring is full."""
        bid = check_bid(agent, price, units)
        state = self._state
        with state.lock:
            if len(state.bids) >= state.capacity:
                return False
            state.bids.append(bid)
            return True

    def drain(self, max: int | None = None, /) -> list[tuple[int, int, int]]:
        """Take up to ``max`` (default: all) bids, oldest first."""
        limit = None if max is None else check_max(max)
        state = self._state
        with state.lock:
            count = len(state.bids) if limit is None else min(limit, len(state.bids))
            return [state.bids.popleft() for _ in range(count)]

    def drain_into(self, book: BidSink, max: int | None = None, /) -> tuple[int, int]:
        """Apply up to ``max`` bids to ``book`` in order; ``(taken, refused by the book)``."""
        bids = self.drain(max)
        return len(bids), apply_bids(book, bids)

    def check(self) -> None:
        """AssertionError when an invariant is broken."""
        state = self._state
        assert 0 <= len(state.bids) <= state.capacity, "ring invariant broken"


class MpscRing(SpscRing):
    """The multi-producer ring: the same contract, any number of producers."""

    _kind = "MPSC ring"


class PricePage(_Handle):
    """The price page: one writer publishes :class:`Prices`, readers read whole ones."""

    _kind = "price page"

    @classmethod
    def create(cls, name: str | None = None) -> Self:
        """A new page, every field 0."""
        return cls._create(0, name)

    @property
    def seq(self) -> int:
        """2 x the writes completed (the seqlock counter; odd only mid-write)."""
        return self._state.seq

    def publish(self, tick: int, cpu_price: int, gpu_price: int, cpu_multiplier: int,
                gpu_multiplier: int, /) -> None:
        """Replace every field at once."""
        prices = check_prices(tick, cpu_price, gpu_price, cpu_multiplier, gpu_multiplier)
        state = self._state
        with state.lock:
            state.prices = prices
            state.seq += 2

    def read(self, tries: int = DEFAULT_TRIES, /) -> tuple[int, int, int, int, int]:
        """A consistent ``(tick, cpu_price, gpu_price, cpu_multiplier, gpu_multiplier)``."""
        check_tries(tries)
        state = self._state
        with state.lock:
            return tuple(state.prices)  # type: ignore[return-value]

    def prices(self) -> Prices:
        """:meth:`read` as :class:`Prices`."""
        return Prices(*self.read())

