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

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from auctioneer.checks import require_int
from auctioneer.exchange import commands as c
from auctioneer.exchange import invariants, snapshot
from auctioneer.exchange.accounts import AccountDesk
from auctioneer.exchange.book import Order
from auctioneer.exchange.capacity import CapacityDesk
from auctioneer.exchange.events import Accepted, Event, Modified, Rejected, Rested
from auctioneer.exchange.ledger import Account, Capacity
from auctioneer.exchange.limits import EXPECT_MAX, PRICE_MAX, QUANTITY_MAX, TRADE_HISTORY
from auctioneer.exchange.market import MarketOrders
from auctioneer.exchange.model import Side, TimeInForce
from auctioneer.exchange.pricing import SECOND
from auctioneer.exchange.queries import NotFound, OrderView, Queries
from auctioneer.exchange.state import Refusal, Why, positive, refused

__all__ = [
    "PRICE_MAX",
    "QUANTITY_MAX",
    "TRADE_HISTORY",
    "Exchange",
    "NotFound",
    "OrderView",
    "Refusal",
]

_BUY, _SELL = Side.BUY, Side.SELL
# Events are named tuples; on the matching path they are built with tuple.__new__ and every
# field in order, which skips the generated Python-level __new__ (a quarter of their cost).
_new = tuple.__new__
_PLACE = c.PlaceOrder
_GTC, _FOK = TimeInForce.GTC, TimeInForce.FOK


class Exchange(Queries, AccountDesk, CapacityDesk, MarketOrders):
    """Order books, accounts, capacity and prices; see the module docstring for the rules."""

    def __init__(self, *, expect_orders: int = 0) -> None:
        super().__init__()
        require_int(expect_orders, "expect_orders", 0, EXPECT_MAX)
        self._handlers: dict[type, Callable[[Any], list[Event]]] = {
            c.OpenAccount: self._open_account,
            c.Deposit: self._deposit,
            c.Withdraw: self._withdraw,
            c.ListMarket: self._list_market,
            c.AddCapacity: self._add_capacity,
            c.RemoveCapacity: self._remove_capacity,
            c.PlaceOrder: self._place_checked,
            c.MarketOrder: self._market_order,
            c.CancelOrder: self._cancel,
            c.ModifyOrder: self._modify,
            c.Tick: self._tick,
        }

    # ----------------------------------------------------------------- apply

    def apply(self, command: c.Command) -> Sequence[Event]:
        """Apply ``command``; return its events (one :class:`Rejected` if refused).

        O(log P) per price level touched plus O(1) per order filled.
        """
        if type(command) is not _PLACE:
            return self._dispatch(command)
        cmd = command
        try:
            acct, cap = self.admit(cmd)
        except Refusal as exc:
            return [Rejected(cmd.kind, exc.field, exc.reason)]
        markets = cmd.markets
        tif = cmd.tif
        if len(markets) != 1 or cmd.all_or_none or cmd.post_only or tif is _FOK:
            return self._place(cmd, acct, cap)
        # The fast path: an admitted single-market GTC or IOC order that is neither
        # all-or-none nor post-only, matched inline.
        order_id = cmd.order_id
        price = cmd.price
        quantity = cmd.quantity
        venue = self._books[markets[0]]
        if cap is None:
            buy = True
            acct.reserved += price * quantity
        else:
            buy = False
            cap.offered += quantity
        events: list[Event] = []
        ts = cmd.ts_ns
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
        events.append(_new(Rested, (order_id, account, cmd.side, markets, price, quantity, ts)))
        return events

    def apply_many(self, commands: Iterable[c.Command]) -> list[Sequence[Event]]:
        """:meth:`apply` each command in order; the events of each. The batch path journal
        group commits and request batches take (one call, where a native core loops in C)."""
        apply = self.apply
        return [apply(command) for command in commands]

    def _dispatch(self, command: c.Command) -> list[Event]:
        """Apply any command through its checked handler."""
        handler = self._handlers.get(type(command))
        if handler is None:
            return [Rejected(getattr(command, "kind", type(command).__name__), "type",
                             f"{type(command).__name__} is not a command")]
        try:
            return handler(command)
        except Refusal as exc:
            return [Rejected(command.kind, exc.field, exc.reason)]

    # ---------------------------------------------------------------- orders

    def _place_checked(self, cmd: c.PlaceOrder) -> list[Event]:
        """Place an order of any shape through the general matching path."""
        acct, cap = self.admit(cmd)
        return self._place(cmd, acct, cap)

    def _place(self, cmd: c.PlaceOrder, acct: Account, cap: Capacity | None) -> list[Event]:
        """Reserve for and match an admitted order (``cap`` is a sell's capacity record)."""
        events: list[Event] = []
        ts = self._advance(cmd.ts_ns, events)
        order_id = cmd.order_id
        self._used_ids.add(order_id)
        self._seq += 1
        buy = cap is None
        if cap is None:
            acct.reserved += cmd.price * cmd.quantity
        else:
            cap.offered += cmd.quantity
        order = Order(order_id, acct.id, buy, cmd.markets, cmd.price, cmd.quantity,
                      cmd.all_or_none, self._seq, ts, cmd.post_only)
        events.append(Accepted(cmd.kind, order_id, ts))
        self._execute(order, cmd.tif, ts, events)
        return events

    def _owned(self, order_id: object, account: object) -> Order:
        order = self._orders.get(order_id) if isinstance(order_id, str) else None
        if order is None:
            raise refused("order_id", Why.NOT_OPEN, order_id)
        if order.account != account:
            raise refused("account", Why.FOREIGN, order.id)
        return order

    def _cancel(self, cmd: c.CancelOrder) -> list[Event]:
        order = self._owned(cmd.order_id, cmd.account)
        events = self._accept(cmd.kind, order.id, cmd.ts_ns)
        self._retire(order, "cancelled", self._clock, events)
        return events

    def _modify(self, cmd: c.ModifyOrder) -> list[Event]:
        order = self._owned(cmd.order_id, cmd.account)
        if cmd.price is None and cmd.quantity is None:
            raise refused("price", Why.NO_CHANGE)
        price = order.price if cmd.price is None else self._check_price(cmd.price,
                                                                        order.markets)
        quantity = (order.remaining if cmd.quantity is None
                    else positive(cmd.quantity, "quantity", QUANTITY_MAX))
        acct = self._accounts[order.account]
        if order.buy:
            extra = price * quantity - order.price * order.remaining
            if extra > acct.balance - acct.reserved:
                raise refused("quantity", Why.MORE_COST, quantity, price, extra,
                              acct.balance - acct.reserved)
        else:
            cap = self._capacity[(order.account, order.markets[0])]
            if quantity - order.remaining > cap.free:
                raise refused("quantity", Why.MORE_CAPACITY, quantity, order.remaining, cap.free)
        kept = price == order.price and quantity <= order.remaining
        if order.post_only and not kept and self._crosses(order.buy, price, order.markets):
            raise refused("price", Why.MODIFY_TRADES, price)
        events = self._accept(cmd.kind, order.id, cmd.ts_ns)
        ts = self._clock
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
        return self._accept(cmd.kind, "", cmd.ts_ns)

    def reserve(self, orders: int) -> None:
        """A sizing hint: about ``orders`` more orders are coming than it has taken. An
        engine whose tables are sized up front (:class:`~auctioneer.exchange.NativeExchange`)
        makes room for them now, so the order path does not grow them; this one, whose
        tables are Python's, only checks the number (ValueError naming ``orders`` unless an
        int in 0..:data:`~auctioneer.exchange.limits.EXPECT_MAX`). ``expect_orders`` in the
        constructor is the same hint. It changes no state, so nothing journals it."""
        require_int(orders, "orders", 0, EXPECT_MAX)

    # ------------------------------------------------------ invariants, state

    def check(self, full: bool = True) -> None:
        """Raise :class:`~auctioneer.exchange.invariants.InvariantError` unless the state is
        consistent (:func:`~auctioneer.exchange.invariants.check` says what is checked)."""
        invariants.check(self, full)

    def snapshot(self) -> dict[str, Any]:
        """The whole state as canonical JSON-safe data; :meth:`restore` reverses it."""
        return snapshot.snapshot_of(self)

    @classmethod
    def restore(cls, state: dict[str, Any]) -> Exchange:
        """The exchange whose :meth:`snapshot` was ``state``, expecting as many orders again
        as it has taken (:meth:`reserve`): the tables would double to that at their next
        growth anyway, so it happens here instead of on the order path."""
        exchange = snapshot.restore_into(cls(), state)
        exchange.reserve(min(len(exchange._used_ids), EXPECT_MAX))
        return exchange

    def snapshot_json(self) -> bytes:
        """The canonical JSON of :meth:`snapshot`, which :meth:`state_hash` hashes and a
        snapshot file holds."""
        return b"".join(self.snapshot_pieces())

    def snapshot_pieces(self) -> list[bytes]:
        """:meth:`snapshot_json` in the pieces it joins (:func:`snapshot.snapshot_pieces`)."""
        return snapshot.snapshot_pieces(self)

    def state_hash(self) -> str:
        """sha256 hex of the canonical JSON of :meth:`snapshot`: equal states, equal hashes."""
        return snapshot.digest_of(self.snapshot_pieces())
