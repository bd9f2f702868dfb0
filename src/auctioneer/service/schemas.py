"""The HTTP boundary's models: what a request may say and what a response says.

Requests are strict (no unknown fields, no ``"3"`` for 3, no floats for
money): money is ``int`` micro-units per instance-hour, quantities ``int``
instances, ids short slugs. What only the exchange can judge (does the market
exist, is the price on its tick, can the account pay) is checked in the
routers against the engine, before anything is sequenced.

Example:
    >>> OrderIn(side="buy", market="us-east-1/gpu.a100", price=2_000_000, quantity=2).markets()
    ('us-east-1/gpu.a100',)
    >>> OrderIn(side="buy", price=1, quantity=1)
    Traceback (most recent call last):
      ...
    pydantic_core._pydantic_core.ValidationError: 1 validation error for OrderIn
    ...
"""

from __future__ import annotations

from typing import Annotated, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

# The responses the client reads are its own frozen dataclasses: one definition of each
# shape on the wire, which pydantic validates and documents here as well as it would a
# model of its own (and the client never imports the server).
from auctioneer.client.models import Account as AccountOut
from auctioneer.client.models import AccountKey as AccountCreated
from auctioneer.client.models import Book as BookOut
from auctioneer.client.models import Candle, LedgerEntry
from auctioneer.client.models import Capacity as CapacityOut
from auctioneer.client.models import Market as MarketOut
from auctioneer.client.models import Order as OrderOut
from auctioneer.client.models import Trade as TradeOut

__all__ = [
    "MAX_BATCH",
    "AccountCreated",
    "AccountIn",
    "AccountOut",
    "AmountIn",
    "BatchIn",
    "BatchOut",
    "BookOut",
    "Candle",
    "CapacityIn",
    "CapacityOut",
    "LedgerEntry",
    "MarketIn",
    "MarketOut",
    "ModifyIn",
    "OrderFields",
    "OrderIn",
    "OrderOut",
    "OrderResult",
    "Slug",
    "StateOut",
    "TradeOut",
]

MAX_BATCH = 1_000
"""Most orders in one batch request."""

_INT_MAX = 2**63 - 1
Positive = Annotated[int, Field(gt=0, le=_INT_MAX, strict=True)]
Slug = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9._-]*$")]
MarketId = Annotated[str, Field(min_length=3, max_length=129,
                                pattern=r"^[a-z0-9][a-z0-9._-]*/[a-z0-9][a-z0-9._-]*$",
                                examples=["us-east-1/gpu.a100"])]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class OrderFields(Protocol):
    """What the routers read of an order: :class:`OrderIn`, or the fast decoder's
    (:mod:`~auctioneer.service.fastbody`) for a body it has found :class:`OrderIn` would
    accept."""

    @property
    def side(self) -> str: ...
    @property
    def market(self) -> str | None: ...
    @property
    def price(self) -> int | None: ...
    @property
    def quantity(self) -> int: ...
    @property
    def max_spend(self) -> int | None: ...
    @property
    def all_or_none(self) -> bool: ...
    @property
    def post_only(self) -> bool: ...
    def time_in_force(self) -> str: ...
    def markets(self) -> tuple[str, ...]: ...


class OrderIn(_In):
    """An order: one ``market``, or for a buy several ``markets`` (a cross-market bid).

    A ``limit`` order (the default) gives its ``price``; a ``market`` order
    gives none -- a market buy gives ``max_spend``, the most it pays in all,
    a market sell takes any price -- and is ``ioc`` (its default) or ``fok``.
    """

    type: Literal["limit", "market"] = "limit"
    side: Literal["buy", "sell"]
    # 'markets' is validated first so that the check of 'market', which always runs,
    # sees it and names 'market' (or 'orders[i].market') when neither is given.
    markets_: list[MarketId] | None = Field(default=None, alias="markets", min_length=1,
                                             max_length=16)
    market: MarketId | None = Field(default=None, validate_default=True)
    price: Positive | None = Field(default=None, validate_default=True,
                                   description="micro-units per instance-hour, on the "
                                   "market's tick (a limit order's only)")
    quantity: Positive = Field(description="instances")
    max_spend: Positive | None = Field(default=None, description="a market buy's most it "
                                       "pays in all, micro-units (reserved while it matches)")
    tif: Literal["gtc", "ioc", "fok"] | None = Field(default=None, description="gtc for a "
                                                     "limit order, ioc for a market order "
                                                     "when not given")
    all_or_none: bool = False
    post_only: bool = False

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, populate_by_name=True)

    @field_validator("markets_")
    @classmethod
    def _distinct(cls, markets: list[str] | None) -> list[str] | None:
        if markets is not None and len(set(markets)) != len(markets):
            raise ValueError("'markets' lists a market twice")
        return markets

    @field_validator("market")
    @classmethod
    def _one_market_field(cls, market: str | None, info: ValidationInfo) -> str | None:
        if "markets_" not in info.data:
            return market  # 'markets' itself is wrong, and is reported
        if (market is None) == (info.data["markets_"] is None):
            raise ValueError("give exactly one of 'market' or 'markets'")
        return market

    @field_validator("price")
    @classmethod
    def _price_by_type(cls, price: int | None, info: ValidationInfo) -> int | None:
        kind = info.data.get("type", "limit")
        if kind == "limit" and price is None:
            raise ValueError("a limit order gives its price")
        if kind == "market" and price is not None:
            raise ValueError("a market order trades at the book's prices and gives no price")
        return price

    @field_validator("all_or_none", "post_only")
    @classmethod
    def _limit_only(cls, flag: bool, info: ValidationInfo) -> bool:
        if flag and info.data.get("type") == "market":
            raise ValueError("a market order trades at once: it is never all-or-none or "
                             "post-only")
        return flag

    def time_in_force(self) -> str:
        """``tif``, or the default of the order's type."""
        return self.tif or ("gtc" if self.type == "limit" else "ioc")

    def markets(self) -> tuple[str, ...]:
        """The markets the order trades in."""
        return (self.market,) if self.market is not None else tuple(self.markets_ or ())


class BatchIn(_In):
    """Several orders in one request (checked whole before any is placed)."""

    orders: list[OrderIn] = Field(min_length=1, max_length=MAX_BATCH)


class ModifyIn(_In):
    """A new price and/or open quantity for a resting order."""

    price: Positive | None = None
    quantity: Positive | None = None

    @model_validator(mode="after")
    def _something(self) -> ModifyIn:
        if self.price is None and self.quantity is None:
            raise ValueError("give 'price', 'quantity' or both")
        return self


class AccountIn(_In):
    """An account to open (admin): its id, role and an optional first deposit."""

    id: Slug
    role: Literal["trader", "provider", "admin"] = "trader"
    deposit: Annotated[int, Field(ge=0, le=_INT_MAX, strict=True)] = 0


class AmountIn(_In):
    """An amount of money in micro-units."""

    amount: Positive


class MarketIn(_In):
    """A market to list (admin)."""

    region: Slug
    instance_type: Slug
    tick_size: Positive
    base_price: Positive
    execution: Literal["at_ask", "at_resting"] = "at_ask"
    half_life_s: Annotated[int, Field(gt=0, le=10**9, strict=True)] = 1800


class CapacityIn(_In):
    """Capacity a provider adds or removes in a market (admin)."""

    account: Slug
    market: MarketId
    quantity: Positive


class OrderResult(BaseModel):
    """What placing, modifying or cancelling an order did: its id, state, trades, and why
    it was rejected or cancelled.

    ``filled`` is what the order has filled in its whole life (null only if the tables that
    remember it lag by more than a second); ``trades`` are this request's; ``reason`` of a
    cancelled order is ``cancelled`` (by its owner), ``ioc``, ``fok``, ``aon`` (what could
    not fill at once) or ``self_trade``.
    """

    order_id: str
    status: Literal["open", "filled", "cancelled", "rejected"]
    filled: int | None
    remaining: int
    trades: list[TradeOut]
    field: str | None = None
    reason: str | None = None


class BatchOut(BaseModel):
    """Each order's result, in the order sent."""

    results: list[OrderResult]


class StateOut(BaseModel):
    """The exchange's durable position: journal seq, state hash, how far the tables are."""

    seq: int
    state_hash: str
    projected_seq: int
    projection_running: bool
    projection: Literal["running", "restarting", "halted"] = Field(
        description="halted: the follower failed on one record again and again and is no "
        "longer restarted; see projection_fault, fix the cause, then POST "
        "/admin/projection/resume")
    projection_fault: str | None = Field(
        description="The projection's last failure: journal seq and error; null when none.")
    subscribers: int
