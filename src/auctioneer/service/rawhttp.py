"""A minimal HTTP/1.1 keep-alive client for the load generator's hot loop.

``httpx`` spends about 1-3 ms of CPU per request (pure-Python HTTP parsing,
anyio, its connection pool) -- as much as the service spends on a batch of 25
orders -- so on a small machine a load generator built on it measures itself.
:class:`RawHttp` writes a request on one persistent connection and reads the
status, the headers and a ``Content-Length`` body, nothing more (no chunked
bodies, redirects, TLS or proxies), like ``wrk`` does. ``auctioneer load
--client raw`` uses it; the default stays ``httpx``.

Example:
    >>> RawHttp.request_bytes("POST", "/orders", b"{}", {"X-API-Key": "k"})[:22]
    b'POST /orders HTTP/1.1\\r'
"""

from __future__ import annotations

import asyncio
import contextlib
from urllib.parse import urlsplit

__all__ = ["RawHttp"]


class RawHttp:
    """One keep-alive connection to ``url`` (``http://host:port``)."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme != "http" or parts.hostname is None:
            raise ValueError(f"url {url!r}: only http://host:port is supported")
        self.host = parts.hostname
        self.port = parts.port or 80
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    @staticmethod
    def request_bytes(method: str, path: str, body: bytes, headers: dict[str, str]) -> bytes:
        """The request as sent: request line, headers, ``Content-Length``, body."""
        lines = [f"{method} {path} HTTP/1.1", "Host: load", "Content-Type: application/json",
                 f"Content-Length: {len(body)}"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + body

    async def post(self, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        """POST ``body``; the status and the response body. Reconnects when closed."""
        if self._writer is None or self._reader is None:
            self._reader, self._writer = await asyncio.open_connection(self.host, self.port)
        reader, writer = self._reader, self._writer
        writer.write(self.request_bytes("POST", path, body, headers))
        head = await reader.readuntil(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        status = int(status_line.split(" ", 2)[1])
        length, close = 0, False
        for line in header_lines:
            name, _, value = line.partition(":")
            name = name.strip().lower()
            if name == "content-length":
                length = int(value)
            elif name == "connection" and value.strip().lower() == "close":
                close = True
        data = await reader.readexactly(length)
        if close:
            await self.close()
        return status, data

    async def close(self) -> None:
        """Close the connection."""
        if self._writer is not None:
            self._writer.close()
            with contextlib.suppress(ConnectionError):
                await self._writer.wait_closed()
        self._reader = self._writer = None
