"""The orders' fast lane: ``POST /orders`` and ``POST /orders/batch`` without FastAPI's routing.

Placing orders is nearly all of the service's traffic, and for one order
FastAPI's routing, dependency solving and pydantic took about three quarters
of the server's CPU (py-spy, ``auctioneer load --batch 1``). :class:`OrderLane`
is ASGI middleware, inside :class:`~auctioneer.service.errors.RequestLimits`
(so the size limits hold) and in front of FastAPI's own middleware
(:func:`~auctioneer.service.main.create_app`), that answers those two requests itself: it reads
the body, decodes it with :mod:`~auctioneer.service.fastbody`, finds the
caller (:func:`~auctioneer.service.deps.caller_of`) and calls the routes' own
:func:`~auctioneer.service.routers.orders.place_one` and
:func:`~auctioneer.service.routers.orders.place_many`, so charging, checks,
sequencing and answers are the routes'. A body the fast decoder does not
accept, or one not sent as ``application/json``, goes on to the FastAPI route
unchanged (nothing has been charged yet), which validates it with pydantic
and words the error; ``/openapi.json`` still documents both routes.
``tests/service/test_fastlane.py`` sends the same requests to an app with and
without the lane and requires the same answers.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from auctioneer.service.deps import caller_of
from auctioneer.service.errors import ApiError, error_response, read_head
from auctioneer.service.fastbody import FastOrder, decode_batch, decode_order
from auctioneer.service.routers.orders import place_many, place_one
from auctioneer.service.runtime import Service

__all__ = ["OrderLane"]

_ONE, _MANY = "/orders", "/orders/batch"


class OrderLane:
    """ASGI middleware answering well-formed order posts; see the module docstring."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path")
        if scope["type"] != "http" or scope["method"] != "POST" or path not in (_ONE, _MANY):
            await self.app(scope, receive, send)
            return
        head = read_head(scope["headers"])
        body = await _body(receive)
        if body is None:
            return  # the client left, or the body passed its limit (RequestLimits answers)
        orders = None
        if head.json:
            orders = decode_order(body) if path == _ONE else decode_batch(body)
        if orders is None:
            await self.app(scope, _replay(body, receive), send)
            return
        service: Service = scope["app"].state.service
        try:
            caller = caller_of(service, head.key)
            if isinstance(orders, FastOrder):
                response = await place_one(service, caller, orders)
            else:
                response = await place_many(service, caller, orders)
        except ApiError as exc:
            response = error_response(exc.status, exc.field, exc.message, headers=exc.headers)
        await send({"type": "http.response.start", "status": response.status_code,
                    "headers": response.raw_headers})
        await send({"type": "http.response.body", "body": response.body})


async def _body(receive: Receive) -> bytes | None:
    """The whole request body; None if the client disconnected first."""
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return None
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    """``receive`` for the app behind: ``body`` first, then the connection's own messages."""
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replayed
