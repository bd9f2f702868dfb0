"""Server-sent events: every trade, each changed book's depth, each published price.

``GET /stream`` answers ``text/event-stream`` with events ``trade``,
``book`` (at most five a second per market: ``{market, bids, asks}`` as
``[price, quantity]`` levels) and ``price`` (each market once a second), and
a comment every 15 s so proxies keep the connection. No key needed.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse

from auctioneer.service.broadcast import Hub
from auctioneer.service.deps import ServiceDep

__all__ = ["router", "sse_response"]

router = APIRouter(tags=["stream"])

_KEEPALIVE_S = 15.0


@router.get("/stream", response_class=StreamingResponse,
            responses={200: {"content": {"text/event-stream": {}},
                             "description": "events: trade, book, price"}})
async def stream(request: Request, service: ServiceDep) -> StreamingResponse:
    """Market data as server-sent events, live until the client goes away."""
    return sse_response(request, service.hub)


def sse_response(request: Request, hub: Hub) -> StreamingResponse:
    """``hub``'s events as a server-sent-event response, until the client goes away or the
    hub drops it; a comment every 15 s keeps proxies from closing it."""
    queue = hub.subscribe()

    async def events() -> AsyncIterator[bytes]:
        try:
            yield b": connected\n\n"
            while True:
                try:
                    message = await asyncio.wait_for(queue.get(), _KEEPALIVE_S)
                except TimeoutError:
                    if await request.is_disconnected():
                        return
                    yield b": keepalive\n\n"
                    continue
                if not message:
                    return
                yield message
        finally:
            hub.unsubscribe(queue)

    return StreamingResponse(events(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
