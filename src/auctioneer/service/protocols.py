"""uvicorn's two HTTP/1.1 parsers, with a request head bounded while it arrives.

uvicorn parses with httptools when it is installed, else with h11. httptools
buffers a header line of any length (four connections each holding an
unterminated 50 MB header grew a server by 180 MB), and h11 answers a head
past its buffer limit with a plain-text 400. The protocol classes of
:func:`protocol` refuse a head still incomplete after ``max_head`` bytes (give
or take one read of the socket) with 431 JSON naming ``headers`` and close
the connection; a head that arrives whole is judged exactly, bytes and field
count, by :class:`~auctioneer.service.errors.RequestLimits`.

Example:
    >>> protocol("h11", 1024).__name__, protocol("httptools", 1024).max_head
    ('BoundedH11Protocol', 1024)
"""

from __future__ import annotations

import asyncio
import importlib.util
from typing import Any, Literal

import h11
import orjson
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from auctioneer.service.errors import error_body
from auctioneer.service.settings import ClusterSettings, Settings

__all__ = ["PARSERS", "Parser", "default_parser", "protocol", "server_config"]

Parser = Literal["httptools", "h11"]
PARSERS: tuple[Parser, ...] = ("httptools", "h11")
"""The HTTP/1.1 parsers uvicorn may pick."""

# asyncio and uvloop read at most 256 KiB at a time: h11's own limit must lie beyond
# what can be buffered before the check below runs, or it answers its plain 400 first.
_READ = 256 << 10


def default_parser() -> Parser:
    """httptools when installed (uvicorn's own preference), else h11."""
    return "httptools" if importlib.util.find_spec("httptools") is not None else "h11"


def _refuse(transport: asyncio.Transport, max_head: int) -> None:
    body = orjson.dumps(error_body("headers", f"the request head exceeds {max_head} bytes"))
    transport.write(b"HTTP/1.1 431 Request Header Fields Too Large\r\n"
                    b"content-type: application/json\r\n"
                    b"content-length: %d\r\nconnection: close\r\n\r\n" % len(body) + body)
    transport.close()


class _BoundedHttpTools(HttpToolsProtocol):
    """httptools, counting the bytes of a head after the read that began it."""

    max_head = 0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._head_open = True  # between a message's first byte and its headers' end
        self._began = False  # a message began during the read being parsed
        self._pending = 0

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._head_open, self._began, self._pending = True, True, 0

    def on_headers_complete(self) -> None:
        self._head_open = False
        super().on_headers_complete()

    def data_received(self, data: bytes) -> None:
        self._began = False
        super().data_received(data)
        # A read that began a message may also end the previous one, so it is not counted:
        # the bound errs by one read, never against a head that fits.
        if self._head_open and not self._began and not self.transport.is_closing():
            self._pending += len(data)
            if self._pending > self.max_head:
                _refuse(self.transport, self.max_head)


class _BoundedH11(H11Protocol):
    """h11, refusing once its buffer holds more than ``max_head`` bytes of an unfinished head."""

    max_head = 0

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if (self.conn.their_state is h11.IDLE and not self.transport.is_closing()
                and len(self.conn.trailing_data[0]) > self.max_head):
            _refuse(self.transport, self.max_head)


def protocol(parser: Parser, max_head: int) -> type[asyncio.Protocol]:
    """uvicorn's protocol class for ``parser``, refusing heads past ``max_head`` bytes."""
    base = _BoundedHttpTools if parser == "httptools" else _BoundedH11
    name = f"Bounded{base.__mro__[1].__name__}"
    return type(name, (base,), {"max_head": max_head, "__doc__": base.__doc__})


def server_config(app: Any, settings: Settings | ClusterSettings, parser: Parser,
                  **options: Any) -> uvicorn.Config:
    """A uvicorn config serving ``app`` at the settings' address with ``parser``, bounded."""
    return uvicorn.Config(app, host=settings.host, port=settings.port,
                          http=protocol(parser, settings.max_head),
                          h11_max_incomplete_event_size=settings.max_head + 2 * _READ,
                          **options)
