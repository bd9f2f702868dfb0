"""What applying a command produced: immutable named tuples, in the order they happened.

Every command yields either one :class:`Rejected` (and changed nothing) or
an :class:`Accepted` followed by its consequences. A book changes exactly
when an event names its market: :class:`Rested`, :class:`Traded`,
:class:`Cancelled` or :class:`Modified` (a cross-market bid names all of its
markets). :class:`PricePublished` comes first in the events of the first
command at or after each new second of command time.

Example:
    >>> Rejected("place_order", "quantity", "0 must be > 0").field
    'quantity'
    >>> EVENT_TYPES["traded"] is Traded
    True
"""

from __future__ import annotations

from typing import Any, NamedTuple

from auctioneer.exchange.model import Side

__all__ = [
    "EVENT_TYPES",
    "Accepted",
    "Cancelled",
    "Event",
    "Modified",
    "PricePublished",
    "Rejected",
    "Rested",
    "Traded",
]


class _Immutable:
    """Events are tuples: built in C, immutable, a few times cheaper to make than frozen
    dataclasses (the matching loop makes two or three per order). Equal only to an event
    of the same kind with the same fields, never to a plain tuple."""

    __slots__ = ()

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and super().__eq__(other)  # the tuple's own ==

    def __ne__(self, other: object) -> bool:
        return not self == other

    __hash__: Any = tuple.__hash__


class _Accepted(NamedTuple):
    command: str
    ref: str
    ts_ns: int


class Accepted(_Immutable, _Accepted):
    """The command ``command`` (its kind) was applied; ``ref`` is its order, account or market."""

    __slots__ = ()
    kind = "accepted"


class _Rejected(NamedTuple):
    command: str
    field: str
    reason: str


class Rejected(_Immutable, _Rejected):
    """The command was refused and changed nothing; ``field`` names the offending field."""

    __slots__ = ()
    kind = "rejected"


class _Traded(NamedTuple):
    trade_id: int
    market: str
    buy_order: str
    sell_order: str
    buyer: str
    seller: str
    price: int
    quantity: int
    aggressor: Side
    ts_ns: int


class Traded(_Immutable, _Traded):
    """``quantity`` instances changed hands at ``price`` in ``market``; money and capacity moved.

    ``aggressor`` is the side of the incoming order.
    """

    __slots__ = ()
    kind = "traded"


class _Rested(NamedTuple):
    order_id: str
    account: str
    side: Side
    markets: tuple[str, ...]
    price: int
    remaining: int
    ts_ns: int


class Rested(_Immutable, _Rested):
    """``order_id`` now rests in the books of ``markets`` with ``remaining`` open instances."""

    __slots__ = ()
    kind = "rested"


class _Cancelled(NamedTuple):
    order_id: str
    account: str
    markets: tuple[str, ...]
    remaining: int
    reason: str
    ts_ns: int


class Cancelled(_Immutable, _Cancelled):
    """``order_id`` lost its ``remaining`` open instances.

    ``reason``: ``cancelled`` (asked to), ``ioc`` (unfilled rest of an IOC),
    ``fok`` (a FOK that could not fill whole), ``aon`` (an IOC all-or-none
    that could not fill whole), ``self_trade`` (self-trade prevention).
    """

    __slots__ = ()
    kind = "cancelled"


class _Modified(NamedTuple):
    order_id: str
    account: str
    markets: tuple[str, ...]
    price: int
    remaining: int
    kept_priority: bool
    ts_ns: int


class Modified(_Immutable, _Modified):
    """A resting order's new ``price`` and open ``remaining``; ``kept_priority`` says whether
    it kept its place in the queue (price unchanged, quantity reduced)."""

    __slots__ = ()
    kind = "modified"


class _PricePublished(NamedTuple):
    market: str
    price: int
    ts_ns: int


class PricePublished(_Immutable, _PricePublished):
    """The market price of ``market`` at the whole second ``ts_ns``: the trade EWMA, or the
    base price before any trade."""

    __slots__ = ()
    kind = "price_published"


Event = Accepted | Rejected | Traded | Rested | Cancelled | Modified | PricePublished
"""Any event."""

EVENT_TYPES: dict[str, type[Event]] = {
    cls.kind: cls
    for cls in (Accepted, Rejected, Traded, Rested, Cancelled, Modified, PricePublished)
}
"""Each event class by its ``kind`` (the codec's ``"type"``)."""
