"""The commands an exchange applies: one frozen dataclass each, carrying every input.

Every source of nondeterminism -- order ids, account ids, timestamps -- is a
field of the command, so :meth:`auctioneer.exchange.Exchange.apply` is a pure
function of the state and the command, and replaying the same commands gives
the same events and the same state hash. ``ts_ns`` is the command's time in
nanoseconds (the sequencer's clock, never read by the engine from the wall
clock); the engine's clock is the largest ``ts_ns`` seen so far, so a command
stamped earlier than the clock runs at the clock's time.

Example:
    >>> PlaceOrder("o1", "alice", Side.BUY, ("us-east-1/gpu.a100",), 2_000_000, 3).tif
    <TimeInForce.GTC: 'gtc'>
    >>> COMMAND_TYPES["place_order"] is PlaceOrder, PlaceOrder.kind
    (True, 'place_order')
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from auctioneer.exchange.model import Market, Role, Side, TimeInForce

__all__ = [
    "COMMAND_TYPES",
    "AddCapacity",
    "CancelOrder",
    "Command",
    "Deposit",
    "ListMarket",
    "MarketOrder",
    "ModifyOrder",
    "OpenAccount",
    "PlaceOrder",
    "RemoveCapacity",
    "Tick",
    "Withdraw",
]


@dataclass(frozen=True, slots=True)
class OpenAccount:
    """Open ``account`` with ``role`` and a zero balance."""

    kind: ClassVar[str] = "open_account"
    account: str
    role: Role
    ts_ns: int = 0


@dataclass(frozen=True, slots=True)
class Deposit:
    """Credit ``amount`` micro-units (> 0) to ``account``: money enters the exchange."""

    kind: ClassVar[str] = "deposit"
    account: str
    amount: int
    ts_ns: int = 0


@dataclass(frozen=True, slots=True)
class Withdraw:
    """Debit ``amount`` micro-units (> 0, at most the unreserved balance): money leaves."""

    kind: ClassVar[str] = "withdraw"
    account: str
    amount: int
    ts_ns: int = 0


@dataclass(frozen=True, slots=True)
class ListMarket:
    """Open an order book for ``market``."""

    kind: ClassVar[str] = "list_market"
    market: Market
    ts_ns: int = 0


@dataclass(frozen=True, slots=True)
class AddCapacity:
    """A provider adds ``quantity`` instances of capacity in ``market``."""

    kind: ClassVar[str] = "add_capacity"
    account: str
    market: str
    quantity: int
    ts_ns: int = 0


@dataclass(frozen=True, slots=True)
class RemoveCapacity:
    """A provider removes ``quantity`` instances: only capacity neither allocated nor offered."""

    kind: ClassVar[str] = "remove_capacity"
    account: str
    market: str
    quantity: int
    ts_ns: int = 0


@dataclass(frozen=True, slots=True)
class PlaceOrder:
    """A limit order. A BUY may list several markets (a cross-market bid); a SELL lists one.

    ``price`` is the bid's maximum or the offer's ask, per instance-hour.
    """

    kind: ClassVar[str] = "place_order"
    order_id: str
    account: str
    side: Side
    markets: tuple[str, ...]
    price: int
    quantity: int
    tif: TimeInForce = TimeInForce.GTC
    all_or_none: bool = False
    post_only: bool = False
    ts_ns: int = 0


@dataclass(frozen=True, slots=True)
class MarketOrder:
    """A market order: trades at once at the best prices there are, IOC or FOK only.

    A BUY may list several markets and must give ``max_spend``, the most it
    pays in all (reserved while it matches; what is left is released); a SELL
    lists one market, gives no ``max_spend`` and takes any price. Its rest is
    cancelled (IOC) -- or, for FOK, an order that cannot fill whole within
    ``max_spend`` is rejected and changes nothing.
    """

    kind: ClassVar[str] = "market_order"
    order_id: str
    account: str
    side: Side
    markets: tuple[str, ...]
    quantity: int
    max_spend: int | None = None
    tif: TimeInForce = TimeInForce.IOC
    ts_ns: int = 0


@dataclass(frozen=True, slots=True)
class CancelOrder:
    """Cancel the open remainder of ``order_id`` (which ``account`` must own)."""

    kind: ClassVar[str] = "cancel_order"
    order_id: str
    account: str
    ts_ns: int = 0


@dataclass(frozen=True, slots=True)
class ModifyOrder:
    """Change a resting order's price and/or open quantity (None keeps the value).

    ``quantity`` is the new *open* quantity. The order keeps its time
    priority only when the price is unchanged and the quantity goes down.
    """

    kind: ClassVar[str] = "modify_order"
    order_id: str
    account: str
    price: int | None = None
    quantity: int | None = None
    ts_ns: int = 0


@dataclass(frozen=True, slots=True)
class Tick:
    """Advance the clock to ``ts_ns``: publishes prices at each new second, nothing else."""

    kind: ClassVar[str] = "tick"
    ts_ns: int


Command = (OpenAccount | Deposit | Withdraw | ListMarket | AddCapacity | RemoveCapacity
           | PlaceOrder | MarketOrder | CancelOrder | ModifyOrder | Tick)
"""Any command."""

COMMAND_TYPES: dict[str, type[Command]] = {
    cls.kind: cls
    for cls in (OpenAccount, Deposit, Withdraw, ListMarket, AddCapacity, RemoveCapacity,
                PlaceOrder, MarketOrder, CancelOrder, ModifyOrder, Tick)
}
"""Each command class by its ``kind`` (the codec's ``"type"``)."""
