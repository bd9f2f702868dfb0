"""Order bodies decoded with msgspec: the hot path's stand-in for pydantic, never more lenient.

``POST /orders`` and ``POST /orders/batch`` carry most of the service's
traffic, and validating a batch of 200 orders with pydantic (after
``json.loads``) cost about a fifth of the server's CPU under load.
:func:`decode_order` and :func:`decode_batch` decode and validate a body in
one pass with msgspec, to the same rules as
:class:`~auctioneer.service.schemas.OrderIn` and
:class:`~auctioneer.service.schemas.BatchIn`; they answer ``None`` for
anything they do not accept, and the caller then hands the body to pydantic,
which is the reference: it accepts it or words the error, so every error
keeps its one shape and message. The hypothesis test in
``tests/service/test_fastbody.py`` holds that whatever is accepted here,
pydantic accepts with the same values.

Example:
    >>> decode_order(b'{"side":"buy","market":"a/b","price":5,"quantity":2}').markets()
    ('a/b',)
    >>> decode_order(b'{"side":"buy","market":"a/b","quantity":2}') is None  # no price
    True
"""

from __future__ import annotations

import functools
import re
from typing import Annotated, Literal

import msgspec

from auctioneer.exchange.orderbatch import valid_orders
from auctioneer.service.schemas import MAX_BATCH

__all__ = ["FastOrder", "decode_batch", "decode_order"]

_INT_MAX = 2**63 - 1
_Positive = Annotated[int, msgspec.Meta(gt=0, le=_INT_MAX)]
_MarketId = Annotated[str, msgspec.Meta(min_length=3, max_length=129)]
# The pattern is checked in valid(), remembered per id: msgspec runs it once per string,
# which cost more than decoding the rest of the order. pydantic's '$' is the end of the text
# (Python's also matches before a final newline), hence '\Z'.
_MARKET_ID = re.compile(r"[a-z0-9][a-z0-9._-]*/[a-z0-9][a-z0-9._-]*\Z")


@functools.lru_cache(maxsize=4096)
def _market_id(text: str) -> bool:
    return _MARKET_ID.match(text) is not None


class FastOrder(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """An order as :class:`~auctioneer.service.schemas.OrderIn` reads it (same fields)."""

    side: Literal["buy", "sell"]
    quantity: _Positive
    type: Literal["limit", "market"] = "limit"
    markets_: Annotated[list[_MarketId], msgspec.Meta(min_length=1, max_length=16)] | None = \
        msgspec.field(default=None, name="markets")
    market: _MarketId | None = None
    price: _Positive | None = None
    max_spend: _Positive | None = None
    tif: Literal["gtc", "ioc", "fok"] | None = None
    all_or_none: bool = False
    post_only: bool = False

    def valid(self) -> bool:
        """The rules :class:`~auctioneer.service.schemas.OrderIn`'s validators and patterns
        hold: one of ``market``/``markets`` (distinct, each an id), a price exactly for a
        limit order, no all-or-none or post-only for a market order."""
        many = self.markets_
        if many is None:
            if self.market is None or not _market_id(self.market):
                return False
        elif (self.market is not None or len(set(many)) != len(many)
              or not all(_market_id(m) for m in many)):
            return False
        if self.type == "limit":
            return self.price is not None
        return self.price is None and not self.all_or_none and not self.post_only

    def time_in_force(self) -> str:
        """``tif``, or the default of the order's type."""
        return self.tif or ("gtc" if self.type == "limit" else "ioc")

    def markets(self) -> tuple[str, ...]:
        """The markets the order trades in."""
        return (self.market,) if self.market is not None else tuple(self.markets_ or ())


class _Batch(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    orders: Annotated[list[FastOrder], msgspec.Meta(min_length=1, max_length=MAX_BATCH)]


_ORDER = msgspec.json.Decoder(FastOrder)
_BATCH = msgspec.json.Decoder(_Batch)


def decode_order(body: bytes) -> FastOrder | None:
    """The order in ``body``, or None when pydantic must judge it."""
    try:
        order = _ORDER.decode(body)
    except msgspec.DecodeError:
        return None
    return order if order.valid() else None


def decode_batch(body: bytes) -> list[FastOrder] | None:
    """The orders of a batch ``body``, or None when pydantic must judge it."""
    try:
        orders = _BATCH.decode(body).orders
    except msgspec.DecodeError:
        return None
    return orders if valid_orders(orders) else None  # FastOrder.valid of each, in C
