"""The compute exchange: a deterministic continuous double auction with durable state.

One order book per market (region x instance type) with price-time priority;
cross-market bids; accounts, reservations and settlement; a true-half-life
price index; a checksummed command journal with snapshots. The model is in
:mod:`~auctioneer.exchange.model`, commands and events in
:mod:`~auctioneer.exchange.commands` and :mod:`~auctioneer.exchange.events`,
their JSON form in :mod:`~auctioneer.exchange.codec`, matching and settlement
in :mod:`~auctioneer.exchange.engine` (books in :mod:`~auctioneer.exchange.book`),
prices in :mod:`~auctioneer.exchange.pricing`, the journal in
:mod:`~auctioneer.exchange.journal` and recovery in
:mod:`~auctioneer.exchange.durable`; the plain-Python specification the
engine is tested against is :mod:`~auctioneer.exchange.reference`.
``docs/exchange.md`` explains the rules.

Example:
    >>> from auctioneer.exchange import *
    >>> ex = Exchange()
    >>> m = Market.of("eu-west-1/gpu.h100", tick_size=1, base_price=3_000_000)
    >>> events = [ex.apply(cmd) for cmd in (
    ...     ListMarket(m), OpenAccount("p", Role.PROVIDER), AddCapacity("p", m.id, 4),
    ...     OpenAccount("t", Role.TRADER), Deposit("t", 100_000_000),
    ...     PlaceOrder("bid", "t", Side.BUY, (m.id,), 3_500_000, 2))]
    >>> [e.kind for e in ex.apply(PlaceOrder("ask", "p", Side.SELL, (m.id,), 3_200_000, 4))]
    ['accepted', 'traded', 'rested']
    >>> ex.trades(m.id)[0].price, ex.book(m.id)
    (3200000, ([], [(3200000, 2, 1)]))
"""

from auctioneer.exchange.codec import (
    CommandError,
    decode_command,
    decode_command_json,
    decode_event,
    decode_market,
    encode_command,
    encode_event,
    encode_market,
)
from auctioneer.exchange.commands import (
    COMMAND_TYPES,
    AddCapacity,
    CancelOrder,
    Command,
    Deposit,
    ListMarket,
    MarketOrder,
    ModifyOrder,
    OpenAccount,
    PlaceOrder,
    RemoveCapacity,
    Tick,
    Withdraw,
)
from auctioneer.exchange.durable import (
    DurableExchange,
    ReplayError,
    load_snapshot,
    open_exchange,
    write_snapshot,
)
from auctioneer.exchange.engine import (
    PRICE_MAX,
    QUANTITY_MAX,
    Exchange,
    NotFound,
    OrderView,
    Refusal,
)
from auctioneer.exchange.events import (
    EVENT_TYPES,
    Accepted,
    Cancelled,
    Event,
    Modified,
    PricePublished,
    Rejected,
    Rested,
    Traded,
)
from auctioneer.exchange.invariants import InvariantError
from auctioneer.exchange.journal import FsyncPolicy, Journal, JournalError, replay
from auctioneer.exchange.ledger import AccountView, CapacityView
from auctioneer.exchange.model import (
    ExecutionRule,
    Market,
    Role,
    SelfTrade,
    Side,
    TimeInForce,
    split_market_id,
)
from auctioneer.exchange.native import NativeExchange

__all__ = [
    "COMMAND_TYPES",
    "EVENT_TYPES",
    "PRICE_MAX",
    "QUANTITY_MAX",
    "Accepted",
    "AccountView",
    "AddCapacity",
    "CancelOrder",
    "Cancelled",
    "CapacityView",
    "Command",
    "CommandError",
    "Deposit",
    "DurableExchange",
    "Event",
    "Exchange",
    "ExecutionRule",
    "FsyncPolicy",
    "InvariantError",
    "Journal",
    "JournalError",
    "ListMarket",
    "MarketOrder",
    "Market",
    "Modified",
    "NativeExchange",
    "ModifyOrder",
    "NotFound",
    "OpenAccount",
    "OrderView",
    "PlaceOrder",
    "PricePublished",
    "Refusal",
    "Rejected",
    "RemoveCapacity",
    "ReplayError",
    "Rested",
    "Role",
    "SelfTrade",
    "Side",
    "Tick",
    "TimeInForce",
    "Traded",
    "Withdraw",
    "decode_command",
    "decode_command_json",
    "decode_event",
    "decode_market",
    "encode_command",
    "encode_event",
    "encode_market",
    "load_snapshot",
    "open_exchange",
    "replay",
    "split_market_id",
    "write_snapshot",
]
