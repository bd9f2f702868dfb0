"""``serve --nats --db postgresql://...``: the API processes project into PostgreSQL and read it.

Every API process runs a :class:`ReadSide`: for each partition it tries to
become that partition's projector (:class:`~auctioneer.service.pgprojector.PartitionProjector`,
one per partition across all processes by an advisory lock) and, while it
holds the lock, follows the partition's event log into its schema; a
process that cannot take the lock retries every ``retry_s``, so when the
projecting process dies (its session and lock with it) another takes over
and resumes from ``projected_seq``. :func:`install_read_routes` adds the
routes that read the merged views and the merged SSE stream:

* ``GET /trades?market=&limit=``, ``GET /markets/{region}/{instance_type}/book``
  (public), ``GET /account/orders``, ``GET /account/ledger`` (the caller's),
  ``GET /read-side`` (each partition's ``projected_seq``: how far the tables
  are behind the log);
* ``GET /stream``: every partition's trades and prices as server-sent events,
  merged in the order the event stream stored them
  (:mod:`~auctioneer.service.partitionfeed`).

Without ``--db``, ``/trades`` and a book are read from the API process's projection of
the log (what the dashboard needs), the caller's and ``/read-side`` routes answer 404
naming ``db``; the stream works either way.

Example:
    >>> READ_ROUTES[0]
    '/trades'
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from dataclasses import asdict
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Query, Request
from fastapi.responses import StreamingResponse
from nats.js import JetStreamContext

from auctioneer.exchange.engine import Exchange
from auctioneer.exchange.scaleout.eventlog import EventSpec
from auctioneer.exchange.scaleout.partition import RoutingError
from auctioneer.service.broadcast import Hub
from auctioneer.service.deps import Caller
from auctioneer.service.errors import ApiError
from auctioneer.service.gateway import ClusterReads
from auctioneer.service.partitionfeed import merge_partitions
from auctioneer.service.pgprojector import PartitionProjector, ProjectorBusy, follow
from auctioneer.service.pgstore import PartitionedStore, book, ledger_of, orders_of, progress
from auctioneer.service.pgstore import trades as trades_of
from auctioneer.service.routers.markets import trade_out
from auctioneer.service.routers.stream import sse_response

__all__ = ["READ_ROUTES", "ReadSide", "install_read_routes", "listed_in", "projected_book",
           "projected_trades", "tables_of"]

READ_ROUTES = ("/trades", "/markets/{region}/{instance_type}/book", "/account/orders",
               "/account/ledger", "/read-side", "/stream")


class ReadSide:
    """The projectors this process holds, and the merged SSE feed, as background tasks."""

    def __init__(self, js: JetStreamContext, events: EventSpec, hub: Hub,
                 store: PartitionedStore | None, *, retry_s: float = 1.0) -> None:
        self.js, self.events, self.hub, self.store = js, events, hub, store
        self.retry_s = retry_s
        self.projecting: set[int] = set()
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        """The feed, and a projector loop per partition when there is a store."""
        self._tasks.append(asyncio.ensure_future(
            merge_partitions(self.js, self.hub, self.events)))
        if self.store is not None:
            self._tasks += [asyncio.ensure_future(self._project(p))
                            for p in range(self.store.count)]

    async def _project(self, partition: int) -> None:
        assert self.store is not None
        while True:
            try:
                projector = await asyncio.to_thread(PartitionProjector, self.store, partition)
            except ProjectorBusy:
                await asyncio.sleep(self.retry_s)
                continue
            self.projecting.add(partition)
            try:
                await follow(self.js, projector, self.events)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the database or the log went away: let go, retry
                print(f"auctioneer serve: projecting partition {partition}: {exc}",
                      file=sys.stderr, flush=True)
            finally:
                self.projecting.discard(partition)
                with contextlib.suppress(Exception):
                    await asyncio.to_thread(projector.close)
            await asyncio.sleep(self.retry_s)

    async def stop(self) -> None:
        """Cancel every task; the locks go with the projectors."""
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self.hub.close()
        if self.store is not None:
            self.store.dispose()


def _store(request: Request) -> PartitionedStore:
    store = tables_of(request)
    if store is None:
        raise ApiError(404, "db", "this API process has no read side: serve --nats "
                       "--db postgresql://...")
    return store


StoreDep = Annotated[PartitionedStore, Depends(_store)]
Limit = Annotated[int, Query(ge=1, le=1000)]


def tables_of(request: Request) -> PartitionedStore | None:
    """The PostgreSQL read side when the process was given ``--db``, else None."""
    store: PartitionedStore | None = request.app.state.read_side.store
    return store


def projected_trades(reads: ClusterReads, market: str | None, limit: int
                     ) -> list[dict[str, Any]]:
    """The latest trades (of ``market``, or of every market) in the projection, newest first;
    ids ``<partition>/<trade_id>`` as in the tables."""
    found = [(t.ts_ns, p, t) for p in reads.partitions.all
             for m in reads.exchange(p).markets() if market in (None, m.id)
             for t in reads.exchange(p).trades(m.id, limit)]
    found.sort(key=lambda f: (f[0], f[1], f[2].trade_id), reverse=True)
    return [{**asdict(trade_out(t)), "id": f"{p}/{t.trade_id}"} for _, p, t in found[:limit]]


def listed_in(reads: ClusterReads, market: str) -> Exchange:
    """The projection of ``market``'s partition (404 ``market`` if it is not listed there)."""
    try:
        exchange = reads.exchange(reads.partitions.of_market(market))
        exchange.market(market)
    except (LookupError, RoutingError):
        raise ApiError(404, "market", f"market {market!r} is not listed") from None
    return exchange


def projected_book(reads: ClusterReads, market: str, depth: int
                   ) -> tuple[list[tuple[int, int, int]], list[tuple[int, int, int]]]:
    """``market``'s levels in the projection of its partition."""
    bids, asks = listed_in(reads, market).book(market, depth)
    return list(bids), list(asks)


def install_read_routes(app: FastAPI, caller: Any, projection: Any) -> None:
    """Add the read routes to ``app`` (``caller``: the app's dependency naming the caller;
    ``projection``: the one giving its :class:`ClusterReads`, read without ``--db``)."""
    who_calls = Depends(caller)
    projected = Depends(projection)

    @app.get("/trades")
    async def get_trades(request: Request, market: str | None = None, limit: Limit = 100,
                         reads: ClusterReads = projected) -> list[dict[str, Any]]:
        """The latest trades of every partition (or of ``market``), newest first (from the
        projection without ``--db``)."""
        store = tables_of(request)
        if store is None:
            return projected_trades(reads, market, limit)
        return await asyncio.to_thread(trades_of, store, market, limit)

    @app.get("/markets/{region}/{instance_type}/book")
    async def get_book(region: str, instance_type: str, request: Request,
                       depth: Annotated[int, Query(ge=1, le=100)] = 10,
                       reads: ClusterReads = projected) -> dict[str, Any]:
        """A market's depth from the projected open orders (tables, or the projection)."""
        market = f"{region}/{instance_type}"
        store = tables_of(request)
        bids, asks = (projected_book(reads, market, depth) if store is None
                      else await asyncio.to_thread(book, store, market, depth))
        return {"market": market, "bids": [[p, q] for p, q, _ in bids],
                "asks": [[p, q] for p, q, _ in asks]}

    @app.get("/account/orders")
    async def get_orders(store: StoreDep, limit: Limit = 100,
                         who: Caller = who_calls) -> list[dict[str, Any]]:
        """The caller's orders in every partition, newest first."""
        rows = await asyncio.to_thread(orders_of, store, who.account, limit)
        return [{"partition": r.partition, "id": r.id, "side": r.side,
                 "markets": r.markets.split(","), "price": int(r.price),
                 "quantity": int(r.quantity), "filled": int(r.filled), "status": r.status,
                 "ts_ns": int(r.placed_ns)} for r in rows]

    @app.get("/account/ledger")
    async def get_ledger(store: StoreDep, limit: Limit = 100,
                         who: Caller = who_calls) -> list[dict[str, Any]]:
        """The caller's money movements in every partition, newest first."""
        rows = await asyncio.to_thread(ledger_of, store, who.account, limit)
        return [{"partition": r.partition, "seq": int(r.seq), "amount": int(r.amount),
                 "kind": r.kind, "ref": r.ref, "ts_ns": int(r.ts_ns)} for r in rows]

    @app.get("/read-side")
    async def get_read_side(request: Request, store: StoreDep) -> dict[str, Any]:
        """Each partition's projected command sequence; which ones this process projects."""
        done = await asyncio.to_thread(progress, store)
        side: ReadSide = request.app.state.read_side
        return {"projected_seq": {str(p): s for p, s in done.items()},
                "projecting_here": sorted(side.projecting)}

    @app.get("/stream", response_class=StreamingResponse)
    async def stream(request: Request) -> StreamingResponse:
        """Every partition's trades and prices as server-sent events, merged."""
        return sse_response(request, request.app.state.read_side.hub)
