"""The asyncio client: the same methods as :class:`~auctioneer.client.sync.Client`, awaited.

Example (against a running ``make run``)::

    from auctioneer.client import AsyncClient

    async with AsyncClient("http://127.0.0.1:8000", api_key=key) as ex:
        await ex.place("sell", "us-east-1/gpu.a100", price=3_000_000, quantity=2)
        async for event in ex.stream():
            print(event)
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from types import TracebackType
from typing import TypeVar

import httpx

from auctioneer.client.calls import AsyncEndpoints, Call
from auctioneer.client.errors import error_from
from auctioneer.client.sse import EventParser, StreamEvent
from auctioneer.client.sync import _timeout, answer, headers_for

__all__ = ["AsyncClient"]

T = TypeVar("T")


class AsyncClient(AsyncEndpoints):
    """The exchange at ``url``, as ``api_key``, over one pooled ``httpx.AsyncClient``."""

    __slots__ = ("_http",)

    def __init__(self, url: str, api_key: str | None = None, *, timeout_s: float = 30.0,
                 transport: httpx.AsyncBaseTransport | None = None,
                 limits: httpx.Limits | None = None) -> None:
        self._http = httpx.AsyncClient(base_url=url, headers=headers_for(api_key),
                                       timeout=timeout_s, transport=transport,
                                       limits=limits or httpx.Limits())

    async def _send(self, call: Call[T]) -> T:
        response = await self._http.request(call.method, call.path, params=call.params,
                                            json=call.body)
        return answer(call, response)

    async def stream(self) -> AsyncIterator[StreamEvent]:
        """Live market data: every trade, changed book and published price, until closed."""
        async with self._http.stream("GET", "/stream",
                                     timeout=httpx.Timeout(30.0, read=None)) as response:
            if response.status_code >= 400:
                raise error_from(response.status_code, await response.aread(),
                                 dict(response.headers))
            parser = EventParser()
            async for line in response.aiter_lines():
                for event in parser.feed(line):
                    yield event

    async def aclose(self) -> None:
        """Close the connections."""
        await self._http.aclose()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: type[BaseException] | BaseException | TracebackType | None
                        ) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        return f"AsyncClient({str(self._http.base_url)!r})"

    def with_key(self, api_key: str) -> AsyncClient:
        """A client for the same exchange as another account (shares nothing)."""
        return AsyncClient(str(self._http.base_url), api_key, timeout_s=_timeout(self._http))
