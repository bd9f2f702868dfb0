"""The discrete-event loop: a heap of ``(time, priority, seq, event)``, integer nanoseconds.

SimPy's core in a page, without its generators and callbacks, because the
simulator's speed target (10 s of a 10 kHz tick in under 10 s of wall time)
leaves about a microsecond per event for the loop itself. Time is an ``int``
of nanoseconds, so 10 kHz ticks never drift by float rounding.

Order: events pop by time, then by priority (lower first: sensor readings
before the GPU dispatch before the CPU tick at the same instant, see
:class:`Priority`), then by ``seq``, the order in which they were scheduled.
``seq`` is unique, so the heap never compares two events' handlers.

A *stream* is a source of events known ahead: an iterator of times (a
periodic tick, one agent's pre-drawn job arrivals). The loop holds only
each stream's next event and asks the iterator for the one after when it
fires, so the heap stays as small as the number of streams. Handlers are
called as ``handler(time, arg)``.

Complexity: O(log S) per event for S live streams and one-shot events.

Example:
    >>> loop = EventLoop()
    >>> seen = []
    >>> loop.every(0, 10, Priority.TICK, lambda t, a: seen.append(("tick", t)))
    >>> loop.schedule(10, Priority.SENSOR, lambda t, a: seen.append(("sensor", t)))
    >>> loop.run(until=20)
    4
    >>> seen
    [('tick', 0), ('sensor', 10), ('tick', 10), ('tick', 20)]
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Iterator
from heapq import heappop, heappush

__all__ = ["EventLoop", "Handler", "Priority"]

Handler = Callable[[int, int], None]
"""What an event runs: ``handler(time_ns, arg)``."""


class Priority(enum.IntEnum):
    """Who goes first among events at the same nanosecond (lower first).

    The plant and the prices move before anyone reads them; agents join,
    leave and bring work before the auctions that see them; the GPU dispatch
    runs before the CPU tick so that a tick reads the GPU's new utilisation.
    """

    SENSOR = 1
    JOIN = 2
    LEAVE = 3
    JOB = 4
    GPU = 5
    TICK = 6


class EventLoop:
    """A heap of pending events and the clock ``now`` (ns)."""

    __slots__ = ("_heap", "_seq", "events", "now")

    def __init__(self) -> None:
        self._heap: list[tuple[int, int, int, Handler, int, Iterator[int] | None]] = []
        self._seq = 0
        self.now = 0
        self.events = 0
        """Events run so far."""

    def __len__(self) -> int:
        return len(self._heap)

    def schedule(self, time: int, priority: int, handler: Handler, arg: int = 0) -> None:
        """Run ``handler(time, arg)`` once at ``time`` ns (not before ``now``)."""
        if time < self.now:
            raise ValueError(f"time {time} ns is before now ({self.now} ns)")
        self._seq += 1
        heappush(self._heap, (time, priority, self._seq, handler, arg, None))

    def stream(self, times: Iterable[int], priority: int, handler: Handler, arg: int = 0) -> None:
        """Run ``handler(t, arg)`` at each of ``times`` (non-decreasing ns, from ``now``)."""
        source = iter(times)
        first = next(source, None)
        if first is None:
            return
        if first < self.now:
            raise ValueError(f"stream starts at {first} ns, before now ({self.now} ns)")
        self._seq += 1
        heappush(self._heap, (first, priority, self._seq, handler, arg, source))

    def every(self, start: int, period: int, priority: int, handler: Handler,
              until: int | None = None) -> None:
        """A periodic stream: ``start``, ``start + period``, ... (up to ``until``, or forever)."""
        if period <= 0:
            raise ValueError(f"period {period} ns must be positive")
        if until is None:
            self.stream(_forever(start, period), priority, handler)
        else:
            self.stream(range(start, until + 1, period), priority, handler)

    def run(self, until: int) -> int:
        """Run every event at or before ``until`` ns; return how many ran.

        ``now`` ends at ``until``; later events stay scheduled.
        """
        heap = self._heap
        count = 0
        while heap and heap[0][0] <= until:
            time, priority, _, handler, arg, source = heappop(heap)
            self.now = time
            handler(time, arg)
            count += 1
            if source is not None:
                following = next(source, None)
                if following is not None:
                    self._seq += 1
                    heappush(heap, (following, priority, self._seq, handler, arg, source))
        self.now = max(self.now, until)
        self.events += count
        return count


def _forever(start: int, period: int) -> Iterator[int]:
    time = start
    while True:
        yield time
        time += period
