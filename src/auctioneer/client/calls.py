"""Every endpoint of the exchange once, as a request to make and a parser of its answer.

:class:`~auctioneer.client.sync.Client` and
:class:`~auctioneer.client.aio.AsyncClient` share these: each endpoint is an
:class:`Endpoint` (a descriptor) over a builder that returns a :class:`Call`;
on a ``Client`` (a :class:`SyncEndpoints`) it is a method that returns the
parsed answer, on an ``AsyncClient`` (an :class:`AsyncEndpoints`) a coroutine
method. The transport -- sending, checking the
status, raising :class:`~auctioneer.client.errors.ApiError` -- is each
client's ``_send``.

Example:
    >>> call = book("us-east-1/gpu.a100", depth=5)
    >>> call.method, call.path, call.params
    ('GET', '/markets/us-east-1/gpu.a100/book', {'depth': 5})
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, Literal, ParamSpec, TypeVar, overload
from urllib.parse import quote

from auctioneer.client.models import (
    Account,
    AccountKey,
    Book,
    Candle,
    Capacity,
    LedgerEntry,
    Market,
    Order,
    OrderResult,
    OrderSpec,
    State,
    Trade,
)

__all__ = ["AsyncEndpoints", "Call", "Endpoint", "Endpoints", "SyncEndpoints"]

T = TypeVar("T")
P = ParamSpec("P")


@dataclass(frozen=True, slots=True)
class Call(Generic[T]):
    """One request: method, path, query, JSON body, and how to read the answer."""

    method: str
    path: str
    parse: Callable[[Any], T]
    params: dict[str, Any] | None = None
    body: Any = None


class Endpoint(Generic[P, T]):
    """A client method made from a builder: ``client.book(...)`` sends ``book(...)``."""

    def __init__(self, build: Callable[P, Call[T]]) -> None:
        self.build = build
        self.__doc__ = build.__doc__

    @overload
    def __get__(self, client: SyncEndpoints, owner: type | None = None) -> Callable[P, T]: ...

    @overload
    def __get__(self, client: AsyncEndpoints, owner: type | None = None
                ) -> Callable[P, Awaitable[T]]: ...

    @overload
    def __get__(self, client: None, owner: type | None = None) -> Endpoint[P, T]: ...

    def __get__(self, client: Any, owner: type | None = None) -> Any:
        if client is None:
            return self
        send = client._send
        build = self.build

        @functools.wraps(build)
        def method(*args: P.args, **kwargs: P.kwargs) -> Any:
            return send(build(*args, **kwargs))

        return method


def _market_path(market: str) -> str:
    region, sep, kind = market.partition("/")
    if not sep or not region or not kind:
        raise ValueError(f"market {market!r} is not 'region/instance_type'")
    return f"/markets/{quote(region, safe='')}/{quote(kind, safe='')}"


def _list(item: Callable[[Any], T]) -> Callable[[Any], list[T]]:
    return lambda data: [item(x) for x in data]


def _prices(data: Any) -> dict[str, int]:
    return {str(k): int(v) for k, v in data.items()}


def _results(data: Any) -> list[OrderResult]:
    return [OrderResult.from_json(r) for r in data["results"]]


# Public market data (no key).

def markets() -> Call[list[Market]]:
    """Every listed market with its price and best bid and ask."""
    return Call("GET", "/markets", _list(Market.from_json))


def market(market: str) -> Call[Market]:
    """One market, ``region/instance_type``."""
    return Call("GET", _market_path(market), Market.from_json)


def book(market: str, depth: int = 10) -> Call[Book]:
    """The best ``depth`` levels each side."""
    return Call("GET", _market_path(market) + "/book", Book.from_json, {"depth": depth})


def trades(market: str | None = None, limit: int = 50) -> Call[list[Trade]]:
    """Recent trades, newest first: of one market, or of every market."""
    path = "/trades" if market is None else _market_path(market) + "/trades"
    return Call("GET", path, _list(Trade.from_json), {"limit": limit})


def ohlc(market: str, interval_s: int = 60, limit: int = 100) -> Call[list[Candle]]:
    """OHLC bars of ``interval_s`` seconds, oldest first (seconds with trades only)."""
    return Call("GET", _market_path(market) + "/ohlc", _list(Candle.from_json),
                {"interval": interval_s, "limit": limit})


def prices() -> Call[dict[str, int]]:
    """Each market's current price."""
    return Call("GET", "/prices", _prices)


# The caller's own account and orders (a trader's or provider's key).

def account() -> Call[Account]:
    """Your balance, what your open bids reserve, and what is available."""
    return Call("GET", "/account", Account.from_json)


def capacity() -> Call[list[Capacity]]:
    """The capacity you provide, per market (providers)."""
    return Call("GET", "/account/capacity", _list(Capacity.from_json))


def ledger(limit: int = 100) -> Call[list[LedgerEntry]]:
    """Your latest money movements, newest first."""
    return Call("GET", "/account/ledger", _list(LedgerEntry.from_json), {"limit": limit})


def place(side: Literal["buy", "sell"], market: str | Sequence[str], price: int,
          quantity: int, *, tif: Literal["gtc", "ioc", "fok"] | None = None,
          all_or_none: bool = False, post_only: bool = False) -> Call[OrderResult]:
    """Place a limit order (GTC unless ``tif`` says); a refusal raises ApiError naming the
    field."""
    where = market if isinstance(market, str) else tuple(market)
    spec = OrderSpec(side, where, price, quantity, tif, all_or_none, post_only)
    return Call("POST", "/orders", OrderResult.from_json, body=spec.to_json())


def place_market(side: Literal["buy", "sell"], market: str, quantity: int, *,
                 max_spend: int | None = None,
                 tif: Literal["ioc", "fok"] | None = None) -> Call[OrderResult]:
    """Place a market order: IOC unless ``tif`` is FOK; a buy pays at most ``max_spend``."""
    spec = OrderSpec(side, market, None, quantity, tif, max_spend=max_spend)
    return Call("POST", "/orders", OrderResult.from_json, body=spec.to_json())


def place_batch(orders: Sequence[OrderSpec]) -> Call[list[OrderResult]]:
    """Place several orders in one request, all checked before any is placed."""
    return Call("POST", "/orders/batch", _results,
                body={"orders": [o.to_json() for o in orders]})


def orders() -> Call[list[Order]]:
    """Your open orders, oldest first."""
    return Call("GET", "/orders", _list(Order.from_json))


def order(order_id: str) -> Call[Order]:
    """One of your orders, open or done."""
    return Call("GET", f"/orders/{quote(order_id, safe='')}", Order.from_json)


def modify(order_id: str, *, price: int | None = None,
           quantity: int | None = None) -> Call[OrderResult]:
    """Change the price and/or open quantity of a resting order."""
    change = {k: v for k, v in (("price", price), ("quantity", quantity)) if v is not None}
    return Call("PATCH", f"/orders/{quote(order_id, safe='')}", OrderResult.from_json,
                body=change)


def cancel(order_id: str) -> Call[OrderResult]:
    """Cancel the open remainder of one of your orders."""
    return Call("DELETE", f"/orders/{quote(order_id, safe='')}", OrderResult.from_json)


# Admin (the admin key: out/exchange/admin.key under `make run`).

def open_account(account_id: str, role: Literal["trader", "provider", "admin"] = "trader",
                 deposit: int = 0) -> Call[AccountKey]:
    """Open an account with an optional first deposit; returns its API key."""
    return Call("POST", "/admin/accounts", AccountKey.from_json,
                body={"id": account_id, "role": role, "deposit": deposit})


def account_key(account_id: str) -> Call[AccountKey]:
    """An account's API key again."""
    return Call("GET", f"/admin/accounts/{quote(account_id, safe='')}/key",
                AccountKey.from_json)


def account_of(account_id: str) -> Call[Account]:
    """Any account's balance and reservation."""
    return Call("GET", f"/admin/accounts/{quote(account_id, safe='')}", Account.from_json)


def deposit(account_id: str, amount: int) -> Call[Account]:
    """Credit ``amount`` micro-units to an account."""
    return Call("POST", f"/admin/accounts/{quote(account_id, safe='')}/deposit",
                Account.from_json, body={"amount": amount})


def withdraw(account_id: str, amount: int) -> Call[Account]:
    """Debit ``amount`` micro-units (at most what its bids do not reserve)."""
    return Call("POST", f"/admin/accounts/{quote(account_id, safe='')}/withdraw",
                Account.from_json, body={"amount": amount})


def list_market(region: str, instance_type: str, tick_size: int, base_price: int, *,
                execution: Literal["at_ask", "at_resting"] = "at_ask",
                half_life_s: int = 1800) -> Call[Market]:
    """List a market ``region/instance_type`` with its tick and base price."""
    return Call("POST", "/admin/markets", Market.from_json,
                body={"region": region, "instance_type": instance_type,
                      "tick_size": tick_size, "base_price": base_price,
                      "execution": execution, "half_life_s": half_life_s})


def add_capacity(account_id: str, market: str, quantity: int) -> Call[list[Capacity]]:
    """Add capacity a provider may offer in a market."""
    return Call("POST", "/admin/capacity", _list(Capacity.from_json),
                body={"account": account_id, "market": market, "quantity": quantity})


def remove_capacity(account_id: str, market: str, quantity: int) -> Call[list[Capacity]]:
    """Remove capacity neither allocated nor offered."""
    return Call("POST", "/admin/capacity/remove", _list(Capacity.from_json),
                body={"account": account_id, "market": market, "quantity": quantity})


def state() -> Call[State]:
    """The journal's seq, the state hash and how far the tables have caught up."""
    return Call("GET", "/admin/state", State.from_json)


class Endpoints:
    """Every endpoint as a method; a client adds ``_send`` (and the stream)."""

    __slots__ = ()

    markets = Endpoint(markets)
    market = Endpoint(market)
    book = Endpoint(book)
    trades = Endpoint(trades)
    ohlc = Endpoint(ohlc)
    prices = Endpoint(prices)
    account = Endpoint(account)
    capacity = Endpoint(capacity)
    ledger = Endpoint(ledger)
    place = Endpoint(place)
    place_market = Endpoint(place_market)
    place_batch = Endpoint(place_batch)
    orders = Endpoint(orders)
    order = Endpoint(order)
    modify = Endpoint(modify)
    cancel = Endpoint(cancel)
    open_account = Endpoint(open_account)
    account_key = Endpoint(account_key)
    account_of = Endpoint(account_of)
    deposit = Endpoint(deposit)
    withdraw = Endpoint(withdraw)
    list_market = Endpoint(list_market)
    add_capacity = Endpoint(add_capacity)
    remove_capacity = Endpoint(remove_capacity)
    state = Endpoint(state)


class SyncEndpoints(Endpoints):
    """The endpoints as methods that return the answer (``_send`` returns it)."""

    __slots__ = ()


class AsyncEndpoints(Endpoints):
    """The endpoints as coroutine methods (``_send`` is a coroutine)."""

    __slots__ = ()
