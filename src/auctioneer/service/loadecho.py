"""A trivial HTTP server for ``auctioneer load --echo``: the load generator's own ceiling.

It answers every request at once with a canned answer shaped like the
service's (one order result for ``POST /orders``, ``batch`` of them for
``POST /orders/batch``, ``{}`` otherwise), on one keep-alive connection per
client, in its own process like the service. Nothing is parsed beyond the
request head's ``Content-Length`` and nothing is stored, so what
``auctioneer load --echo`` measures is what the generator itself can send and
read on this machine: a service measured above that rate is measured by its
generator.

Example:
    >>> answers = canned(2)
    >>> answers[b"/orders"][:12], answers[b"/orders/batch"].count(b"order_id")
    (b'HTTP/1.1 201', 2)
"""

from __future__ import annotations

import asyncio
import sys
from typing import cast

import orjson

__all__ = ["canned", "main", "serve"]

_RESULT = {"order_id": "o17979cfe3d85cd15", "status": "open", "filled": 0, "remaining": 3,
           "trades": [], "field": None, "reason": None}


def _response(status: str, data: object) -> bytes:
    body = orjson.dumps(data)
    return (f"HTTP/1.1 {status}\r\ncontent-type: application/json\r\n"
            f"content-length: {len(body)}\r\n\r\n").encode() + body


def canned(batch: int) -> dict[bytes, bytes]:
    """The whole response to each path (anything else gets ``{}``)."""
    return {b"/orders": _response("201 Created", _RESULT),
            b"/orders/batch": _response("200 OK", {"results": [_RESULT] * batch})}


class _Echo(asyncio.Protocol):
    def __init__(self, answers: dict[bytes, bytes]) -> None:
        self.answers = answers
        self.other = _response("200 OK", {})
        self.buffer = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's does not subclass it

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while (end := self.buffer.find(b"\r\n\r\n")) >= 0:
            head = self.buffer[:end]
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            if len(self.buffer) < end + 4 + length:
                return
            self.buffer = self.buffer[end + 4 + length:]
            path = head.split(b" ", 2)[1]
            assert self.transport is not None
            self.transport.write(self.answers.get(path, self.other))


async def serve(port: int, batch: int) -> None:
    """Serve the canned answers on ``127.0.0.1:port`` until killed."""
    answers = canned(batch)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: _Echo(answers), "127.0.0.1", port)
    async with server:
        await server.serve_forever()


def main() -> None:
    """``python -c 'from auctioneer.service.loadecho import main; main()' PORT BATCH``."""
    port, batch = int(sys.argv[1]), int(sys.argv[2])
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is a dependency of the service
        asyncio.run(serve(port, batch))
    else:
        uvloop.run(serve(port, batch))
