"""Orders: place (one or a batch), list, get, modify and cancel -- the caller's own only.

What pydantic cannot judge is checked here against the engine before
anything is sequenced (the market is listed, the price on its tick, a sell
by a provider in one market, a batch's bids affordable together), so a bad
request is refused whole with a 4xx naming the field and nothing is applied.
What only matching can decide (an FOK that cannot fill, a post-only that
would cross) is the order's result. Another account's order is 404, as if
it did not exist.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Awaitable, Callable, Sequence
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Path, Response
from sqlalchemy import select

from auctioneer.exchange.commands import (
    CancelOrder,
    Command,
    MarketOrder,
    ModifyOrder,
    PlaceOrder,
)
from auctioneer.exchange.engine import Exchange, OrderView, Refusal
from auctioneer.exchange.events import Cancelled, Event, Rejected, Rested, Traded
from auctioneer.exchange.model import Role, Side, TimeInForce
from auctioneer.exchange.orderbatch import batch_answer, order_summary, place_orders
from auctioneer.exchange.queries import NotFound
from auctioneer.service.deps import Caller, CallerDep, ServiceDep, charge
from auctioneer.service.errors import ApiError
from auctioneer.service.runtime import Service
from auctioneer.service.schemas import (
    BatchIn,
    BatchOut,
    ModifyIn,
    OrderFields,
    OrderIn,
    OrderOut,
    OrderResult,
)
from auctioneer.service.sequencer import Builder, Outcome, SequencerStopped, order_id, stamped
from auctioneer.service.store import fetch
from auctioneer.service.store import orders as orders_table

__all__ = ["admit", "answer", "batch_body", "batch_commands", "batch_results", "check_order",
           "one_body", "order_command", "order_out", "order_result", "outcomes_of", "place_many",
           "place_one", "placing_many", "placing_one", "result_body", "row_out", "router"]

router = APIRouter(tags=["orders"])

OrderId = Annotated[str, Path(min_length=1, max_length=64)]


_SIDES = {side.value: side for side in Side}
# Each exchange's listed markets' ticks, as far as batch_commands has seen them: a market is
# never delisted and its tick never changes, so this is never stale, only incomplete.
_ticks: weakref.WeakKeyDictionary[Exchange, dict[str, int]] = weakref.WeakKeyDictionary()
_TIFS = {tif.value: tif for tif in TimeInForce}


def _field(prefix: str, order: OrderFields) -> str:
    return prefix + ("market" if order.market is not None else "markets")


def check_order(exchange: Exchange, caller: Caller, order: OrderFields, prefix: str = "") -> None:
    """Refuse ``order`` (ApiError naming ``prefix`` + the field) unless the engine's admission
    (:meth:`~auctioneer.exchange.Exchange.admit`) would take it.

    Funds are checked by the caller (a batch's bids are judged together).
    """
    admit(exchange, order_command(caller.account, order, "", 0), order, prefix)


def admit(exchange: Exchange, command: PlaceOrder | MarketOrder, order: OrderFields,
          prefix: str = "") -> None:
    """:func:`check_order` for ``order``'s command, already built (its id and stamp are not
    judged)."""
    try:
        exchange.admit(command, held=False)
    except Refusal as exc:
        if exc.field == "account":
            raise ApiError(403, "X-API-Key", exc.reason) from None
        field = prefix + exc.field
        if exc.field == "markets":
            field = _field(prefix, order)
            if order.market is None and exc.index is not None:
                field += f"[{exc.index}]"
        raise ApiError(422, field, exc.reason) from None


def order_command(account: str, order: OrderFields, oid: str, ts: int) -> PlaceOrder | MarketOrder:
    """The engine's command for ``order`` by ``account``, with its id and timestamp."""
    side = _SIDES[order.side]
    tif = _TIFS[order.time_in_force()]
    if order.price is None:
        return MarketOrder(oid, account, side, order.markets(), order.quantity, order.max_spend,
                           tif, ts)
    return PlaceOrder(oid, account, side, order.markets(), order.price, order.quantity, tif,
                      order.all_or_none, order.post_only, ts)


def _trade(e: Traded) -> dict[str, Any]:
    return {"id": str(e.trade_id), "market": e.market, "price": e.price,
            "quantity": e.quantity, "aggressor": e.aggressor.value, "ts_ns": e.ts_ns}


def order_result(oid: str, quantity: int, events: Sequence[Event],
                 order: OrderFields | None = None, before: int | None = 0) -> dict[str, Any]:
    """What the events of one place, modify or cancel did to order ``oid``: an
    :class:`OrderResult` as a dict (built by hand: this is the hot path).

    ``quantity`` is what the command left open before matching; ``before`` is what the order
    had filled until then (None: not known), so ``filled`` counts the order's whole life.
    """
    first = events[0] if events else None
    if isinstance(first, Rejected):
        field = first.field
        if order is not None and field == "markets" and order.market is not None:
            field = "market"
        return {"order_id": oid, "status": "rejected", "filled": before, "remaining": 0,
                "trades": [], "field": field, "reason": first.reason}
    trades = []
    now = 0
    last: Rested | Cancelled | None = None  # the order's last resting or cancelling
    for e in events:  # one pass: each event of the native engine is built when first read
        if isinstance(e, Traded):
            if e.buy_order == oid or e.sell_order == oid:
                trades.append(_trade(e))
                now += e.quantity
        elif isinstance(e, Rested | Cancelled) and e.order_id == oid:
            last = e
    reason = None
    if isinstance(last, Rested):
        status, remaining = "open", last.remaining
    elif last is not None:
        status, remaining, reason = "cancelled", 0, last.reason
    else:
        status, remaining = "filled" if now >= quantity else "open", quantity - now
    return {"order_id": oid, "status": status,
            "filled": None if before is None else before + now, "remaining": remaining,
            "trades": trades, "field": None, "reason": reason}


def _stopped(exc: SequencerStopped) -> ApiError:
    return ApiError(503, "request", str(exc))


async def _sequenced(submitted: Awaitable[list[Outcome]]) -> list[Outcome]:
    """What a ``sequencer.submit*`` call gives; 503 once the sequencer has stopped."""
    try:
        return await submitted
    except SequencerStopped as exc:
        raise _stopped(exc) from None


def _queued(service: Service, count: int, build: Builder) -> asyncio.Future[list[Outcome]]:
    """:meth:`~auctioneer.service.sequencer.Sequencer.queue_built`; 503 once stopped."""
    try:
        return service.sequencer.queue_built(count, build)
    except SequencerStopped as exc:
        raise _stopped(exc) from None


def outcomes_of(future: asyncio.Future[list[Outcome]]) -> list[Outcome]:
    """The outcomes of a done :func:`placing_one` or :func:`placing_many`; 503 if the
    sequencer stopped first."""
    try:
        return future.result()
    except SequencerStopped as exc:
        raise _stopped(exc) from None


def result_body(result: dict[str, Any]) -> bytes:
    """The result as JSON, or its rejection as a 4xx naming the field (404 for an unknown
    order)."""
    if result["status"] == "rejected":
        field = result["field"] or "body"
        raise ApiError(404 if field == "order_id" else 422, field, result["reason"])
    return orjson.dumps(result)


def answer(result: dict[str, Any], status: int = 200) -> Response:
    """:func:`result_body` as a response."""
    return Response(result_body(result), status, media_type="application/json")


@router.post("/orders", response_model=OrderResult, status_code=201,
             responses={422: {"description": "bad order, naming the field"},
                        429: {"description": "rate limited"}})
async def place_order(order: OrderIn, caller: CallerDep, service: ServiceDep) -> Response:
    """Place one order, limit or market; the answer comes after it is journaled and matched.

    A market FOK that cannot fill whole is refused (422 naming ``quantity``) and changes
    nothing."""
    return await place_one(service, caller, order)


@router.post("/orders/batch", response_model=BatchOut,
             responses={422: {"description": "a bad order, naming it (orders[i].field)"},
                        429: {"description": "rate limited"}})
async def place_batch(batch: BatchIn, caller: CallerDep, service: ServiceDep) -> Response:
    """Place several orders in one request, in order; all checked before any is placed.

    Each order's result is reported; one that matching refuses (an account
    short of funds after earlier orders of the batch traded) is ``rejected``.
    """
    return await place_many(service, caller, batch.orders)


async def place_one(service: Service, caller: Caller, order: OrderFields) -> Response:
    """``POST /orders`` for a validated body (the route's, or the fast lane's)."""
    outcomes = await _sequenced(placing_one(service, caller, order))
    return Response(one_body(order, outcomes), 201, media_type="application/json")


def placing_one(service: Service, caller: Caller, order: OrderFields
                ) -> asyncio.Future[list[Outcome]]:
    """Charge the caller for ``order`` and queue it (an :class:`ApiError` if refused):
    ``POST /orders`` up to the wait for the journal (:func:`one_body` answers)."""
    charge(service, caller, 1)
    exchange, account = service.exchange, caller.account

    def build(ts: int) -> list[Command]:
        command = order_command(account, order, order_id(ts), ts)
        admit(exchange, command, order)
        return [command]

    return _queued(service, 1, build)


def one_body(order: OrderFields, outcomes: list[Outcome]) -> bytes:
    """The body of ``POST /orders``'s 201 for ``order``'s outcome; an :class:`ApiError` if
    matching rejected it."""
    [(command, events)] = outcomes
    assert isinstance(command, PlaceOrder | MarketOrder)
    oid = command.order_id
    return result_body(order_summary(oid, order.quantity, events)
                       or order_result(oid, order.quantity, events, order))


async def place_many(service: Service, caller: Caller, orders: Sequence[OrderFields]
                     ) -> Response:
    """``POST /orders/batch`` for validated orders (the route's, or the fast lane's)."""
    listed = list(orders)
    outcomes = await _sequenced(placing_many(service, caller, listed))
    return Response(batch_body(listed, outcomes), 200, media_type="application/json")


def placing_many(service: Service, caller: Caller, orders: list[OrderFields]
                 ) -> asyncio.Future[list[Outcome]]:
    """Charge the caller for ``orders`` and queue them (an :class:`ApiError` if any is
    refused): ``POST /orders/batch`` up to the wait (:func:`batch_body` answers)."""
    charge(service, caller, len(orders))
    exchange, account = service.exchange, caller.account
    return _queued(service, len(orders),
                   lambda first: batch_commands(exchange, account, orders, first))


def batch_body(orders: list[OrderFields], outcomes: list[Outcome], fast: bool = True) -> bytes:
    """The answer's body, ``{"results": [each order's result]}``; written in C from the
    native engine's events (:func:`~auctioneer.exchange.orderbatch.batch_answer`) where it
    can, with ``fast``, else from :func:`batch_results`."""
    return (fast and batch_answer(orders, outcomes)
            or orjson.dumps({"results": batch_results(orders, outcomes, fast)}))


def batch_results(orders: Sequence[OrderFields], outcomes: Sequence[Outcome], fast: bool = True
                  ) -> list[dict[str, Any]]:
    """Each order's :func:`order_result`; read from the native engine's events in C
    (:func:`~auctioneer.exchange.orderbatch.order_summary`) where it can, with ``fast``."""
    results = []
    for order, (command, events) in zip(orders, outcomes, strict=True):
        assert isinstance(command, PlaceOrder | MarketOrder)
        oid = command.order_id
        results.append(fast and order_summary(oid, order.quantity, events)
                       or order_result(oid, order.quantity, events, order))
    return results


def batch_commands(exchange: Exchange, account: str, orders: list[OrderFields], first: int,
                   fast: bool = True) -> list[Command]:
    """The commands of a batch of ``orders`` by ``account`` stamped from ``first``, each
    admitted (the first refused raises an :class:`ApiError` naming ``orders[i].<field>``), and
    the bids' total checked against the account's available money.

    C builds and admits the plain limit orders
    (:func:`~auctioneer.exchange.orderbatch.place_orders`); each other order, and all of
    them without ``fast`` (the reference), is built and admitted here.
    """
    commands: list[Command] = []
    cost, i = 0, 0
    try:
        role: Role | None = exchange.account(account).role
    except NotFound:
        role = None
    ticks = _ticks.setdefault(exchange, {}) if fast else {}
    while True:
        if fast:
            i, more = place_orders(orders, i, commands, account, role, ticks, first)  # type: ignore[arg-type]
            cost += more
        if i == len(orders):
            break
        order, ts = orders[i], first + i
        command = order_command(account, order, order_id(ts), ts)
        admit(exchange, command, order, f"orders[{i}].")
        commands.append(command)
        if order.side == "buy":
            cost += (order.max_spend or 0 if order.price is None
                     else order.price * order.quantity)
        for market in command.markets:  # listed, and never delisted: C may judge it now
            ticks[market] = exchange.market(market).tick_size
        i += 1
    view = exchange.account(account)
    if cost > view.balance - view.reserved:
        raise ApiError(422, "orders", f"the batch's bids reserve {cost}; "
                       f"{view.balance - view.reserved} is available")
    return commands


def order_out(view: OrderView, filled: int | None) -> OrderOut:
    """An open order as the engine holds it (``filled``: from the tables, None if unknown)."""
    # Only a GTC order rests, so an open order's time in force is known without the tables.
    return OrderOut(id=view.order_id, account=view.account, side=view.side.value,
                    markets=tuple(view.markets), price=view.price,
                    quantity=None if filled is None else filled + view.remaining,
                    filled=filled, remaining=view.remaining, status="open",
                    tif=TimeInForce.GTC.value, ts_ns=view.ts_ns)


def row_out(row: Any) -> OrderOut:
    """An order as its ``orders`` row says."""
    open_now = row.status == "open"
    return OrderOut(id=row.id, account=row.account, side=row.side,
                    markets=tuple(row.markets.split(",")), price=int(row.price),
                    quantity=int(row.quantity), filled=int(row.filled),
                    remaining=int(row.quantity - row.filled) if open_now else 0,
                    status=row.status, tif=row.tif, ts_ns=int(row.placed_ns))


async def _rows(service: Service, ids: Sequence[str]) -> dict[str, Any]:
    if not ids:
        return {}
    rows = await asyncio.to_thread(fetch, service.db,
                                   select(orders_table).where(orders_table.c.id.in_(ids)))
    return {row.id: row for row in rows}


async def _with_filled(service: Service, views: Callable[[], list[OrderView]]
                       ) -> list[tuple[OrderView, int | None]]:
    """The open orders ``views()`` returns, each with what it has filled.

    The engine keeps only an order's open quantity; what it filled is in its row, which is
    right once it agrees with the engine (quantity less filled is the open quantity). Rows
    that disagree lag the engine: wait for the tables (up to a second) and read again;
    still behind (a follower restarting), filled is None.
    """
    rows = await _rows(service, [v.order_id for v in views()])
    now = views()
    if any(not _agrees(rows.get(v.order_id), v) for v in now):
        await service.caught_up()
        rows = await _rows(service, [v.order_id for v in views()])
        now = views()
    return [(v, int(rows[v.order_id].filled) if _agrees(rows.get(v.order_id), v) else None)
            for v in now]


def _agrees(row: Any, view: OrderView) -> bool:
    return (row is not None and row.status == "open"
            and int(row.quantity) - int(row.filled) == view.remaining)


def _own_open(service: Service, caller: Caller, oid: str) -> OrderView:
    view = service.exchange.order(oid)
    if view is None or view.account != caller.account:
        raise ApiError(404, "order_id", f"{oid!r} is not an open order of {caller.account!r}")
    return view


def _own_open_now(service: Service, caller: Caller, oid: str) -> Callable[[], list[OrderView]]:
    def views() -> list[OrderView]:
        view = service.exchange.order(oid)
        return [view] if view is not None and view.account == caller.account else []
    return views


async def _own_open_filled(service: Service, caller: Caller, oid: str
                           ) -> tuple[OrderView, int | None]:
    """:func:`_own_open` with what the order has filled (404 if it closes meanwhile)."""
    _own_open(service, caller, oid)
    known = await _with_filled(service, _own_open_now(service, caller, oid))
    return known[0] if known else (_own_open(service, caller, oid), None)


@router.get("/orders", response_model=list[OrderOut])
async def list_orders(caller: CallerDep, service: ServiceDep) -> list[OrderOut]:
    """The caller's open orders, oldest first."""
    return [order_out(v, filled) for v, filled in
            await _with_filled(service, lambda: service.exchange.orders(caller.account))]


@router.get("/orders/{oid}", response_model=OrderOut, responses={404: {"description": "none"}})
async def get_order(oid: OrderId, caller: CallerDep, service: ServiceDep) -> OrderOut:
    """One of the caller's orders: open ones from the engine, done ones from the tables.

    The tables lag the engine by at most a few group commits, so an order
    done a moment ago may briefly be 404.
    """
    opened = await _with_filled(service, _own_open_now(service, caller, oid))
    if opened:
        return order_out(*opened[0])
    row = (await _rows(service, [oid])).get(oid)
    if row is None or row.account != caller.account:
        raise ApiError(404, "order_id", f"{oid!r} is not an order of {caller.account!r}")
    return row_out(row)


@router.delete("/orders/{oid}", response_model=OrderResult,
               responses={404: {"description": "not an open order of the caller"}})
async def cancel_order(oid: OrderId, caller: CallerDep, service: ServiceDep) -> Response:
    """Cancel the open remainder of one of the caller's orders."""
    charge(service, caller, 1)
    view, filled = await _own_open_filled(service, caller, oid)
    [(_, events)] = await _sequenced(service.sequencer.submit(
        [stamped(CancelOrder, oid, caller.account)]))
    # Orders queued ahead of the cancel may still trade with it: what it filled is its
    # quantity less what the cancel took away.
    cut = next((e.remaining for e in events if isinstance(e, Cancelled)), None)
    before = None if filled is None or cut is None else filled + view.remaining - cut
    return answer(order_result(oid, 0, events, before=before))


@router.patch("/orders/{oid}", response_model=OrderResult,
              responses={404: {"description": "not an open order of the caller"},
                         422: {"description": "bad change, naming the field"}})
async def modify_order(oid: OrderId, change: ModifyIn, caller: CallerDep,
                       service: ServiceDep) -> Response:
    """Change the price and/or open quantity of one of the caller's resting orders.

    It keeps its time priority only when the price is unchanged and the
    quantity goes down; otherwise it may trade at once, like a new order.
    """
    charge(service, caller, 1)
    view, filled = await _own_open_filled(service, caller, oid)
    for market_id in view.markets:
        tick = service.exchange.market(market_id).tick_size
        if change.price is not None and change.price % tick:
            raise ApiError(422, "price", f"{change.price} is not on the tick of "
                           f"{market_id!r} ({tick})")
    quantity = view.remaining if change.quantity is None else change.quantity
    [(_, events)] = await _sequenced(service.sequencer.submit(
        [stamped(ModifyOrder, oid, caller.account, change.price, change.quantity)]))
    return answer(order_result(oid, quantity, events, before=filled))
