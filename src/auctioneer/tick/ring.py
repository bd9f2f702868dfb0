"""Lock-free bid submission and price broadcast over shared memory.

Three structures from ``ring.c`` (``ring.h`` is the contract), each living
in a :class:`multiprocessing.shared_memory.SharedMemory` block that other
processes open by name:

* :class:`SpscRing` -- one producer, one consumer: one ring per agent or per
  producer process, drained by the tick.
* :class:`MpscRing` -- any number of producers share one ring (Vyukov's
  bounded queue: a CAS on the tail, a sequence number per cell).
* :class:`PricePage` -- the tick publishes the current prices and
  multipliers with a seqlock; readers never block it and never see a torn
  page.

The creator calls ``create`` and, when everyone is done, ``unlink``; other
processes call ``attach(name)`` and ``close``. ``push``, ``drain``,
``publish`` and ``read`` are the C methods themselves (no Python frame in
between). :mod:`auctioneer.tick.ring_reference` is the specification, with
the same API.

An SPSC ring must have exactly one producer and one consumer at a time; a
price page exactly one writer. On Python < 3.13 every process that attaches
registers the block with its resource tracker, which unlinks it when that
process's tracker exits: attach from processes started by
:mod:`multiprocessing` from the creator (they share its tracker), or keep
the creator alive until the others have closed.

Example:
    >>> with SpscRing.create(8) as ring:
    ...     other = SpscRing.attach(ring.name)       # as another process would
    ...     other.push(42, 910_000, 2), other.push(7, 0, 0)
    ...     ring.drain()
    ...     other.close(); ring.unlink()
    (True, True)
    [(42, 910000, 2), (7, 0, 0)]
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from multiprocessing.shared_memory import SharedMemory
from typing import Any, ClassVar, Self

import auctioneer.tick._ring as _ring
from auctioneer.tick.limits import (
    Prices,
    check_capacity,
)
from auctioneer.tick.ring_reference import BidSink, apply_bids

__all__ = [
    "BidSink",
    "MpscRing",
    "PricePage",
    "SpscRing",
]

_TRACK: dict[str, Any] = {"track": False} if sys.version_info >= (3, 13) else {}
"""Attachers do not register the block with their resource tracker, where Python allows."""


class _Shared:
    """A native object over a SharedMemory block: create, attach, close, unlink."""

    __slots__ = ("_native", "_shm")

    def __init__(self, shm: SharedMemory, native: Any) -> None:
        self._shm = shm
        self._native = native

    @classmethod
    def _open(cls, nbytes: int, name: str | None, make: Callable[[memoryview], Any]) -> Self:
        """Create a block (``nbytes``) or, with nbytes 0, attach to ``name``'s."""
        if nbytes:
            shm = SharedMemory(name=name, create=True, size=nbytes)
        else:
            shm = SharedMemory(name=name, **_TRACK)
        buf = shm.buf
        assert buf is not None  # a mapped block always has its buffer
        try:
            native = make(buf)
        except BaseException:
            shm.close()
            if nbytes:
                shm.unlink()
            raise
        return cls(shm, native)

    @property
    def name(self) -> str:
        """The block's name: what other processes attach by."""
        return self._shm.name

    def close(self) -> None:
        """Let go of the block (it lives on for others); this object is unusable afterwards."""
        self._native.release()
        self._shm.close()

    def unlink(self) -> None:
        """Close, and destroy the block's name (the creator calls this once)."""
        self.close()
        self._shm.unlink()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        # The native object holds an export of the block's buffer; let it go
        # first so the block's own finaliser can close cleanly.
        native = getattr(self, "_native", None)
        if native is not None:
            native.release()


class SpscRing(_Shared):
    """Single-producer single-consumer bid ring in shared memory (``ring.h``).

    ``push(agent, price, units=1, /) -> bool``: submit a bid; False when full.
    ``drain(max=None, /) -> list[(agent, price, units)]``: oldest first.
    Amortised O(1) per bid; no lock, no allocation in the ring itself.
    """

    __slots__ = ("drain", "push")
    _native_type: ClassVar[Any] = _ring.SpscRing
    _kind: ClassVar[int] = _ring.KIND_SPSC

    push: Callable[..., bool]
    drain: Callable[..., list[tuple[int, int, int]]]

    def __init__(self, shm: SharedMemory, native: Any) -> None:
        super().__init__(shm, native)
        self.push = native.push
        self.drain = native.drain

    @classmethod
    def create(cls, capacity: int, name: str | None = None) -> Self:
        """A new, empty ring of ``capacity`` bids (a power of two, 2..2**24)."""
        capacity = check_capacity(capacity)
        return cls._open(_ring.nbytes(cls._kind, capacity), name,
                         lambda buf: cls._native_type(buf, capacity))

    @classmethod
    def attach(cls, name: str) -> Self:
        """Open the ring another process created under ``name``."""
        return cls._open(0, name, cls._native_type)

    @property
    def capacity(self) -> int:
        """Bids the ring holds."""
        return int(self._native.capacity)

    @property
    def nbytes(self) -> int:
        """Bytes of shared memory the ring uses."""
        return int(self._native.nbytes)

    def __len__(self) -> int:
        return len(self._native)

    def drain_into(self, book: BidSink, max: int | None = None, /) -> tuple[int, int]:
        """Apply up to ``max`` bids to ``book`` in order; ``(taken, refused by the book)``.

        Units 0 expire the agent's bid, anything else updates it. From C the
        tick applies a ring to a book with no copy (``ring_*_drain_book``).
        """
        bids = self.drain(max)
        return len(bids), apply_bids(book, bids)

    def check(self) -> None:
        """AssertionError when an invariant is broken (call it when no one is pushing)."""
        self._native.check()


class MpscRing(SpscRing):
    """Multi-producer single-consumer bid ring (Vyukov): the same API, any producers."""

    __slots__ = ()
    _native_type: ClassVar[Any] = _ring.MpscRing
    _kind: ClassVar[int] = _ring.KIND_MPSC


class PricePage(_Shared):
    """The seqlock price page: one writer, any number of readers (``ring.h``).

    ``publish(tick, cpu_price, gpu_price, cpu_multiplier, gpu_multiplier, /)``
    replaces every field at once; ``read(tries=DEFAULT_TRIES, /)`` returns a
    consistent tuple of them. Both O(1) and wait-free for the writer.
    """

    __slots__ = ("publish", "read")

    publish: Callable[..., None]
    read: Callable[..., tuple[int, int, int, int, int]]

    def __init__(self, shm: SharedMemory, native: Any) -> None:
        super().__init__(shm, native)
        self.publish = native.publish
        self.read = native.read

    @classmethod
    def create(cls, name: str | None = None) -> Self:
        """A new page, every field 0."""
        return cls._open(_ring.PAGE_NBYTES, name, lambda buf: _ring.PricePage(buf, True))

    @classmethod
    def attach(cls, name: str) -> Self:
        """Open the page another process created under ``name``."""
        return cls._open(0, name, _ring.PricePage)

    @property
    def seq(self) -> int:
        """2 x the writes completed, +1 while one is on (the seqlock counter)."""
        return int(self._native.seq)

    def prices(self) -> Prices:
        """:meth:`read` as :class:`Prices`."""
        return Prices(*self.read())
