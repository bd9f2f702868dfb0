"""Fan-out of market data to stream subscribers, each with its own bounded queue.

The sequencer publishes ``(kind, payload)`` messages; each subscriber reads
them as server-sent events. A subscriber that falls ``limit`` messages
behind is dropped (its stream ends, the browser's EventSource reconnects),
so one slow reader never slows the sequencer or holds memory.

Example:
    >>> hub = Hub(limit=2)
    >>> sub = hub.subscribe()
    >>> hub.publish("trade", {"price": 5})
    >>> sub.get_nowait()
    b'event: trade\\ndata: {"price":5}\\n\\n'
    >>> hub.publish("a", {}); hub.publish("b", {}); hub.publish("c", {})
    >>> hub.subscribers
    0
"""

from __future__ import annotations

import asyncio
from typing import Any

import orjson

__all__ = ["Hub", "sse"]

_CLOSED = b""


def sse(kind: str, payload: Any) -> bytes:
    """One server-sent event of type ``kind`` with ``payload`` as its JSON data."""
    return b"event: " + kind.encode() + b"\ndata: " + orjson.dumps(payload) + b"\n\n"


class Hub:
    """Subscribers' queues; :meth:`publish` never blocks."""

    def __init__(self, limit: int = 10_000) -> None:
        self.limit = limit
        self._queues: set[asyncio.Queue[bytes]] = set()

    @property
    def subscribers(self) -> int:
        """How many streams are open."""
        return len(self._queues)

    def subscribe(self) -> asyncio.Queue[bytes]:
        """A new subscriber's queue; ``b""`` in it means the hub dropped it."""
        queue: asyncio.Queue[bytes] = asyncio.Queue(self.limit + 1)
        self._queues.add(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue[bytes]) -> None:
        """Forget a subscriber (its stream closed)."""
        self._queues.discard(queue)

    def publish(self, kind: str, payload: Any) -> None:
        """Send one event to every subscriber, dropping those ``limit`` behind."""
        if not self._queues:
            return
        message = sse(kind, payload)
        for queue in list(self._queues):
            if queue.qsize() >= self.limit:
                self._queues.discard(queue)
                queue.put_nowait(_CLOSED)
            else:
                queue.put_nowait(message)

    def close(self) -> None:
        """End every stream (the service is stopping)."""
        for queue in self._queues:
            queue.put_nowait(_CLOSED)
        self._queues.clear()
