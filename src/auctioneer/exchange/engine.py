"""The matching engine: order books, settlement and price discovery behind one ``apply``.

:class:`Exchange` is deterministic and single-threaded: ``apply(command)``
returns the events it caused, and a command that is rejected changes nothing
(not even the clock). ``docs/exchange.md`` states the rules; in short:

* **Price-time priority** per book; an incoming order matches at once against
  the opposite side while prices cross, partially filling as needed.
* **Execution price** per market: the ask (default: the buyer gets the
  improvement) or the resting order's price.
* **Cross-market bids**: a BUY listing several markets takes the best ask
  among them (lowest price, then earliest arrival) until filled; its rest is
  one order queued in every listed book with one shared open quantity, so a
  fill anywhere shrinks it everywhere and it can never fill twice.
* **GTC/IOC/FOK, all-or-none, post-only, self-trade prevention**; a
  modification keeps time priority only when it lowers the quantity at the
  same price (or changes nothing).
* **Settlement**: a bid reserves limit x quantity; a trade moves price x
  quantity from buyer to seller once, releases the buyer's reservation for
  those instances, and allocates the seller's capacity once.
* **Bounds**: the money held (deposits less withdrawals) and each market's provided
  capacity stay within 2**63 - 1, so no balance, reservation, trade amount, holding or
  volume can pass it.
* **Prices**: a true-half-life EWMA of trades (:mod:`~auctioneer.exchange.pricing`),
  published at the first command of each new second of command time.

Example:
    >>> from auctioneer.exchange.commands import *
    >>> from auctioneer.exchange.model import Market, Role, Side
    >>> ex = Exchange()
    >>> m = Market("us-east-1", "gpu.a100", tick_size=1, base_price=100)
    >>> for cmd in (ListMarket(m), OpenAccount("p", Role.PROVIDER),
    ...             OpenAccount("t", Role.TRADER), Deposit("t", 10_000),
    ...             AddCapacity("p", m.id, 5),
    ...             PlaceOrder("s1", "p", Side.SELL, (m.id,), 90, 5)):
    ...     _ = ex.apply(cmd)
    >>> [e.kind for e in ex.apply(PlaceOrder("b1", "t", Side.BUY, (m.id,), 120, 2))]
    ['accepted', 'traded']
    >>> ex.account("t").balance, ex.account("p").balance, ex.book(m.id)
    (9820, 180, ([], [(90, 3, 1)]))
    >>> ex.check()
"""

from __future__ import annotations

import hashlib
import heapq
import json
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from heapq import heappop
from typing import Any

from auctioneer.exchange import commands as c
from auctioneer.exchange.book import Book, Order
from auctioneer.exchange.codec import decode_event, decode_market, encode_event, encode_market
from auctioneer.exchange.events import (
    Accepted,
    Cancelled,
    Event,
    Modified,
    PricePublished,
    Rejected,
    Rested,
    Traded,
)
from auctioneer.exchange.ledger import Account, AccountView, Capacity, CapacityView
from auctioneer.exchange.model import (
    ExecutionRule,
    Market,
    Role,
    SelfTrade,
    Side,
    TimeInForce,
    split_market_id,
)
from auctioneer.exchange.pricing import SECOND, PriceIndex
from auctioneer.money import MONEY_MAX

__all__ = [
    "PRICE_MAX",
    "QUANTITY_MAX",
    "TRADE_HISTORY",
    "Exchange",
    "InvariantError",
    "NotFound",
    "OrderView",
]

QUANTITY_MAX = 1_000_000_000
"""Most instances in one order or capacity change."""
PRICE_MAX = 1_000_000_000_000
"""Highest price, micro-units per instance-hour ($1,000,000): price x quantity fits 63 bits."""
TRADE_HISTORY = 1000
"""Recent trades kept per market for queries."""
SNAPSHOT_VERSION = 1

_BUY, _SELL = Side.BUY, Side.SELL
# Events are named tuples; on the matching path they are built with tuple.__new__ and every
# field in order, which skips the generated Python-level __new__ (a quarter of their cost).
_new = tuple.__new__
_PLACE = c.PlaceOrder
_GTC, _IOC, _FOK = TimeInForce.GTC, TimeInForce.IOC, TimeInForce.FOK
_ADMIN = Role.ADMIN
_Step = tuple["_Venue", Order, int]  # (book, resting order, quantity); 0: self-trade cancel


class InvariantError(AssertionError):
    """:meth:`Exchange.check` found the state inconsistent (a bug, never bad input)."""


class NotFound(LookupError):
    """A query named a market or account the exchange does not have."""

    def __init__(self, field: str, value: str) -> None:
        super().__init__(f"{field} {value!r} is not known")
        self.field = field
        self.value = value


@dataclass(frozen=True, slots=True)
class OrderView:
    """An open order as queries return it."""

    order_id: str
    account: str
    side: Side
    markets: tuple[str, ...]
    price: int
    remaining: int
    all_or_none: bool
    post_only: bool
    seq: int
    ts_ns: int


class _Reject(Exception):
    """Raised by validation, turned into one :class:`Rejected` event by ``apply``."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(reason)
        self.field = field
        self.reason = reason


class _Venue(Book):
    """A market's book with what a trade there updates, one attribute away."""

    __slots__ = ("at_ask", "holdings", "index", "providers", "rules", "tick", "trades")

    def __init__(self, market: Market) -> None:
        super().__init__(market.id)
        self.rules = market
        self.tick = market.tick_size
        self.at_ask = market.execution is ExecutionRule.AT_ASK
        self.index = PriceIndex(market.base_price, market.half_life_s * SECOND)
        self.trades: deque[Traded] = deque(maxlen=TRADE_HISTORY)
        # Keyed by account alone: a str key hashes from its cache, a (account, market) tuple
        # is built and hashed anew on every trade.
        self.providers: dict[str, Capacity] = {}  # the exchange's capacity records, by seller
        self.holdings: dict[str, int] = {}  # instances bought here, by buyer


def _positive(value: object, field: str, limit: int) -> int:
    if type(value) is not int:
        raise _Reject(field, f"{value!r} is not an integer")
    if not 0 < value <= limit:
        raise _Reject(field, f"{value} must be between 1 and {limit}")
    return value


def _text(value: object, field: str) -> str:
    if not isinstance(value, str) or not value:
        raise _Reject(field, f"{value!r} is not a non-empty string")
    return value


class Exchange:
    """Order books, accounts, capacity and prices; see the module docstring for the rules."""

    def __init__(self) -> None:
        self._markets: dict[str, Market] = {}
        self._books: dict[str, _Venue] = {}
        self._prices: dict[str, PriceIndex] = {}
        self._trades: dict[str, deque[Traded]] = {}
        self._accounts: dict[str, Account] = {}
        self._capacity: dict[tuple[str, str], Capacity] = {}
        self._orders: dict[str, Order] = {}
        self._by_account: dict[str, dict[str, Order]] = {}
        self._used_ids: set[str] = set()
        self._seq = 0
        self._trade_seq = 0
        self._clock = 0
        self._second = 0
        self._minted = 0
        self._handlers: dict[type, Callable[[Any], list[Event]]] = {
            c.OpenAccount: self._open_account,
            c.Deposit: self._deposit,
            c.Withdraw: self._withdraw,
            c.ListMarket: self._list_market,
            c.AddCapacity: self._add_capacity,
            c.RemoveCapacity: self._remove_capacity,
            c.PlaceOrder: self._place_checked,
            c.CancelOrder: self._cancel,
            c.ModifyOrder: self._modify,
            c.Tick: self._tick,
        }

    # ----------------------------------------------------------------- apply

    def apply(self, command: c.Command) -> list[Event]:
        """Apply ``command``; return its events (one :class:`Rejected` if refused).

        O(log P) per price level touched plus O(1) per order filled.
        """
        if type(command) is not _PLACE:
            return self._dispatch(command)
        cmd = command
        # The fast path: a well-formed single-market order that is neither all-or-none nor
        # post-only, checked inline. Anything unusual (and every refusal) goes through
        # _place_checked, which names the bad field.
        order_id = cmd.order_id
        markets = cmd.markets
        price = cmd.price
        quantity = cmd.quantity
        ts = cmd.ts_ns
        account = cmd.account
        acct = self._accounts.get(account) if type(account) is str else None
        if (acct is None or type(order_id) is not str or not order_id
                or type(markets) is not tuple or len(markets) != 1
                or type(price) is not int or type(quantity) is not int or type(ts) is not int
                or not 0 < price <= PRICE_MAX or not 0 < quantity <= QUANTITY_MAX
                or not 0 <= ts <= MONEY_MAX or cmd.post_only is not False
                or cmd.all_or_none is not False or order_id in self._used_ids):
            return self._dispatch(cmd)
        market_id = markets[0]
        venue = self._books.get(market_id) if type(market_id) is str else None
        tif = cmd.tif
        if venue is None or price % venue.tick or not (tif is _GTC or tif is _IOC):
            return self._dispatch(cmd)
        side = cmd.side
        cap = None
        if side is _BUY:
            buy = True
            if acct.role is _ADMIN or price * quantity > acct.balance - acct.reserved:
                return self._dispatch(cmd)
            acct.reserved += price * quantity
        else:
            buy = False
            cap = venue.providers.get(acct.id)
            if (side is not _SELL or cap is None
                    or quantity > cap.provided - cap.allocated - cap.offered):
                return self._dispatch(cmd)
            cap.offered += quantity
        events: list[Event] = []
        if ts > self._clock:
            self._clock = ts
            if ts // SECOND > self._second:
                self._publish(events)
        else:
            ts = self._clock
        self._used_ids.add(order_id)
        seq = self._seq = self._seq + 1
        events.append(_new(Accepted, ("place_order", order_id, ts)))
        # A heap's top may be stale but is never worse than the live best, so a top that
        # does not cross proves nothing does: rest (or drop) without entering the loop.
        if buy:
            heap = venue.ask_heap
            if heap and heap[0] <= price:
                self._take(venue, acct, cap, True, order_id, markets, price, quantity, seq, tif,
                           ts, events)
                return events
            levels = venue.bids
        else:
            heap = venue.bid_heap
            if heap and -heap[0] >= price:
                self._take(venue, acct, cap, False, order_id, markets, price, quantity, seq,
                           tif, ts, events)
                return events
            levels = venue.asks
        account = acct.id
        order = Order(order_id, account, buy, markets, price, quantity, False, seq, ts)
        if tif is not _GTC:
            self._drop(order, "ioc", ts, events)
            return events
        level = levels.get(price)
        if level is None:
            venue.add(order)
        else:  # Book.add, inlined for a level that exists
            level.orders.append(order)
            level.quantity += quantity
            level.count += 1
        self._orders[order_id] = order
        mine = self._by_account.get(account)
        if mine is None:
            mine = self._by_account[account] = {}
        mine[order_id] = order
        events.append(_new(Rested, (order_id, account, side, markets, price, quantity, ts)))
        return events

    def _dispatch(self, command: c.Command) -> list[Event]:
        """Apply any command through its checked handler."""
        handler = self._handlers.get(type(command))
        if handler is None:
            return [Rejected(getattr(command, "kind", type(command).__name__), "type",
                             f"{type(command).__name__} is not a command")]
        try:
            return handler(command)
        except _Reject as exc:
            return [Rejected(command.kind, exc.field, exc.reason)]

    def _advance(self, ts_ns: object, events: list[Event]) -> int:
        """Move the clock to ``ts_ns`` (never back); publish prices at a new second."""
        clock = self._clock
        if type(ts_ns) is int and ts_ns > clock:
            clock = self._clock = ts_ns
            if clock // SECOND > self._second:
                self._publish(events)
        return clock

    def _publish(self, events: list[Event]) -> None:
        """Publish every market's price at the whole second the clock has reached."""
        second = self._second = self._clock // SECOND
        at = second * SECOND
        for market_id, index in self._prices.items():
            events.append(PricePublished(market_id, index.publish(at), at))

    def _check_ts(self, ts_ns: object) -> None:
        if type(ts_ns) is not int or not 0 <= ts_ns <= MONEY_MAX:
            raise _Reject("ts_ns", f"{ts_ns!r} is not a non-negative 64-bit integer")

    def _account_of(self, account: object) -> Account:
        found = self._accounts.get(account) if isinstance(account, str) else None
        if found is None:
            raise _Reject("account", f"{account!r} is not an open account")
        return found

    def _market_of(self, market: object, field: str = "market") -> Market:
        found = self._markets.get(market) if isinstance(market, str) else None
        if found is None:
            raise _Reject(field, f"{market!r} is not a listed market")
        return found

    # ------------------------------------------------------------- accounts

    def _open_account(self, cmd: c.OpenAccount) -> list[Event]:
        account = _text(cmd.account, "account")
        if account in self._accounts:
            raise _Reject("account", f"{account!r} already exists")
        if not isinstance(cmd.role, Role):
            raise _Reject("role", f"{cmd.role!r} is not a role")
        self._check_ts(cmd.ts_ns)
        events: list[Event] = []
        ts = self._advance(cmd.ts_ns, events)
        self._accounts[account] = Account(account, cmd.role)
        events.append(Accepted(cmd.kind, account, ts))
        return events

    def _deposit(self, cmd: c.Deposit) -> list[Event]:
        acct = self._account_of(cmd.account)
        # Every balance, reservation and trade amount is part of the money deposited, so
        # capping the total (not each balance) bounds every amount a trade can produce:
        # a sale can never credit a balance past 2**63 - 1.
        amount = _positive(cmd.amount, "amount", MONEY_MAX)
        if amount > MONEY_MAX - self._minted:
            raise _Reject("amount", f"{amount} would take the money held on the exchange "
                          f"past {MONEY_MAX}: at most {MONEY_MAX - self._minted} more "
                          "can be deposited")
        self._check_ts(cmd.ts_ns)
        events: list[Event] = []
        ts = self._advance(cmd.ts_ns, events)
        acct.balance += amount
        self._minted += amount
        events.append(Accepted(cmd.kind, acct.id, ts))
        return events

    def _withdraw(self, cmd: c.Withdraw) -> list[Event]:
        acct = self._account_of(cmd.account)
        amount = _positive(cmd.amount, "amount", MONEY_MAX)
        available = acct.balance - acct.reserved
        if amount > available:
            raise _Reject("amount", f"{amount} exceeds the available {available} "
                          "(balance less reservations)")
        self._check_ts(cmd.ts_ns)
        events: list[Event] = []
        ts = self._advance(cmd.ts_ns, events)
        acct.balance -= amount
        self._minted -= amount
        events.append(Accepted(cmd.kind, acct.id, ts))
        return events

    # ------------------------------------------------------ markets, capacity

    def _list_market(self, cmd: c.ListMarket) -> list[Event]:
        m = cmd.market
        if not isinstance(m, Market):
            raise _Reject("market", f"{m!r} is not a Market")
        try:
            split_market_id(m.id)
        except ValueError as exc:
            raise _Reject("market.region", str(exc)) from None
        if m.id in self._markets:
            raise _Reject("market", f"{m.id!r} is already listed")
        _positive(m.tick_size, "market.tick_size", PRICE_MAX)
        _positive(m.base_price, "market.base_price", PRICE_MAX)
        _positive(m.half_life_s, "market.half_life_s", 10 * 365 * 86_400)
        if not isinstance(m.execution, ExecutionRule):
            raise _Reject("market.execution", f"{m.execution!r} is not an execution rule")
        if not isinstance(m.self_trade, SelfTrade):
            raise _Reject("market.self_trade", f"{m.self_trade!r} is not a self-trade rule")
        self._check_ts(cmd.ts_ns)
        events: list[Event] = []
        ts = self._advance(cmd.ts_ns, events)
        self._add_venue(m)
        events.append(Accepted(cmd.kind, m.id, ts))
        return events

    def _add_venue(self, market: Market) -> _Venue:
        venue = self._books[market.id] = _Venue(market)
        self._markets[market.id] = market
        self._prices[market.id] = venue.index
        self._trades[market.id] = venue.trades
        return venue

    def _provider(self, account: object) -> Account:
        acct = self._account_of(account)
        if acct.role is not Role.PROVIDER:
            raise _Reject("account", f"{acct.id!r} is a {acct.role.value}, not a provider")
        return acct

    def _add_capacity(self, cmd: c.AddCapacity) -> list[Event]:
        acct = self._provider(cmd.account)
        market = self._market_of(cmd.market)
        cap = self._capacity.get((acct.id, market.id))
        held = cap.provided if cap else 0
        quantity = _positive(cmd.quantity, "quantity", QUANTITY_MAX - held)
        # Bought and traded instances in a market never exceed what was ever allocated
        # there, which never exceeds what is provided: bounding the market's total bounds
        # every holding and volume.
        provided = sum(p.provided for p in self._books[market.id].providers.values())
        if quantity > MONEY_MAX - provided:
            raise _Reject("quantity", f"{quantity} would take the capacity provided in "
                          f"{market.id!r} past {MONEY_MAX}")
        self._check_ts(cmd.ts_ns)
        events: list[Event] = []
        ts = self._advance(cmd.ts_ns, events)
        if cap is None:
            cap = self._capacity[(acct.id, market.id)] = Capacity()
            self._books[market.id].providers[acct.id] = cap
        cap.provided += quantity
        events.append(Accepted(cmd.kind, acct.id, ts))
        return events

    def _remove_capacity(self, cmd: c.RemoveCapacity) -> list[Event]:
        acct = self._provider(cmd.account)
        market = self._market_of(cmd.market)
        quantity = _positive(cmd.quantity, "quantity", QUANTITY_MAX)
        cap = self._capacity.get((acct.id, market.id))
        free = cap.free if cap else 0
        if cap is None or quantity > free:
            raise _Reject("quantity", f"{quantity} exceeds the {free} instances neither "
                          "allocated nor offered: cancel sells first; allocated capacity "
                          "is never revoked")
        self._check_ts(cmd.ts_ns)
        events: list[Event] = []
        ts = self._advance(cmd.ts_ns, events)
        cap.provided -= quantity
        events.append(Accepted(cmd.kind, acct.id, ts))
        return events

    # ---------------------------------------------------------------- orders

    def _crosses(self, buy: bool, price: int, markets: tuple[str, ...]) -> bool:
        books = self._books
        for m in markets:
            book = books[m]
            if buy:
                best = book.best_ask()
                if best is not None and best <= price:
                    return True
            else:
                best = book.best_bid()
                if best is not None and best >= price:
                    return True
        return False

    def _check_price(self, price: object, markets: tuple[str, ...]) -> int:
        value = _positive(price, "price", PRICE_MAX)
        for m in markets:
            tick = self._markets[m].tick_size
            if value % tick:
                raise _Reject("price", f"{value} is not on the tick of {m!r} ({tick})")
        return value

    def _place_checked(self, cmd: c.PlaceOrder) -> list[Event]:
        """Place an order of any shape, validating every field (raises :class:`_Reject`)."""
        order_id = _text(cmd.order_id, "order_id")
        if order_id in self._used_ids:
            raise _Reject("order_id", f"{order_id!r} was already used")
        acct = self._account_of(cmd.account)
        side = cmd.side
        if side is _BUY:
            buy = True
            if acct.role is Role.ADMIN:
                raise _Reject("account", f"{acct.id!r} is an admin account: admins do not trade")
        elif side is _SELL:
            buy = False
            if acct.role is not Role.PROVIDER:
                raise _Reject("side", f"{acct.id!r} is a {acct.role.value}: only providers sell")
        else:
            raise _Reject("side", f"{side!r} is not buy or sell")
        markets = cmd.markets
        if not isinstance(markets, tuple) or not markets:
            raise _Reject("markets", f"{markets!r} is not a non-empty tuple of market ids")
        for m in markets:
            self._market_of(m, "markets")
        if len(markets) > 1:
            if not buy:
                raise _Reject("markets", "a sell offers capacity in exactly one market")
            if len(set(markets)) != len(markets):
                raise _Reject("markets", f"{list(markets)} lists a market twice")
        price = self._check_price(cmd.price, markets)
        quantity = _positive(cmd.quantity, "quantity", QUANTITY_MAX)
        tif = cmd.tif
        if not isinstance(tif, TimeInForce):
            raise _Reject("tif", f"{tif!r} is not gtc, ioc or fok")
        aon, post_only = cmd.all_or_none, cmd.post_only
        if not isinstance(aon, bool):
            raise _Reject("all_or_none", f"{aon!r} is not true or false")
        if not isinstance(post_only, bool):
            raise _Reject("post_only", f"{post_only!r} is not true or false")
        if post_only:
            if tif is not _GTC:
                raise _Reject("post_only", f"a post-only order rests: tif {tif.value} "
                              "cannot be post-only")
            if self._crosses(buy, price, markets):
                raise _Reject("post_only", f"a post-only order at {price} would trade")
        cap = None
        if buy:
            cost = price * quantity
            if cost > acct.balance - acct.reserved:
                raise _Reject("quantity", f"{quantity} at {price} needs {cost} reserved; "
                              f"{acct.balance - acct.reserved} is available")
        else:
            cap = self._capacity.get((acct.id, markets[0]))
            free = cap.free if cap else 0
            if quantity > free:
                raise _Reject("quantity", f"{quantity} exceeds the {free} unallocated, "
                              f"unoffered instances {acct.id!r} provides in {markets[0]!r}")
        self._check_ts(cmd.ts_ns)

        events: list[Event] = []
        ts = self._advance(cmd.ts_ns, events)
        self._used_ids.add(order_id)
        self._seq += 1
        if buy:
            acct.reserved += price * quantity
        else:
            assert cap is not None
            cap.offered += quantity
        order = Order(order_id, acct.id, buy, markets, price, quantity, aon, self._seq, ts,
                      post_only)
        events.append(Accepted(cmd.kind, order_id, ts))
        self._execute(order, tif, ts, events)
        return events

    def _execute(self, order: Order, tif: TimeInForce, ts: int, events: list[Event]) -> None:
        """Match the incoming ``order``, then rest or cancel what is left."""
        steps: list[_Step] = []
        stop, fillable = False, 0
        if self._crosses(order.buy, order.price, order.markets):
            steps, stop, fillable = self._plan(order)
        if fillable < order.remaining and (tif is _FOK or order.aon):
            if tif is _GTC:  # an all-or-none order waits, whole, for enough liquidity
                self._rest(order, ts, events)
            else:
                self._drop(order, "fok" if tif is _FOK else "aon", ts, events)
            return
        for book, resting, quantity in steps:
            if quantity:
                self._trade(order, resting, book, quantity, ts, events)
            else:
                self._retire(resting, "self_trade", ts, events)
        if order.remaining:
            if stop:
                self._drop(order, "self_trade", ts, events)
            elif tif is _GTC:
                self._rest(order, ts, events)
            else:
                self._drop(order, "ioc" if tif is _IOC else "fok", ts, events)

    def _take(self, venue: _Venue, acct: Account, cap: Capacity | None, buy: bool,
              order_id: str, markets: tuple[str, ...], limit: int, need: int, seq: int,
              tif: TimeInForce, ts: int, events: list[Event]) -> None:
        """:meth:`_execute` for the common case, an accepted single-market GTC or IOC order
        (neither all-or-none nor post-only) whose price reaches the opposite heap's top.

        Takes the head of the best level while prices cross, with :meth:`Book.reduce` and
        :meth:`_trade` inlined, and makes the incoming :class:`Order` only if some of it is
        left. ``cap`` is the seller's capacity record when the order sells. Meeting a resting
        all-or-none order it cannot fill whole, it hands over to the general path.
        """
        market_id = venue.market
        account = acct.id
        if buy:
            heap, keys, levels = venue.ask_heap, venue.ask_keys, venue.asks
        else:
            heap, keys, levels = venue.bid_heap, venue.bid_keys, venue.bids
        at_ask = venue.at_ask
        accounts, providers, holdings = self._accounts, venue.providers, venue.holdings
        orders, by_account = self._orders, self._by_account
        tape, pending = venue.trades, venue.index.pending
        sold: Capacity | None  # the seller's capacity record
        stop = False
        while heap:
            best = heap[0] if buy else -heap[0]
            level = levels.get(best)
            if level is None:  # a stale price (Book.best_ask / best_bid, inlined)
                keys.discard(best)
                heappop(heap)
                continue
            if (best > limit) if buy else (best < limit):
                break
            head = level.orders[0]  # a level's head is always live
            if head.account == account:
                rule = venue.rules.self_trade
                if rule is SelfTrade.CANCEL_NEWEST:
                    stop = True
                    break
                self._retire(head, "self_trade", ts, events)
                heap, keys = ((venue.ask_heap, venue.ask_keys) if buy  # it may rebuild them
                              else (venue.bid_heap, venue.bid_keys))
                if rule is SelfTrade.CANCEL_BOTH:
                    stop = True
                    break
                continue
            rem = head.remaining
            if head.aon and rem > need:
                order = Order(order_id, account, buy, markets, limit, need, False, seq, ts)
                self._execute(order, tif, ts, events)
                return
            quantity = need if need < rem else rem
            if len(head.markets) != 1:  # a cross-market bid leaves every book it is in
                books = self._books
                for m in head.markets:
                    books[m].reduce(head, quantity)
                heap, keys = ((venue.ask_heap, venue.ask_keys) if buy
                              else (venue.bid_heap, venue.bid_keys))
            elif quantity != rem:
                level.quantity -= quantity
            else:  # Book.reduce of a level's head, inlined
                level.quantity -= quantity
                level.count -= 1
                if level.count:
                    queue = level.orders
                    queue.popleft()
                    while not queue[0].remaining:
                        queue.popleft()
                else:
                    venue.drop_level(not buy, best)
                    heap, keys = ((venue.ask_heap, venue.ask_keys) if buy
                                  else (venue.bid_heap, venue.bid_keys))
            head.remaining = rem - quantity
            if quantity == rem:
                del orders[head.id]
                del by_account[head.account][head.id]
            # Settlement, as _trade does it.
            if buy:
                price = head.price  # the ask, which is also the resting price
                amount = price * quantity
                acct.balance -= amount
                acct.reserved -= limit * quantity
                accounts[head.account].balance += amount
                sold = providers[head.account]
                buyer_id = account
            else:
                price = limit if at_ask else head.price
                amount = price * quantity
                buyer = accounts[head.account]
                buyer.balance -= amount
                buyer.reserved -= head.price * quantity
                acct.balance += amount
                sold = cap
                buyer_id = head.account
            assert sold is not None
            sold.offered -= quantity
            sold.allocated += quantity
            holdings[buyer_id] = holdings.get(buyer_id, 0) + quantity
            trade_seq = self._trade_seq = self._trade_seq + 1
            event = _new(Traded, (trade_seq, market_id, order_id, head.id, account, head.account,
                                  price, quantity, _BUY, ts) if buy else
                         (trade_seq, market_id, head.id, order_id, head.account, account,
                          price, quantity, _SELL, ts))
            events.append(event)
            tape.append(event)
            pending += price, quantity, ts  # PriceIndex.record, inlined
            need -= quantity
            if not need:
                return
        order = Order(order_id, account, buy, markets, limit, need, False, seq, ts)
        if stop:
            self._drop(order, "self_trade", ts, events)
        elif tif is _GTC:
            self._rest(order, ts, events)
        else:
            self._drop(order, "ioc", ts, events)

    def _candidates(self, order: Order) -> Iterator[tuple[_Venue, Order]]:
        """Resting orders ``order`` may meet, in priority order (best price, then arrival)."""
        limit = order.price
        if len(order.markets) == 1:
            yield from self._book_candidates(self._books[order.markets[0]], order.buy, limit)
            return
        streams = [((o.price, o.seq, i, book, o)
                    for book, o in self._book_candidates(self._books[m], True, limit))
                   for i, m in enumerate(order.markets)]
        for _, _, _, book, o in heapq.merge(*streams):
            yield book, o

    @staticmethod
    def _book_candidates(book: _Venue, buy: bool, limit: int
                         ) -> Iterator[tuple[_Venue, Order]]:
        for price, level in book.levels(not buy):
            if (price > limit) if buy else (price < limit):
                return
            for o in level.orders:
                if o.remaining:
                    yield book, o

    def _plan(self, order: Order) -> tuple[list[_Step], bool, int]:
        """The fills and self-trade cancels ``order`` would cause, whether self-trade
        prevention stops it, and how much it would fill. Changes nothing."""
        need = order.remaining
        steps: list[_Step] = []
        stop = False
        account = order.account
        for book, resting in self._candidates(order):
            if resting.account == account:
                rule = book.rules.self_trade
                if rule is not SelfTrade.CANCEL_NEWEST:
                    steps.append((book, resting, 0))
                if rule is not SelfTrade.CANCEL_OLDEST:
                    stop = True
                    break
                continue
            if resting.aon and resting.remaining > need:
                continue  # a resting all-or-none order trades whole or not at all
            quantity = need if need < resting.remaining else resting.remaining
            steps.append((book, resting, quantity))
            need -= quantity
            if not need:
                break
        return steps, stop, order.remaining - need

    def _trade(self, taker: Order, resting: Order, venue: _Venue, quantity: int, ts: int,
               events: list[Event]) -> None:
        market_id = venue.market
        if taker.buy:
            buy, sell = taker, resting
        else:
            buy, sell = resting, taker
        price = (sell.price if venue.rules.execution is ExecutionRule.AT_ASK
                 else resting.price)
        if len(resting.markets) == 1:
            venue.reduce(resting, quantity)
        else:
            books = self._books
            for m in resting.markets:
                books[m].reduce(resting, quantity)
        resting.remaining -= quantity
        if not resting.remaining:
            del self._orders[resting.id]
            del self._by_account[resting.account][resting.id]
        taker.remaining -= quantity
        amount = price * quantity
        accounts = self._accounts
        buyer = accounts[buy.account]
        buyer.balance -= amount
        buyer.reserved -= buy.price * quantity
        accounts[sell.account].balance += amount
        cap = venue.providers[sell.account]
        cap.offered -= quantity
        cap.allocated += quantity
        holdings = venue.holdings
        holdings[buy.account] = holdings.get(buy.account, 0) + quantity
        self._trade_seq += 1
        event = _new(Traded, (self._trade_seq, market_id, buy.id, sell.id, buy.account,
                              sell.account, price, quantity, _BUY if taker.buy else _SELL, ts))
        events.append(event)
        venue.trades.append(event)
        venue.index.pending += price, quantity, ts  # PriceIndex.record, inlined

    def _rest(self, order: Order, ts: int, events: list[Event]) -> None:
        books = self._books
        for m in order.markets:
            books[m].add(order)
        self._orders[order.id] = order
        mine = self._by_account.get(order.account)
        if mine is None:
            mine = self._by_account[order.account] = {}
        mine[order.id] = order
        events.append(_new(Rested, (order.id, order.account, _BUY if order.buy else _SELL,
                                    order.markets, order.price, order.remaining, ts)))

    def _release(self, order: Order) -> None:
        """Give back what ``order``'s open quantity holds: reserved money or offered capacity."""
        if order.buy:
            self._accounts[order.account].reserved -= order.price * order.remaining
        else:
            self._capacity[(order.account, order.markets[0])].offered -= order.remaining

    def _drop(self, order: Order, reason: str, ts: int, events: list[Event]) -> None:
        """Cancel the open rest of an incoming order that never rested."""
        remaining = order.remaining
        self._release(order)
        order.remaining = 0
        events.append(Cancelled(order.id, order.account, order.markets, remaining, reason, ts))

    def _retire(self, order: Order, reason: str, ts: int, events: list[Event]) -> None:
        """Cancel a resting order: out of every book it is in, its holdings released."""
        remaining = order.remaining
        books = self._books
        for m in order.markets:
            books[m].reduce(order, remaining)
        self._release(order)
        order.remaining = 0
        del self._orders[order.id]
        del self._by_account[order.account][order.id]
        events.append(Cancelled(order.id, order.account, order.markets, remaining, reason, ts))

    def _owned(self, order_id: object, account: object) -> Order:
        order = self._orders.get(order_id) if isinstance(order_id, str) else None
        if order is None:
            raise _Reject("order_id", f"{order_id!r} is not an open order")
        if order.account != account:
            raise _Reject("account", f"order {order.id!r} belongs to another account")
        return order

    def _cancel(self, cmd: c.CancelOrder) -> list[Event]:
        order = self._owned(cmd.order_id, cmd.account)
        self._check_ts(cmd.ts_ns)
        events: list[Event] = []
        ts = self._advance(cmd.ts_ns, events)
        events.append(Accepted(cmd.kind, order.id, ts))
        self._retire(order, "cancelled", ts, events)
        return events

    def _modify(self, cmd: c.ModifyOrder) -> list[Event]:
        order = self._owned(cmd.order_id, cmd.account)
        if cmd.price is None and cmd.quantity is None:
            raise _Reject("price", "give a new price, a new quantity or both")
        price = order.price if cmd.price is None else self._check_price(cmd.price,
                                                                        order.markets)
        quantity = (order.remaining if cmd.quantity is None
                    else _positive(cmd.quantity, "quantity", QUANTITY_MAX))
        acct = self._accounts[order.account]
        if order.buy:
            extra = price * quantity - order.price * order.remaining
            if extra > acct.balance - acct.reserved:
                raise _Reject("quantity", f"{quantity} at {price} needs {extra} more reserved; "
                              f"{acct.balance - acct.reserved} is available")
        else:
            cap = self._capacity[(order.account, order.markets[0])]
            if quantity - order.remaining > cap.free:
                raise _Reject("quantity", f"{quantity} exceeds the open {order.remaining} plus "
                              f"the {cap.free} free instances")
        kept = price == order.price and quantity <= order.remaining
        if order.post_only and not kept and self._crosses(order.buy, price, order.markets):
            raise _Reject("price", f"the post-only order at {price} would trade")
        self._check_ts(cmd.ts_ns)
        events: list[Event] = []
        ts = self._advance(cmd.ts_ns, events)
        events.append(Accepted(cmd.kind, order.id, ts))
        if kept:
            cut = order.remaining - quantity
            if cut:
                books = self._books
                for m in order.markets:
                    books[m].reduce(order, cut)
                if order.buy:
                    acct.reserved -= price * cut
                else:
                    self._capacity[(order.account, order.markets[0])].offered -= cut
                order.remaining = quantity
            events.append(Modified(order.id, order.account, order.markets, price, quantity,
                                   True, ts))
            return events
        # Losing priority: the old entry dies in every book and a new one arrives.
        old = order
        books = self._books
        for m in old.markets:
            books[m].reduce(old, old.remaining)
        self._release(old)
        old.remaining = 0
        del self._orders[old.id]
        del self._by_account[old.account][old.id]
        self._seq += 1
        order = Order(old.id, old.account, old.buy, old.markets, price, quantity, old.aon,
                      self._seq, ts, old.post_only)
        if order.buy:
            acct.reserved += price * quantity
        else:
            self._capacity[(order.account, order.markets[0])].offered += quantity
        events.append(Modified(order.id, order.account, order.markets, price, quantity, False,
                               ts))
        self._execute(order, _GTC, ts, events)
        return events

    def _tick(self, cmd: c.Tick) -> list[Event]:
        self._check_ts(cmd.ts_ns)
        events: list[Event] = []
        ts = self._advance(cmd.ts_ns, events)
        events.append(Accepted(cmd.kind, "", ts))
        return events

    # --------------------------------------------------------------- queries

    @property
    def clock(self) -> int:
        """The largest ``ts_ns`` applied so far."""
        return self._clock

    def markets(self) -> list[Market]:
        """The listed markets, in listing order."""
        return list(self._markets.values())

    def market(self, market_id: str) -> Market:
        """One listed market; :class:`NotFound` if not listed."""
        found = self._markets.get(market_id)
        if found is None:
            raise NotFound("market", market_id)
        return found

    def book(self, market_id: str, depth: int = 10
             ) -> tuple[list[tuple[int, int, int]], list[tuple[int, int, int]]]:
        """``(bids, asks)``, each the best ``depth`` levels as ``(price, quantity, orders)``."""
        self.market(market_id)
        book = self._books[market_id]
        return book.depth(True, depth), book.depth(False, depth)

    @staticmethod
    def _view(order: Order) -> OrderView:
        return OrderView(order.id, order.account, _BUY if order.buy else _SELL, order.markets,
                         order.price, order.remaining, order.aon, order.post_only, order.seq,
                         order.ts_ns)

    def order(self, order_id: str) -> OrderView | None:
        """The open order ``order_id``, None if it is not open (filled, cancelled, unknown)."""
        order = self._orders.get(order_id)
        return None if order is None else self._view(order)

    def orders(self, account: str) -> list[OrderView]:
        """The open orders of ``account``, oldest first."""
        mine = self._by_account.get(account, {})
        return [self._view(o) for o in sorted(mine.values(), key=lambda o: o.seq)]

    def account(self, account: str) -> AccountView:
        """Balance and reservation of ``account``; :class:`NotFound` if it does not exist."""
        acct = self._accounts.get(account)
        if acct is None:
            raise NotFound("account", account)
        return AccountView(acct.id, acct.role, acct.balance, acct.reserved)

    def accounts(self) -> list[AccountView]:
        """Every account, in opening order."""
        return [self.account(a) for a in self._accounts]

    def trades(self, market_id: str, limit: int = 100) -> list[Traded]:
        """The last ``limit`` trades in ``market_id`` (at most :data:`TRADE_HISTORY`), oldest
        first."""
        self.market(market_id)
        trades = self._trades[market_id]
        return list(trades)[-limit:] if limit > 0 else []

    def price(self, market_id: str) -> int:
        """The market price now: the trade EWMA at the clock, or the base price."""
        self.market(market_id)
        return self._prices[market_id].price(self._clock)

    def ohlc(self, market_id: str, interval_s: int = 60, limit: int = 100) -> list[list[int]]:
        """``[start_second, open, high, low, close, volume]`` bars of ``interval_s`` seconds."""
        self.market(market_id)
        if interval_s < 1:
            raise ValueError(f"interval_s {interval_s} must be >= 1")
        return self._prices[market_id].ohlc(interval_s, limit)

    def capacity(self, account: str) -> list[CapacityView]:
        """What ``account`` provides, per market (listing order)."""
        return [CapacityView(m, cap.provided, cap.allocated, cap.offered)
                for m in self._markets
                if (cap := self._capacity.get((account, m))) is not None]

    def allocations(self, account: str) -> dict[str, int]:
        """Instances ``account`` has bought, per market."""
        return {m: q for m, book in self._books.items() if (q := book.holdings.get(account, 0))}

    positions = allocations

    # ------------------------------------------------------------ invariants

    def check(self, full: bool = True) -> None:
        """Raise :class:`InvariantError` unless the state is consistent.

        Always (O(accounts + capacity records)): balances sum to deposits less
        withdrawals, every reservation lies within its balance, ``allocated +
        offered <= provided`` everywhere (each book's by-account index holding the same
        records), and bought instances equal allocated capacity per market. With
        ``full`` (O(open orders + levels)), also:
        levels hold exactly their live orders' quantity and count, a live head,
        no empty level; every open order is queued once in each of its books in
        time order; no book is crossed at rest (all-or-none orders aside);
        every reservation equals its account's open bids' limit x quantity and
        every offer its open sells.
        """
        _require(sum(a.balance for a in self._accounts.values()) == self._minted,
                 "money is not conserved")
        _require(self._minted <= MONEY_MAX, "money held exceeds 2**63 - 1")
        for acct in self._accounts.values():
            _require(0 <= acct.reserved <= acct.balance, f"{acct.id}: reserved beyond balance")
        allocated: dict[str, int] = {}
        for (account, market_id), cap in self._capacity.items():
            _require(min(cap.allocated, cap.offered) >= 0
                     and cap.allocated + cap.offered <= cap.provided,
                     f"{account} {market_id}: allocated + offered > provided")
            _require(self._books[market_id].providers.get(account) is cap,
                     f"{account} {market_id}: capacity index")
            allocated[market_id] = allocated.get(market_id, 0) + cap.allocated
        _require(sum(len(book.providers) for book in self._books.values())
                 == len(self._capacity), "capacity index size")
        held: dict[str, int] = {}
        for market_id, book in self._books.items():
            for quantity in book.holdings.values():
                held[market_id] = held.get(market_id, 0) + quantity
        _require(held == {m: q for m, q in allocated.items() if q},
                 "bought instances differ from allocated capacity")
        if full:
            self._check_books()

    def _check_books(self) -> None:
        seen: dict[tuple[str, str], int] = {}
        for market_id, book in self._books.items():
            for buy in (True, False):
                levels = book.bids if buy else book.asks
                keys = book.bid_keys if buy else book.ask_keys
                heap = [-p for p in book.bid_heap] if buy else book.ask_heap
                _require(set(levels) <= keys and len(heap) == len(keys) and set(heap) == keys,
                         f"{market_id}: price heap")
                for price, level in levels.items():
                    live = list(level.live())
                    _require(bool(live), f"{market_id}: empty level {price}")
                    _require(level.orders[0] is live[0], f"{market_id}: dead head at {price}")
                    _require(level.count == len(live), f"{market_id}: count at {price}")
                    _require(level.quantity == sum(o.remaining for o in live),
                             f"{market_id}: quantity at {price}")
                    _require([o.seq for o in live] == sorted(o.seq for o in live),
                             f"{market_id}: time order at {price}")
                    for o in live:
                        _require(o.buy is buy and o.price == price, f"{o.id}: misplaced")
                        _require(self._orders.get(o.id) is o, f"{o.id}: not indexed")
                        key = (o.id, market_id)
                        seen[key] = seen.get(key, 0) + 1
            bid = max((p for p, lv in book.bids.items() if any(not o.aon for o in lv.live())),
                      default=None)
            ask = min((p for p, lv in book.asks.items() if any(not o.aon for o in lv.live())),
                      default=None)
            _require(bid is None or ask is None or bid < ask,
                     f"{market_id}: crossed at rest, bid {bid} >= ask {ask}")
        expected = {(o.id, m): 1 for o in self._orders.values() for m in o.markets}
        _require(seen == expected, "open orders and book entries differ")
        _require(sum(len(v) for v in self._by_account.values()) == len(self._orders)
                 and all(self._orders.get(i) is o
                         for v in self._by_account.values() for i, o in v.items()),
                 "per-account order index")
        reserved: dict[str, int] = {}
        offered: dict[tuple[str, str], int] = {}
        for o in self._orders.values():
            _require(o.remaining > 0 and o.id in self._used_ids, f"{o.id}: bad open order")
            if o.buy:
                reserved[o.account] = reserved.get(o.account, 0) + o.price * o.remaining
            else:
                key = (o.account, o.markets[0])
                offered[key] = offered.get(key, 0) + o.remaining
        for acct in self._accounts.values():
            _require(acct.reserved == reserved.get(acct.id, 0), f"{acct.id}: reservation")
        for (account, market_id), cap in self._capacity.items():
            _require(cap.offered == offered.get((account, market_id), 0),
                     f"{account} {market_id}: offered")

    # ------------------------------------------------------ snapshot, hash

    def snapshot(self) -> dict[str, Any]:
        """The whole state as canonical JSON-safe data; :meth:`restore` reverses it.

        Open orders are listed by arrival, which rebuilds every queue in order.
        """
        orders = sorted(self._orders.values(), key=lambda o: o.seq)
        return {
            "version": SNAPSHOT_VERSION,
            "clock": self._clock,
            "second": self._second,
            "seq": self._seq,
            "trade_seq": self._trade_seq,
            "minted": self._minted,
            "markets": [encode_market(m) for m in self._markets.values()],
            "accounts": [[a.id, a.role.value, a.balance, a.reserved]
                         for a in sorted(self._accounts.values(), key=lambda a: a.id)],
            "capacity": [[a, m, cap.provided, cap.allocated, cap.offered]
                         for (a, m), cap in sorted(self._capacity.items())],
            "holdings": sorted([a, m, q] for m, book in self._books.items()
                               for a, q in book.holdings.items()),
            "orders": [[o.id, o.account, o.buy, list(o.markets), o.price, o.remaining, o.aon,
                        o.post_only, o.seq, o.ts_ns] for o in orders],
            "used_ids": sorted(self._used_ids),
            "trades": {m: [encode_event(t) for t in ts] for m, ts in self._trades.items()},
            "prices": {m: index.state() for m, index in self._prices.items()},
        }

    @classmethod
    def restore(cls, snapshot: dict[str, Any]) -> Exchange:
        """The exchange whose :meth:`snapshot` was ``snapshot``."""
        if snapshot.get("version") != SNAPSHOT_VERSION:
            raise ValueError(f"snapshot version {snapshot.get('version')!r} is not "
                             f"{SNAPSHOT_VERSION}")
        ex = cls()
        for data in snapshot["markets"]:
            venue = ex._add_venue(decode_market(data))
            venue.index.load(snapshot["prices"][venue.market])
            for t in snapshot["trades"][venue.market]:
                event = decode_event(t)
                assert isinstance(event, Traded)
                venue.trades.append(event)
        for account, role, balance, reserved in snapshot["accounts"]:
            ex._accounts[account] = Account(account, Role(role), balance, reserved)
        for account, market_id, provided, allocated, offered in snapshot["capacity"]:
            cap = ex._capacity[(account, market_id)] = Capacity(provided, allocated, offered)
            ex._books[market_id].providers[account] = cap
        for account, market_id, quantity in snapshot["holdings"]:
            ex._books[market_id].holdings[account] = quantity
        ex._used_ids = set(snapshot["used_ids"])
        for (order_id, account, buy, markets, price, remaining, aon, post_only, seq,
             ts_ns) in snapshot["orders"]:
            order = Order(order_id, account, buy, tuple(markets), price, remaining, aon, seq,
                          ts_ns, post_only)
            for m in order.markets:
                ex._books[m].add(order)
            ex._orders[order_id] = order
            ex._by_account.setdefault(account, {})[order_id] = order
        ex._clock = snapshot["clock"]
        ex._second = snapshot["second"]
        ex._seq = snapshot["seq"]
        ex._trade_seq = snapshot["trade_seq"]
        ex._minted = snapshot["minted"]
        return ex

    def state_hash(self) -> str:
        """sha256 hex of the canonical JSON of :meth:`snapshot`: equal states, equal hashes."""
        return hashlib.sha256(canonical_json(self.snapshot())).hexdigest()


def canonical_json(data: Any) -> bytes:
    """``data`` as compact JSON with sorted keys, UTF-8: one byte string per value."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False).encode()


def _require(ok: bool, what: str) -> None:
    if not ok:
        raise InvariantError(what)
