"""``serve --nats``: a stateless HTTP API in front of the partition engines of a NATS cluster.

Every write is a command published through the
:class:`~auctioneer.service.gateway.Gateway` and answered from the partition
leader's events once they are in the event log (the acknowledgement point,
docs/scale-out.md); reads come from the gateway's projection of the log
(:class:`~auctioneer.service.gateway.ClusterReads`), or with ``--db`` from
PostgreSQL (``GET /orders/{id}``, ``/account``, ``/markets``). A limit buy
whose markets span partitions is run by the coordinator
(:mod:`~auctioneer.service.crossorders`). Any number of these
processes can serve one cluster: they share nothing but the key secret.

Routes: ``POST /orders``, ``POST /orders/batch``, ``GET|DELETE /orders/{id}``, ``GET /account``,
``GET /markets``, ``GET /cluster``, the dashboard (``/``) and its calls (``GET /orders``,
``GET /account/capacity``, ``PATCH /orders/{id}``, a market's ``ohlc``), and for admins
``POST /admin/accounts``, ``POST /admin/accounts/{id}/deposit?partition=P``,
``POST /admin/markets``, ``POST /admin/capacity``; the read side's routes (``GET /trades``, a book,
``/account/orders``, ``/account/ledger``, ``/read-side``, ``/stream``:
:mod:`~auctioneer.service.pgreads`). A write may carry ``Idempotency-Key``: retried
with the same key it is applied once and answered with the one outcome.
Each account's orders, cancels and modifies draw on a token bucket per
process (429 with ``Retry-After``, :mod:`~auctioneer.service.cluster_deps`). A
request may carry ``X-Partition-Map`` (the map the client routes by, as
``partitions=N;assign=...``); when it differs from the cluster's it is
refused (409) before anything is published. A cluster that cannot store or
apply a command in time gives 503 with ``Retry-After``.

Example:
    >>> _one_account([], "alice")["balance"]
    0
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import asdict
from typing import Annotated, Any

import orjson
from fastapi import FastAPI, Query, Request, Response

import auctioneer
from auctioneer.exchange.commands import (
    AddCapacity,
    CancelOrder,
    Deposit,
    ListMarket,
    MarketOrder,
    ModifyOrder,
    OpenAccount,
    PlaceOrder,
)
from auctioneer.exchange.engine import Exchange
from auctioneer.exchange.model import ExecutionRule, Market, Role, Side
from auctioneer.exchange.scaleout.cluster import replicas_for
from auctioneer.exchange.scaleout.coordinator import CrossBid, CrossBidError
from auctioneer.exchange.scaleout.deadline import stopped
from auctioneer.exchange.scaleout.eventlog import EventSpec
from auctioneer.exchange.scaleout.partition import PartitionMap, Router, RoutingError
from auctioneer.exchange.scaleout.stream import StreamSpec
from auctioneer.service.broadcast import Hub
from auctioneer.service.cluster_deps import (
    ADMIN,
    AccountRoles,
    AdminDep,
    CallerDep,
    GatewayDep,
    KeyDep,
    caller,
    charge,
    gateway_of,
    order_id_of,
    order_key,
    run_command,
    submit,
)
from auctioneer.service.crossorders import CrossBids, bid_result
from auctioneer.service.deps import Caller
from auctioneer.service.errors import ApiError, RequestLimits, install_handlers
from auctioneer.service.gateway import ClusterUnavailable, Gateway
from auctioneer.service.keys import KeyRing
from auctioneer.service.main import install_dashboard
from auctioneer.service.pgreads import ReadSide, install_read_routes, listed_in, tables_of
from auctioneer.service.pgstore import (
    PartitionedStore,
    account_in_partitions,
    listed_markets,
    open_orders_of,
)
from auctioneer.service.pgstore import order as pg_order
from auctioneer.service.ratelimit import RateLimiter
from auctioneer.service.routers.accounts import account_out, capacity_out
from auctioneer.service.routers.markets import BarSeconds, Limit, candles, market_out
from auctioneer.service.routers.orders import (
    answer,
    check_order,
    order_command,
    order_out,
    order_result,
    row_out,
)
from auctioneer.service.schemas import (
    AccountCreated,
    AccountIn,
    AmountIn,
    BatchIn,
    BatchOut,
    Candle,
    CapacityIn,
    CapacityOut,
    MarketIn,
    ModifyIn,
    OrderIn,
    OrderResult,
    Slug,
)
from auctioneer.service.settings import ClusterSettings

__all__ = ["ADMIN", "create_cluster_app", "open_gateway", "order_key"]

_STOP_S = 3.0


def _partition(gateway: Gateway, partition: int) -> int:
    if not 0 <= partition < gateway.partitions.count:
        raise ApiError(422, "partition", f"{partition} is out of range: the cluster has "
                       f"{gateway.partitions.count} partitions")
    return partition


async def _place_across(request: Request, caller: Caller, order: OrderIn,
                        command: PlaceOrder | MarketOrder) -> Response:
    """A bid over several partitions, through the coordinator (nothing stored when refused)."""
    gateway: Gateway = request.app.state.gateway
    if not isinstance(command, PlaceOrder) or command.side is not Side.BUY \
            or command.all_or_none or command.post_only:
        raise ApiError(422, "markets", "only a limit buy (not all-or-none, not post-only) "
                       "may list markets of several partitions")
    for p, markets in _legs(gateway.partitions, command.markets):
        check_order(gateway.exchange(p), caller,
                    order.model_copy(update={"markets_": list(markets), "market": None}))
    bid = CrossBid(command.order_id, caller.account, command.markets, command.price,
                   command.quantity, command.tif, command.ts_ns)
    bids: CrossBids = request.app.state.cross_bids
    try:
        progress = await bids.place(bid)
    except CrossBidError as exc:
        raise ApiError(422, exc.field, exc.message) from None
    except ClusterUnavailable as exc:
        raise ApiError(503, "cluster", str(exc), {"Retry-After": exc.retry_after}) from None
    return answer(bid_result(progress), 201)


def _batch_order(gateway: Gateway, caller: Caller, order: OrderIn, key: str, prefix: str
                 ) -> tuple[int, PlaceOrder | MarketOrder]:
    """Order ``prefix`` of a batch: its partition and command, after the checks (422 naming
    ``prefix`` + the field)."""
    command = order_command(caller.account, order, order_id_of(key), time.time_ns())
    try:
        spans = {gateway.partitions.of_market(m) for m in command.markets}
    except RoutingError as exc:
        field = "market" if exc.field == "markets" and order.market else exc.field
        raise ApiError(422, prefix + field, exc.message) from None
    if len(spans) > 1:
        raise ApiError(422, prefix + "markets", "a batch's order lies in one partition: send "
                       "an order across partitions alone")
    [partition] = spans
    check_order(gateway.exchange(partition), caller, order, prefix)
    return partition, command


def _legs(partitions: PartitionMap, markets: tuple[str, ...]) -> list[tuple[int, list[str]]]:
    groups: dict[int, list[str]] = {}
    for market in markets:
        groups.setdefault(partitions.of_market(market), []).append(market)
    return list(groups.items())


def create_cluster_app(settings: ClusterSettings) -> FastAPI:
    """The API of one stateless process for ``settings`` (it connects in its lifespan)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        gateway = await open_gateway(settings)
        app.state.gateway = gateway
        store = None if settings.read_db is None else await asyncio.to_thread(
            PartitionedStore.open, settings.read_db, gateway.partitions.count)
        app.state.roles = AccountRoles(lambda a: gateway.exchange(0).account(a).role, store)
        app.state.read_side = ReadSide(gateway.js, gateway.events, Hub(), store)
        app.state.read_side.start()
        app.state.cross_bids = CrossBids(gateway)
        resumer = asyncio.ensure_future(app.state.cross_bids.run())
        coordinator = asyncio.ensure_future(app.state.cross_bids.coordinate(
            f"api-{socket.gethostname()}-{os.getpid()}"))
        opener = asyncio.ensure_future(_open_admin(gateway))
        try:
            yield
        finally:
            # bounded: a task stuck in a NATS call that swallows its cancellation must not
            # keep the process from exiting on SIGTERM
            with contextlib.suppress(TimeoutError):
                await stopped((opener, coordinator, resumer), "the API's background tasks")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(app.state.read_side.stop(), _STOP_S)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(gateway.close(), _STOP_S)

    keys = KeyRing.in_dir(settings.data_dir)
    _write_admin_key(settings, keys)
    app = FastAPI(title="auctioneer exchange (cluster)", version=auctioneer.__version__,
                  lifespan=lifespan,
                  description="Stateless API over the partition engines of a NATS cluster "
                  "(docs/scale-out.md). Errors are `{\"error\", \"field\", \"details\"}`.")
    app.state.keys = keys
    app.state.limiter = RateLimiter(settings.rate, settings.burst)
    install_handlers(app)
    app.add_middleware(RequestLimits, max_body=settings.max_body, max_head=settings.max_head,
                       max_headers=settings.max_headers)
    _routes(app)
    _trading_routes(app)
    install_read_routes(app, caller, gateway_of)
    install_dashboard(app)
    return app


async def open_gateway(settings: ClusterSettings) -> Gateway:
    """The settings' gateway: R3 streams on three or more servers, R1 on fewer."""
    replicas = replicas_for(settings.nats)
    expected = (None if settings.partitions is None
                else PartitionMap.from_description(settings.partitions))
    return await Gateway.open(settings.nats, StreamSpec(replicas=replicas),
                              EventSpec(replicas=replicas), expected=expected,
                              ack_timeout_s=settings.ack_timeout_s,
                              apply_timeout_s=settings.apply_timeout_s)


def _write_admin_key(settings: ClusterSettings, keys: KeyRing) -> None:
    path = settings.data_dir / "admin.key"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(keys.key_for(ADMIN) + "\n")


async def _open_admin(gateway: Gateway) -> None:
    """Open the admin account once (the same key from every API process: applied once)."""
    while True:
        try:
            await gateway.submit(OpenAccount(ADMIN, Role.ADMIN, 0), "open-account-admin")
            return
        except ClusterUnavailable:
            await asyncio.sleep(1.0)


def _one_account(per_partition: list[dict[str, Any]], account: str) -> dict[str, Any]:
    """The account as the single-process ``/account`` has it (totals over the partitions),
    plus each partition's money under ``partitions`` (money is per partition)."""
    totals = {name: sum(row[name] for row in per_partition)
              for name in ("balance", "reserved", "available")}
    role = per_partition[0]["role"] if per_partition else None
    return {"id": account, "role": role, **totals, "partitions": per_partition}


def _quote(exchange: Exchange, market: str) -> dict[str, int | None]:
    try:
        quoted = market_out(exchange, exchange.market(market))
    except LookupError:
        return {"price": None, "best_bid": None, "best_ask": None}
    return {"price": quoted.price, "best_bid": quoted.best_bid, "best_ask": quoted.best_ask}


def _routes(app: FastAPI) -> None:
    @app.post("/orders", response_model=OrderResult, status_code=201)
    async def place_order(order: OrderIn, caller: CallerDep, gateway: GatewayDep,
                          key: KeyDep, request: Request) -> Response:
        """Place an order; answered once the partition's leader applied it (or 503).

        A buy over markets of several partitions is run by the coordinator
        (:mod:`~auctioneer.service.crossorders`): answered once its last leg is applied and
        recorded, with each leg's outcome under ``legs``."""
        charge(request, caller, 1)
        command = order_command(caller.account, order, order_id_of(key),
                                time.time_ns())
        try:  # a throwaway router: this one must not remember orders it did not place
            spans = {gateway.partitions.of_market(m) for m in command.markets}
            if len(spans) > 1:
                return await _place_across(request, caller, order, command)
            [partition] = Router(gateway.partitions).route(command)
        except RoutingError as exc:
            field = "market" if exc.field == "markets" and order.market else exc.field
            raise ApiError(422, field, exc.message) from None
        check_order(gateway.exchange(partition), caller, order)
        [applied] = await submit(gateway, command, key)
        assert isinstance(applied.command, PlaceOrder | MarketOrder)
        return answer(order_result(applied.command.order_id, order.quantity, applied.events,
                                   order), 201)

    @app.post("/orders/batch", response_model=BatchOut)
    async def place_batch(batch: BatchIn, caller: CallerDep, gateway: GatewayDep,
                          key: KeyDep, request: Request) -> Response:
        """Several orders in one request, in order, all checked before any is published (the
        single-process batch's checks, a partition's bids affordable together there).

        Order ``i`` is published under ``<key>/<i>``, so a retry with the same
        Idempotency-Key stores nothing new and gets the same results. Each order is
        applied in its own partition: across partitions a batch is not atomic, and a 503
        can leave its first orders applied (the retry completes it). An order over several
        partitions is refused (send it alone: the coordinator runs it)."""
        charge(request, caller, len(batch.orders))
        commands = [_batch_order(gateway, caller, order, f"{key}/{i}", f"orders[{i}].")
                    for i, order in enumerate(batch.orders)]
        cost: dict[int, int] = {}
        for order, (p, _) in zip(batch.orders, commands, strict=True):
            if order.side == "buy":
                cost[p] = cost.get(p, 0) + (order.max_spend or 0 if order.price is None
                                            else order.price * order.quantity)
        for p, reserve in sorted(cost.items()):
            view = gateway.exchange(p).account(caller.account)
            if reserve > view.balance - view.reserved:
                raise ApiError(422, "orders", f"the batch's bids in partition {p} reserve "
                               f"{reserve}; {view.balance - view.reserved} is available there")
        try:
            stored = await gateway.store_many([(c, f"{key}/{i}", p)
                                               for i, (p, c) in enumerate(commands)])
            applied = [await gateway.applied(copy.partition, copy.seq, copy.duplicate)
                       for copy in stored]
        except ClusterUnavailable as exc:
            raise ApiError(503, "cluster", str(exc), {"Retry-After": exc.retry_after}) from None
        results = [order_result(command.order_id, order.quantity, copy.events, order)
                   for order, (_, command), copy in zip(batch.orders, commands, applied,
                                                        strict=True)]
        return Response(orjson.dumps({"results": results}), media_type="application/json")

    def own_open(gateway: Gateway, caller: Caller, oid: str) -> tuple[int, Any]:
        partition = gateway.partition_of_order(oid)
        view = None if partition is None else gateway.exchange(partition).order(oid)
        if partition is None or view is None or view.account != caller.account:
            raise ApiError(404, "order_id", f"{oid!r} is not an open order of "
                           f"{caller.account!r}")
        return partition, view

    @app.get("/orders/{oid}")
    async def get_order(oid: str, caller: CallerDep, gateway: GatewayDep,
                        request: Request) -> dict[str, Any]:
        """One of the caller's orders: from PostgreSQL with ``--db`` (any status), else an
        open one as this process's projection of the log says now."""
        store = tables_of(request)
        if store is not None:
            row = await asyncio.to_thread(pg_order, store, oid)
            if row is None or row.account != caller.account:
                raise ApiError(404, "order_id", f"{oid!r} is not an order of "
                               f"{caller.account!r} (in the tables yet)")
            remaining = int(row.quantity) - int(row.filled) if row.status == "open" else 0
            return {"order_id": oid, "partition": int(row.partition), "status": row.status,
                    "markets": row.markets.split(","), "price": int(row.price),
                    "remaining": remaining, "side": row.side, "filled": int(row.filled)}
        partition, view = own_open(gateway, caller, oid)
        return {"order_id": oid, "partition": partition, "status": "open",
                "markets": list(view.markets), "price": view.price,
                "remaining": view.remaining, "side": view.side.value}

    @app.delete("/orders/{oid}", response_model=OrderResult)
    async def cancel_order(oid: str, caller: CallerDep, gateway: GatewayDep,
                           key: KeyDep, request: Request) -> Response:
        """Cancel the open remainder of one of the caller's orders."""
        charge(request, caller, 1)
        partition, _ = own_open(gateway, caller, oid)
        [applied] = await submit(gateway, CancelOrder(oid, caller.account, time.time_ns()),
                                  key, partition)
        return answer(order_result(oid, 0, applied.events, before=None))

    @app.get("/account")
    async def get_account(caller: CallerDep, gateway: GatewayDep,
                          request: Request) -> dict[str, Any]:
        """The caller's money summed over the partitions, and in each under ``partitions``
        (money is per partition); from PostgreSQL with ``--db``."""
        store = tables_of(request)
        if store is not None:
            rows = await asyncio.to_thread(account_in_partitions, store, caller.account)
        else:
            rows = [{"partition": p, **asdict(account_out(gateway.exchange(p),
                                                          caller.account))}
                    for p in gateway.partitions.all]
        return _one_account(rows, caller.account)

    @app.get("/markets")
    async def list_markets(gateway: GatewayDep, request: Request) -> list[dict[str, Any]]:
        """Every listed market with its partition; from PostgreSQL with ``--db``. Each has
        its ``price``, ``best_bid`` and ``best_ask`` as this process's projection says (the
        tables keep no prices), null when it does not hold the market yet."""
        store = tables_of(request)
        if store is not None:
            listed = await asyncio.to_thread(listed_markets, store)
        else:
            listed = [{"id": m.id, "market": m.id, "partition": p, "tick_size": m.tick_size}
                      for p in gateway.partitions.all for m in gateway.exchange(p).markets()]
        return [{**row, **_quote(gateway.exchange(row["partition"]), row["id"])}
                for row in listed]

    @app.get("/cluster")
    async def cluster(gateway: GatewayDep) -> dict[str, Any]:
        """The partition map and how far this process has read each partition's log."""
        return {"partition_map": gateway.partitions.describe(),
                "connected": gateway.nc.is_connected,
                "partitions": [{"partition": p, "seq": proj.seq, "log_seq": proj.log_seq,
                                "applied": proj.applied}
                               for p, proj in gateway.projections.items()]}

    @app.post("/admin/accounts", response_model=AccountCreated, status_code=201)
    async def open_account(body: AccountIn, _: AdminDep, gateway: GatewayDep,
                           key: KeyDep, request: Request) -> AccountCreated:
        """Open an account in every partition and return its API key."""
        if body.deposit:
            raise ApiError(422, "deposit", "money is per partition: deposit with "
                           "/admin/accounts/{id}/deposit?partition=P")
        await run_command(gateway, OpenAccount(body.id, Role(body.role), time.time_ns()), key,
                   rename={"account": "id"})
        ring: KeyRing = request.app.state.keys
        return AccountCreated(id=body.id, role=body.role, api_key=ring.key_for(body.id))

    @app.post("/admin/accounts/{account}/deposit")
    async def deposit(account: Slug, body: AmountIn, _: AdminDep, gateway: GatewayDep,
                      key: KeyDep, partition: Annotated[int, Query()]
                      ) -> dict[str, Any]:
        """Credit money to an account in one partition."""
        p = _partition(gateway, partition)
        await run_command(gateway, Deposit(account, body.amount, time.time_ns()), key, p)
        return {"partition": p, **asdict(account_out(gateway.exchange(p), account))}

    @app.post("/admin/markets", status_code=201)
    async def list_market(body: MarketIn, _: AdminDep, gateway: GatewayDep,
                          key: KeyDep) -> dict[str, Any]:
        """List a market in its region's partition."""
        if body.base_price % body.tick_size:
            raise ApiError(422, "base_price", f"{body.base_price} is not on the tick "
                           f"{body.tick_size}")
        market = Market(body.region, body.instance_type, body.tick_size, body.base_price,
                        ExecutionRule(body.execution), body.half_life_s)
        [applied] = await run_command(gateway, ListMarket(market, time.time_ns()), key,
                               rename={"market": "instance_type", "market.region": "region"})
        return {"market": market.id, "partition": applied.partition}

    @app.post("/admin/capacity")
    async def add_capacity(body: CapacityIn, _: AdminDep, gateway: GatewayDep,
                           key: KeyDep) -> dict[str, Any]:
        """Add capacity a provider may offer in a market."""
        [applied] = await run_command(gateway, AddCapacity(body.account, body.market, body.quantity,
                                                    time.time_ns()), key)
        return {"market": body.market, "partition": applied.partition,
                "quantity": body.quantity}


def _trading_routes(app: FastAPI) -> None:
    """What the dashboard needs besides the above: the caller's open orders, capacity, a
    modify, and a market's bars."""

    @app.get("/orders")
    async def list_orders(caller: CallerDep, gateway: GatewayDep,
                          request: Request) -> list[dict[str, Any]]:
        """The caller's open orders in every partition, oldest first, each with its
        ``partition``: from PostgreSQL with ``--db`` (``filled`` known), else this process's
        projection of the log (``filled`` and ``quantity`` null)."""
        store = tables_of(request)
        if store is not None:
            rows = await asyncio.to_thread(open_orders_of, store, caller.account)
            return [{**asdict(row_out(r)), "partition": int(r.partition)} for r in rows]
        found = [(view.ts_ns, view.order_id, p, view) for p in gateway.partitions.all
                 for view in gateway.exchange(p).orders(caller.account)]
        return [{**asdict(order_out(view, None)), "partition": p}
                for _, _, p, view in sorted(found, key=lambda f: f[:2])]

    @app.get("/account/capacity", response_model=list[CapacityOut])
    async def get_capacity(caller: CallerDep, gateway: GatewayDep) -> list[CapacityOut]:
        """The capacity the caller provides, per market (a market is in one partition), from
        this process's projection (the tables keep no allocations)."""
        return [c for p in gateway.partitions.all
                for c in capacity_out(gateway.exchange(p), caller.account)]

    @app.patch("/orders/{oid}", response_model=OrderResult)
    async def modify_order(oid: str, change: ModifyIn, caller: CallerDep,
                           gateway: GatewayDep, key: KeyDep, request: Request) -> Response:
        """Change the price and/or open quantity of one of the caller's resting orders:
        a ModifyOrder to the order's partition, answered once its leader applied it (or 503).
        ``filled`` is null (the projection keeps open quantities only)."""
        charge(request, caller, 1)
        partition = gateway.partition_of_order(oid)
        view = None if partition is None else gateway.exchange(partition).order(oid)
        if partition is None or view is None or view.account != caller.account:
            raise ApiError(404, "order_id", f"{oid!r} is not an open order of "
                           f"{caller.account!r}")
        for market_id in view.markets:
            tick = gateway.exchange(partition).market(market_id).tick_size
            if change.price is not None and change.price % tick:
                raise ApiError(422, "price", f"{change.price} is not on the tick of "
                               f"{market_id!r} ({tick})")
        quantity = view.remaining if change.quantity is None else change.quantity
        [applied] = await submit(gateway, ModifyOrder(oid, caller.account, change.price,
                                                       change.quantity, time.time_ns()),
                                  key, partition)
        return answer(order_result(oid, quantity, applied.events, before=None))

    @app.get("/markets/{region}/{instance_type}/ohlc", response_model=list[Candle])
    async def get_ohlc(region: str, instance_type: str, gateway: GatewayDep,
                       interval: BarSeconds = 60, limit: Limit = 100) -> list[Candle]:
        """A market's OHLC bars of ``interval`` seconds, oldest first, from this process's
        projection of its partition's log."""
        market = f"{region}/{instance_type}"
        return candles(listed_in(gateway, market), market, interval, limit)
