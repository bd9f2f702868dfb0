"""Clients ordering through ``serve --nats`` APIs the way a careful client does, and what they saw.

:class:`Load` runs closed-loop workers sending crossing buys and sells (one
``POST /orders`` each, with its own ``Idempotency-Key``); a 503 or a dropped
connection is retried with the same key on the next API until acknowledged
or the retry horizon passes. It records every acknowledged order
(``acked``: id to quantity) and each acknowledged order's latency, from its
first send to its answer (retries included), for the benchmark. With
``bidders``, that many more workers send the buyer's bids across every
market (so across partitions, run by the coordinator), IOC and GTC in turn,
and the other workers only sell;
``bids`` keeps each acknowledged bid's answer and ``sent_bids`` every bid
sent (acknowledged or not) with its quantity.

Example:
    >>> Load.__dataclass_fields__["workers"].default
    4
"""

from __future__ import annotations

import asyncio
import itertools
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from auctioneer.service.servedcluster import PRICE, Endpoints

__all__ = ["Load"]

_RETRY_S = 30.0


@dataclass
class Load:
    """Clients sending crossing orders through the APIs until :meth:`stop`; ``acked`` maps each
    acknowledged order id to its quantity."""

    endpoints: Endpoints
    workers: int = 4
    bidders: int = 0
    acked: dict[str, int] = field(default_factory=dict)
    bids: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Each acknowledged cross-partition bid's answer, by its Idempotency-Key."""
    sent_bids: dict[str, int] = field(default_factory=dict)
    """Every cross-partition bid sent, by its Idempotency-Key: its quantity."""
    latencies_s: list[float] = field(default_factory=list)
    refused: int = 0
    retried: int = 0
    _stop: asyncio.Event = field(default_factory=asyncio.Event)
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)
    _ids: itertools.count[int] = field(default_factory=itertools.count)

    def start(self) -> Load:
        """Start the workers."""
        self._tasks = [asyncio.ensure_future(self._worker(w)) for w in range(self.workers)]
        self._tasks += [asyncio.ensure_future(self._bidder(w)) for w in range(self.bidders)]
        return self

    async def stop(self) -> None:
        """Stop sending and wait for every order in flight to be answered (or given up)."""
        self._stop.set()
        await asyncio.gather(*self._tasks)

    async def run_for(self, seconds: float) -> None:
        """Let the load run ``seconds`` more."""
        await asyncio.sleep(seconds)

    async def _worker(self, w: int) -> None:
        async with httpx.AsyncClient(timeout=10.0) as client:
            while not self._stop.is_set():
                n = next(self._ids)
                buys = n % 2 and not self.bidders  # with bidders, they are the buyers
                side, account = ("buy", "buyer") if buys else ("sell", "seller")
                # n // 2: buys and sells alternate by n's parity, so each market gets both
                market = self.endpoints.markets[n // 2 % len(self.endpoints.markets)]
                order = {"side": side, "market": market, "price": PRICE,
                         "quantity": 1 + n % 3}
                await self.send(client, w + n, account, order, f"load-{n}")

    async def _bidder(self, w: int) -> None:
        async with httpx.AsyncClient(timeout=10.0) as client:
            while not self._stop.is_set():
                n = next(self._ids)
                key = f"bid-{n}"
                bid = {"side": "buy", "markets": list(self.endpoints.markets), "price": PRICE,
                       "quantity": 1 + n % 4, "tif": ("ioc", "gtc")[n % 2]}
                self.sent_bids[key] = int(bid["quantity"])  # type: ignore[call-overload]
                answer = await self.send(client, w + n, "buyer", bid, key)
                if answer is not None:
                    self.bids[key] = answer

    async def send(self, client: httpx.AsyncClient, start: int, account: str,
                   order: dict[str, object], key: str) -> dict[str, Any] | None:
        """Send one order until acknowledged (recorded in ``acked``, its answer returned) or
        the retry horizon passes (None); start with API ``start`` mod their count, then
        alternate."""
        headers = {"X-API-Key": self.endpoints.keys[account], "Idempotency-Key": key}
        began = time.perf_counter()
        deadline = time.monotonic() + _RETRY_S
        attempt = start
        while True:
            url = self.endpoints.urls[attempt % len(self.endpoints.urls)]
            attempt += 1
            try:
                answer = await client.post(f"{url}/orders", json=order, headers=headers)
            except httpx.HTTPError:
                answer = None
            if answer is not None and answer.status_code == 201:
                self.latencies_s.append(time.perf_counter() - began)
                got: dict[str, Any] = answer.json()
                quantity = int(order["quantity"])  # type: ignore[call-overload]
                # a bid across partitions: its legs are the orders the partitions' logs hold
                for oid in [leg["order_id"] for leg in got.get("legs", [])] or [got["order_id"]]:
                    self.acked[oid] = quantity
                return got
            if answer is not None and answer.status_code != 503:
                raise AssertionError(f"{answer.status_code} {answer.text}")
            if answer is not None:
                assert answer.headers.get("Retry-After"), "a 503 without Retry-After"
                self.refused += 1
            if time.monotonic() >= deadline:
                return None  # never acknowledged: not counted
            self.retried += 1
            await asyncio.sleep(0.1)
