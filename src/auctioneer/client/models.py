"""What the exchange answers, as frozen dataclasses (money in integer micro-units).

Each type mirrors one response of the HTTP API (``/openapi.json``) and is
built by its ``from_json``; a field the server adds later is ignored, one it
drops raises ``KeyError`` naming it. Prices are micro-units per
instance-hour and quantities are instances, as on the wire; format them
with :func:`auctioneer.money.format_money`.

Example:
    >>> Book.from_json({"market": "a/b", "bids": [[1_990_000, 3]], "asks": []}).best_bid
    1990000
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, Literal, Self

__all__ = [
    "Account",
    "AccountKey",
    "Book",
    "Candle",
    "Capacity",
    "LedgerEntry",
    "Market",
    "Order",
    "OrderResult",
    "OrderSpec",
    "PriceTick",
    "State",
    "Trade",
]

Json = dict[str, Any]


class _Wire:
    """A response type built from its JSON object, one field per key of the same name."""

    __slots__ = ()

    @classmethod
    def from_json(cls, data: Json) -> Self:
        """From the JSON object the API answers (unknown keys ignored)."""
        return cls(**{f.name: data[f.name] for f in fields(cls)})  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class Market(_Wire):
    """A listed market: its tick, base price, rules, current price and best quotes."""

    id: str
    region: str
    instance_type: str
    tick_size: int
    base_price: int
    execution: str
    half_life_s: int
    price: int
    best_bid: int | None
    best_ask: int | None


@dataclass(frozen=True, slots=True)
class Book(_Wire):
    """Depth: ``(price, quantity)`` levels, best first."""

    market: str
    bids: tuple[tuple[int, int], ...]
    asks: tuple[tuple[int, int], ...]

    @property
    def best_bid(self) -> int | None:
        """The highest bid price, or None."""
        return self.bids[0][0] if self.bids else None

    @property
    def best_ask(self) -> int | None:
        """The lowest ask price, or None."""
        return self.asks[0][0] if self.asks else None

    @classmethod
    def from_json(cls, data: Json) -> Book:
        """From ``GET .../book`` or a ``book`` stream event."""
        return cls(data["market"], tuple((p, q) for p, q in data["bids"]),
                   tuple((p, q) for p, q in data["asks"]))


@dataclass(frozen=True, slots=True)
class Trade(_Wire):
    """One trade; ``aggressor`` is the side that crossed the spread."""

    id: str
    market: str
    price: int
    quantity: int
    aggressor: str
    ts_ns: int


@dataclass(frozen=True, slots=True)
class PriceTick(_Wire):
    """A market's published price (the ``price`` stream event, once a second)."""

    market: str
    price: int
    ts_ns: int


@dataclass(frozen=True, slots=True)
class Candle(_Wire):
    """One OHLC bar starting at ``ts_ns``."""

    ts_ns: int
    open: int
    high: int
    low: int
    close: int
    volume: int


@dataclass(frozen=True, slots=True)
class Account(_Wire):
    """An account's money: balance, what its open bids reserve, what is free."""

    id: str
    role: str
    balance: int
    reserved: int
    available: int


@dataclass(frozen=True, slots=True)
class AccountKey(_Wire):
    """An account and its API key."""

    id: str
    role: str
    api_key: str


@dataclass(frozen=True, slots=True)
class Capacity(_Wire):
    """A provider's capacity in one market: provided, allocated (sold), offered."""

    account: str
    market: str
    provided: int
    allocated: int
    offered: int


@dataclass(frozen=True, slots=True)
class LedgerEntry(_Wire):
    """One movement of money: a deposit, withdrawal, purchase or sale."""

    seq: int
    amount: int
    kind: str
    ref: str
    ts_ns: int


@dataclass(frozen=True, slots=True)
class Order(_Wire):
    """One of your orders. ``quantity`` and ``filled`` are None while the tables that
    remember them lag the engine by more than a second (a follower restarting)."""

    id: str
    account: str
    side: str
    markets: tuple[str, ...]
    price: int
    quantity: int | None
    filled: int | None
    remaining: int
    status: str
    tif: str
    ts_ns: int

    @classmethod
    def from_json(cls, data: Json) -> Order:
        """From ``GET /orders``."""
        return cls(data["id"], data["account"], data["side"], tuple(data["markets"]),
                   data["price"], data["quantity"], data["filled"], data["remaining"],
                   data["status"], data["tif"], data["ts_ns"])


@dataclass(frozen=True, slots=True)
class OrderResult(_Wire):
    """What placing, modifying or cancelling an order did.

    ``filled`` counts the order's whole life (None only while the tables lag
    by more than a second); ``trades`` are this request's. In a batch, an
    order the engine refused is ``rejected`` with the ``field`` and
    ``reason``; a single order's refusal raises instead. A cancelled order's
    ``reason`` says why (``cancelled``, ``ioc``, ``fok``, ``aon``, ``self_trade``).
    """

    order_id: str
    status: str
    filled: int | None
    remaining: int
    trades: tuple[Trade, ...]
    field: str | None
    reason: str | None

    @classmethod
    def from_json(cls, data: Json) -> OrderResult:
        """From ``POST /orders``."""
        return cls(data["order_id"], data["status"], data["filled"], data["remaining"],
                   tuple(Trade.from_json(t) for t in data["trades"]), data.get("field"),
                   data.get("reason"))


@dataclass(frozen=True, slots=True)
class OrderSpec:
    """An order to place: one ``market``, or for a buy several ``markets`` (cross-market).

    A limit order gives ``price`` (micro-units per instance-hour, on the
    market's tick); a market order gives ``price=None`` -- a market buy may
    cap what it pays in all with ``max_spend`` -- and is IOC (the default)
    or FOK. ``tif`` None takes the exchange's default: GTC for a limit
    order, IOC for a market order. ``quantity`` is instances.
    """

    side: Literal["buy", "sell"]
    market: str | tuple[str, ...]
    price: int | None
    quantity: int
    tif: Literal["gtc", "ioc", "fok"] | None = None
    all_or_none: bool = False
    post_only: bool = False
    max_spend: int | None = None

    def to_json(self) -> Json:
        """The request body of ``POST /orders``."""
        where: Json = ({"market": self.market} if isinstance(self.market, str)
                       else {"markets": list(self.market)})
        body: Json = {"side": self.side, **where, "quantity": self.quantity}
        if self.price is None:
            body["type"] = "market"
        else:
            body["price"] = self.price
        optional = {"tif": self.tif, "max_spend": self.max_spend,
                    "all_or_none": self.all_or_none or None, "post_only": self.post_only or None}
        body.update((k, v) for k, v in optional.items() if v is not None)
        return body


@dataclass(frozen=True, slots=True)
class State(_Wire):
    """The exchange's durable position (admin): journal seq, state hash, projection lag."""

    seq: int
    state_hash: str
    projected_seq: int
    projection_running: bool
    subscribers: int

