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
from collections import deque
from typing import Any, Literal

import h11
import orjson
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol, RequestResponseCycle

from auctioneer.service.errors import error_body, read_head
from auctioneer.service.runtime import Service
from auctioneer.service.settings import ClusterSettings, Settings
from auctioneer.service.wire import LANE_URLS, Lane, OrderPost

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
    """httptools, counting the bytes of a head after the read that began it; with a ``lane``,
    answering order posts itself (:mod:`~auctioneer.service.wire`)."""

    max_head = 0
    lane: Lane | None = None
    # An OrderPost stands in for uvicorn's cycle: the protocol reads the same attributes.
    cycle: RequestResponseCycle | OrderPost  # type: ignore[assignment]
    pipeline: deque[tuple[RequestResponseCycle | OrderPost, Any]]  # type: ignore[assignment]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._head_open = True  # between a message's first byte and its headers' end
        self._began = False  # a message began during the read being parsed
        self._pending = 0
        # The lane's service, once running: it outlives every connection (the app's lifespan
        # starts it before the server listens and stops it after the last one closes).
        self._service: Service | None = None
        self._idle_since: float | None = None  # the last answer's time, while none is due

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._head_open, self._began, self._pending = True, True, 0

    def on_headers_complete(self) -> None:
        self._head_open = False
        lane = self.lane
        single = None if lane is None else LANE_URLS.get(self.url)
        if lane is None or single is None or not self._post(lane, single):
            super().on_headers_complete()

    def _post(self, lane: Lane, single: bool) -> bool:
        """Make the request just parsed an :class:`OrderPost` if the lane may answer it."""
        parser = self.parser
        if (parser.get_method() != b"POST" or self.expect_100_continue or self.root_path
                or parser.should_upgrade() or self.limit_concurrency is not None):
            return False
        head = read_head(self.headers)
        if lane.head_ok(head, len(self.headers), self.max_head - len(self.url)) < 0:
            return False
        service = self._service
        if service is None:
            service = self._service = lane.service()
            if service is None:
                return False
        version = parser.get_http_version()
        scope = self.scope
        scope["method"], scope["path"] = "POST", self.url.decode("ascii")
        scope["raw_path"], scope["query_string"] = self.url, b""
        if version != "1.1":
            scope["http_version"] = version
        post = OrderPost(self, service, single, scope, head.key,
                         version != "1.0" and parser.should_keep_alive())
        existing, self.cycle = self.cycle, post
        if existing is None or existing.response_complete:
            post.start()
        else:
            self.flow.pause_reading()
            self.pipeline.appendleft((post, self.app))
        return True

    def _start_asgi_task(self, cycle: RequestResponseCycle | OrderPost,
                         app: Any) -> None:
        if isinstance(cycle, OrderPost):
            # Its turn came: the request before it was answered, maybe a refusal answered
            # inside the start of its own turn. On the next turn of the loop (uvicorn starts a
            # task), so that a pipeline of refusals does not nest a call per request.
            self.loop.call_soon(cycle.start)
        else:
            super()._start_asgi_task(cycle, app)

    def on_response_complete(self) -> None:
        # uvicorn's, but with one keep-alive timer per connection: uvicorn arms a timer at
        # every answer and cancels it at every read, a call_later and a cancel (about 2 us
        # on uvloop) per request.
        self.server_state.total_requests += 1
        if self.transport.is_closing():
            return
        self._idle_since = None
        self.flow.resume_reading()
        if self.pipeline:
            cycle, app = self.pipeline.pop()
            self._start_asgi_task(cycle, app)
            if self.pipeline:
                # uvicorn reads on at every answer, so a client that pipelines without
                # reading the answers grew the queue without bound (380 MB in 15 s); read
                # on only once the queue is empty.
                self.flow.pause_reading()
        else:
            self._idle_since = self.loop.time()
            if self.timeout_keep_alive_task is None:
                self.timeout_keep_alive_task = self.loop.call_later(
                    self.timeout_keep_alive, self._idle)

    def _unset_keepalive_if_required(self) -> None:
        self._idle_since = None  # busy: the timer, when it fires, finds it so

    def _idle(self) -> None:
        """The keep-alive timer: closes the connection once ``timeout_keep_alive`` has passed
        since its last answer with nothing read since, as uvicorn's timer does; else waits
        for what is left of it (or, busy, for the next answer to arm it again)."""
        self.timeout_keep_alive_task = None
        since = self._idle_since
        if since is None:
            return
        left = since + self.timeout_keep_alive - self.loop.time()
        if left > 0:
            self.timeout_keep_alive_task = self.loop.call_later(left, self._idle)
        else:
            self.timeout_keep_alive_handler()

    def on_body(self, body: bytes) -> None:
        cycle = self.cycle
        if type(cycle) is OrderPost:
            cycle.body.append(body)  # within max_body: the head declared no more
        else:
            super().on_body(body)

    def on_message_complete(self) -> None:
        cycle = self.cycle
        if type(cycle) is OrderPost:
            cycle.complete()
        else:
            super().on_message_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        cycle = self.cycle
        if type(cycle) is OrderPost:
            cycle.disconnected = True
            self.cycle = None  # type: ignore[assignment]  # else uvicorn sets a cycle's event
        super().connection_lost(exc)
        if self.timeout_keep_alive_task is not None:
            self.timeout_keep_alive_task.cancel()
            self.timeout_keep_alive_task = None

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


def protocol(parser: Parser, max_head: int, lane: Lane | None = None) -> type[asyncio.Protocol]:
    """uvicorn's protocol class for ``parser``, refusing heads past ``max_head`` bytes; with
    httptools and a ``lane``, answering order posts below ASGI."""
    base = _BoundedHttpTools if parser == "httptools" else _BoundedH11
    name = f"Bounded{base.__mro__[1].__name__}"
    return type(name, (base,), {"max_head": max_head, "__doc__": base.__doc__,
                                **({"lane": lane} if lane is not None else {})})


def server_config(app: Any, settings: Settings | ClusterSettings, parser: Parser,
                  wire: bool = False, **options: Any) -> uvicorn.Config:
    """A uvicorn config serving ``app`` at the settings' address with ``parser``, bounded;
    with ``wire`` (the service's app only: :func:`~auctioneer.service.main.create_app`),
    order posts are answered by the protocol (httptools only)."""
    lane = Lane(app, settings.max_body, settings.max_headers) if wire else None
    return uvicorn.Config(app, host=settings.host, port=settings.port,
                          http=protocol(parser, settings.max_head, lane),
                          h11_max_incomplete_event_size=settings.max_head + 2 * _READ,
                          **options)
