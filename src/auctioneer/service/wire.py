"""The orders' lane on the wire: ``POST /orders`` and ``POST /orders/batch`` answered by the
HTTP protocol itself, below ASGI.

Behind :class:`~auctioneer.service.fastlane.OrderLane`, a single order still
cost uvicorn's per-request work: the scope, a ``RequestResponseCycle`` with
its ``asyncio.Event``, a task, the ASGI calls through the size limits and
the lane, a starlette ``Response`` and two socket writes. For a request of
the lane's two kinds whose head is within every limit, the httptools
protocol of :mod:`~auctioneer.service.protocols` makes an :class:`OrderPost`
instead: its body is gathered in the parser's callbacks, the lane's decoder,
caller, charge and sequencer are called at once, a callback on the
sequencer's future writes the answer (a head built from uvicorn's default
headers plus the body) in one ``transport.write``, and no task runs.
Everything else, and a body the fast decoder refuses, goes the ASGI way
with the same scope and body, so the lane and the routes stay the
reference; ``tests/service/test_wire.py`` requires the same bytes from a
server without this path.

Kept from uvicorn: keep-alive and ``Connection: close``, pipelining (a post
queued behind another request starts only once that one is answered, and a
request behind it waits for its answer), flow control (the next request
waits for a paused transport to drain) and graceful shutdown (the last
answer closes the connection; a queued order is journaled by the
sequencer's own stop), the access log's line. A request uvicorn would treat
specially goes the ASGI way: ``Expect: 100-continue``, an upgrade, a
concurrency limit, a root path.

Complexity: O(head + body) per request, besides placing the orders.

Example:
    >>> from auctioneer.service.errors import read_head
    >>> json, lane = (b"content-type", b"application/json"), Lane(object(), 10, 2)
    >>> lane.head_ok(read_head([json, (b"content-length", b"5")]), 2, 64)
    5
    >>> lane.head_ok(read_head([json, (b"content-length", b"11")]), 2, 64)
    -1
    >>> lane.head_ok(read_head([(b"content-length", b"5")]), 1, 64)
    -1
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

import orjson
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, RequestResponseCycle
from uvicorn.protocols.utils import get_client_addr

from auctioneer.service.deps import caller_of
from auctioneer.service.errors import ApiError, Head, error_body
from auctioneer.service.fastbody import FastOrder, decode_batch, decode_order
from auctioneer.service.routers.orders import (
    batch_body,
    one_body,
    outcomes_of,
    placing_many,
    placing_one,
)
from auctioneer.service.runtime import Service
from auctioneer.service.schemas import OrderFields
from auctioneer.service.sequencer import Outcome

if TYPE_CHECKING:
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

__all__ = ["LANE_URLS", "Lane", "OrderPost"]

LANE_URLS = {b"/orders": True, b"/orders/batch": False}
"""The lane's request targets, each with whether it carries one order."""
_JSON = b"content-length: %d\r\ncontent-type: application/json\r\n"
_FAILED = (b"content-type: text/plain; charset=utf-8\r\ncontent-length: 21\r\n"
           b"connection: close\r\n\r\nInternal Server Error")


@dataclass(frozen=True, slots=True)
class Lane:
    """What the protocol needs to answer order posts: the service's app (its
    ``state.service`` once started) and the body and header-count limits of
    :class:`~auctioneer.service.errors.RequestLimits` (the head's bytes are the
    protocol's ``max_head``)."""

    app: Any
    max_body: int
    max_headers: int

    def head_ok(self, head: Head, fields: int, max_head: int) -> int:
        """The declared body length of a head the limits pass and the lane may answer,
        else -1 (the ASGI way answers it: 413, 431, chunked, no length, not JSON).

        ``head`` is the parsed fields' (:func:`~auctioneer.service.errors.read_head`, as
        RequestLimits and OrderLane read it), ``fields`` their count; the target is counted
        by the caller in ``max_head`` (what is left of the bound for the fields). O(1)."""
        declared = head.declared
        if (fields > self.max_headers or head.chunked or not head.json
                or head.size > max_head or not 0 < declared <= self.max_body):
            return -1
        return declared

    def service(self) -> Service | None:
        """The running service, None before the app's lifespan has started it."""
        service: Service | None = getattr(self.app.state, "service", None)
        return service


# uvicorn's default headers (a new list each second) as sent: one tuple, read and replaced
# whole, so two servers in one process (the tests run two) never mix one's list with the
# other's bytes.
_defaults: tuple[object, bytes] = (None, b"")


def _default_head(headers: list[tuple[bytes, bytes]]) -> bytes:
    global _defaults
    seen = _defaults
    if seen[0] is not headers:
        seen = _defaults = (headers, b"".join(b"%s: %s\r\n" % pair for pair in headers))
    return seen[1]


def _fields(orders: list[FastOrder]) -> list[OrderFields]:
    return orders  # type: ignore[return-value]  # read only: no other kind goes in


class OrderPost:
    """One order post on a connection, in the place of uvicorn's ``RequestResponseCycle``:
    the attributes the protocol reads of a cycle (``response_complete``, ``disconnected``,
    ``keep_alive``), its body as it arrives, its answer written whole."""

    __slots__ = ("body", "disconnected", "keep_alive", "key", "more_body", "protocol",
                 "response_complete", "scope", "service", "single", "started")

    def __init__(self, protocol: HttpToolsProtocol, service: Service, single: bool,
                 scope: Any, key: str | None, keep_alive: bool) -> None:
        self.protocol = protocol
        self.service = service
        self.single = single
        self.scope = scope  # for the ASGI way, if the fast decoder refuses the body
        self.key = key
        self.keep_alive = keep_alive
        self.body: list[bytes] = []
        self.more_body = True
        self.started = self.response_complete = self.disconnected = False

    def start(self) -> None:
        """Its turn on the connection has come (the protocol's ``_start_asgi_task``); nothing
        once the connection is closing (uvicorn starts no request after that either)."""
        if self.protocol.transport.is_closing():
            return
        self.started = True
        if not self.more_body:
            self._place()

    def complete(self) -> None:
        """The whole body has arrived (the parser's ``on_message_complete``)."""
        self.more_body = False
        if self.started:
            self._place()

    def _place(self) -> None:
        body = b"".join(self.body)
        orders = decode_order(body) if self.single else decode_batch(body)
        if orders is None:
            self._to_asgi(body)
            return
        service = self.service
        try:
            caller = caller_of(service, self.key)
            if isinstance(orders, FastOrder):
                future = placing_one(service, caller, orders)
            else:
                future = placing_many(service, caller, _fields(orders))
        except ApiError as exc:
            # Answered on the loop's next turn, as uvicorn's task would be: answered here,
            # inside the parser's callback, a refusal that closes the connection would let
            # the parser start the request behind it in the same read, unanswered.
            self.protocol.loop.call_soon(self._refuse, exc)
            return
        except Exception as exc:  # noqa: BLE001 - answered as uvicorn answers an app's error
            self.protocol.loop.call_soon(self._fail, exc)
            return
        future.add_done_callback(partial(self._answer, orders))  # no Python frame of its own

    def _answer(self, orders: FastOrder | list[FastOrder],
                future: asyncio.Future[list[Outcome]]) -> None:
        try:
            outcomes = outcomes_of(future)
            if isinstance(orders, FastOrder):
                self._write(201, b"", one_body(orders, outcomes))
            else:
                self._write(200, b"", batch_body(_fields(orders), outcomes))
        except ApiError as exc:
            self._refuse(exc)
        except BaseException as exc:  # noqa: BLE001 - a cancelled wait as well
            self._fail(exc)

    def _refuse(self, exc: ApiError) -> None:
        extra = b"".join(b"%s: %s\r\n" % (name.lower().encode("latin-1"),
                                          value.encode("latin-1"))
                         for name, value in (exc.headers or {}).items())
        self._write(exc.status, extra, orjson.dumps(error_body(exc.field, exc.message)))

    def _fail(self, exc: BaseException) -> None:
        self.protocol.logger.error("Exception in ASGI application\n", exc_info=exc)
        self.keep_alive = False
        self._send(500, STATUS_LINE[500]
                   + _default_head(self.protocol.server_state.default_headers) + _FAILED)

    def _write(self, status: int, extra: bytes, body: bytes) -> None:
        head = (STATUS_LINE[status] + _default_head(self.protocol.server_state.default_headers)
                + extra + _JSON % len(body))
        self._send(status, head + (b"\r\n" if self.keep_alive
                                   else b"connection: close\r\n\r\n") + body)

    def _send(self, status: int, answer: bytes) -> None:
        protocol = self.protocol
        if protocol.access_log:
            scope = self.scope
            protocol.access_logger.info('%s - "%s %s HTTP/%s" %d', get_client_addr(scope),
                                        "POST", scope["path"], scope["http_version"], status)
        transport = protocol.transport
        if not self.disconnected and not transport.is_closing():
            transport.write(answer)
            if not self.keep_alive:
                transport.close()
        if protocol.flow.write_paused and not transport.is_closing():
            protocol.flow.pause_reading()
            # uvicorn waits for a paused transport before its next write; here the next
            # request (which would write) waits instead.
            task = protocol.loop.create_task(self._drained())
            protocol.tasks.add(task)
            task.add_done_callback(protocol.tasks.discard)
        else:
            self.response_complete = True
            protocol.on_response_complete()

    async def _drained(self) -> None:
        await self.protocol.flow.drain()
        self.response_complete = True  # only now may the next request start
        if not self.keep_alive:  # shutdown() asked, while it waited, to end the connection
            self.protocol.transport.close()
        self.protocol.on_response_complete()

    def _to_asgi(self, body: bytes) -> None:
        """Hand the request, body and all, to the app, as uvicorn would have."""
        protocol = self.protocol
        event = asyncio.Event()
        event.set()
        cycle = RequestResponseCycle(
            scope=self.scope, transport=protocol.transport, flow=protocol.flow,
            logger=protocol.logger, access_logger=protocol.access_logger,
            access_log=protocol.access_log, default_headers=protocol.server_state.default_headers,
            message_event=event, expect_100_continue=False, keep_alive=self.keep_alive,
            on_response=protocol.on_response_complete)
        cycle.body = bytearray(body)
        cycle.more_body = False
        cycle.disconnected = self.disconnected
        self.response_complete = True  # whatever the protocol asks of this post, the cycle answers
        current: object = protocol.cycle  # the protocol's last request: this one, or a later
        if current is self:
            protocol.cycle = cycle
        protocol._start_asgi_task(cycle, protocol.app)
