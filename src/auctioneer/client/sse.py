"""Server-sent events from ``GET /stream``, parsed line by line into typed events.

The stream sends ``trade``, ``book`` and ``price`` events (and comments to
keep the connection); :class:`EventParser` turns lines into
:class:`StreamEvent` objects whatever the transport.

Example:
    >>> parser = EventParser()
    >>> lines = ["event: price", 'data: {"market":"a/b","price":5,"ts_ns":1}', ""]
    >>> [e for line in lines for e in parser.feed(line)]
    [StreamEvent(kind='price', data=PriceTick(market='a/b', price=5, ts_ns=1))]
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import orjson

from auctioneer.client.models import Book, PriceTick, Trade

__all__ = ["EventParser", "StreamEvent"]

_KINDS: dict[str, Callable[[Any], Trade | Book | PriceTick]] = {
    "trade": Trade.from_json, "book": Book.from_json, "price": PriceTick.from_json}


@dataclass(frozen=True, slots=True)
class StreamEvent:
    """One event: ``kind`` is ``trade``, ``book`` or ``price``; ``data`` its typed payload."""

    kind: str
    data: Trade | Book | PriceTick


class EventParser:
    """Feeds on the stream's lines; yields each event at its blank line."""

    __slots__ = ("_data", "_kind")

    def __init__(self) -> None:
        self._kind = "message"
        self._data: list[str] = []

    def feed(self, line: str) -> Iterator[StreamEvent]:
        """Take one line (without its newline); yield the event it completes, if any."""
        if not line:
            kind, data = self._kind, self._data
            self._kind, self._data = "message", []
            parse = _KINDS.get(kind)
            if data and parse is not None:  # unknown kinds are skipped, as SSE says
                yield StreamEvent(kind, parse(orjson.loads("\n".join(data))))
            return
        if line.startswith(":"):
            return
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "event":
            self._kind = value
        elif name == "data":
            self._data.append(value)
