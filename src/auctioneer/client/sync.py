"""The synchronous client: one method per endpoint, answers as dataclasses.

Example (against a running ``make run``)::

    from auctioneer.client import Client

    with Client("http://127.0.0.1:8000", api_key=key) as ex:
        ex.place("buy", "us-east-1/gpu.a100", price=3_000_000, quantity=2)
        for event in ex.stream():
            print(event)
"""

from __future__ import annotations

from collections.abc import Iterator
from types import TracebackType
from typing import Any, TypeVar

import httpx

from auctioneer.client.calls import Call, SyncEndpoints
from auctioneer.client.errors import error_from
from auctioneer.client.sse import EventParser, StreamEvent

__all__ = ["Client"]

T = TypeVar("T")


def headers_for(api_key: str | None) -> dict[str, str]:
    """The headers every request carries."""
    return {"X-API-Key": api_key} if api_key else {}


def answer(call: Call[T], response: httpx.Response) -> T:
    """The parsed answer, or :class:`ApiError` for a 4xx or 5xx."""
    if response.status_code >= 400:
        raise error_from(response.status_code, response.content, dict(response.headers))
    return call.parse(response.json())


class Client(SyncEndpoints):
    """The exchange at ``url``, as ``api_key`` (none for market data only).

    Every method raises :class:`~auctioneer.client.errors.ApiError` when the
    exchange refuses, with the field at fault; connection failures are
    httpx's. Use it as a context manager, or call :meth:`close`.
    """

    __slots__ = ("_http",)

    def __init__(self, url: str, api_key: str | None = None, *, timeout_s: float = 30.0,
                 transport: httpx.BaseTransport | None = None) -> None:
        self._http = httpx.Client(base_url=url, headers=headers_for(api_key),
                                  timeout=timeout_s, transport=transport)

    def _send(self, call: Call[T]) -> T:
        response = self._http.request(call.method, call.path, params=call.params,
                                      json=call.body)
        return answer(call, response)

    def stream(self) -> Iterator[StreamEvent]:
        """Live market data: every trade, changed book and published price, until closed."""
        with self._http.stream("GET", "/stream", timeout=httpx.Timeout(30.0, read=None)
                               ) as response:
            if response.status_code >= 400:
                raise error_from(response.status_code, response.read(), dict(response.headers))
            parser = EventParser()
            for line in response.iter_lines():
                yield from parser.feed(line)

    def close(self) -> None:
        """Close the connections."""
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None
                 ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Client({str(self._http.base_url)!r})"

    def with_key(self, api_key: str) -> Client:
        """A client for the same exchange as another account (shares nothing)."""
        return Client(str(self._http.base_url), api_key, timeout_s=_timeout(self._http))


def _timeout(http: Any) -> float:
    read = http.timeout.read
    return float(read) if read is not None else 30.0
