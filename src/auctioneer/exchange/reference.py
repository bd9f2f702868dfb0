"""The matching rules in their plainest form: a list of open orders, scanned in full.

:class:`ReferenceMatcher` is the specification the fast engine is tested
against (a differential hypothesis test compares their events and books). It
implements order placement, cancel and modify with the same rules --
price-time priority, cross-market bids, execution price, GTC/IOC/FOK,
all-or-none, post-only, self-trade prevention, market orders (a buy's spending
bound included) -- but no money or capacity:
callers feed it orders the engine would accept. Every operation is O(open
orders x log); nothing here is fast.

Example:
    >>> from auctioneer.exchange.model import Market
    >>> ref = ReferenceMatcher([Market.of("r/x", tick_size=1, base_price=10)])
    >>> _ = ref.place("s", "p", False, ("r/x",), 9, 2, "gtc", False, False, 0)
    >>> [e.kind for e in ref.place("b", "t", True, ("r/x",), 12, 3, "ioc", False, False, 0)]
    ['traded', 'cancelled']
    >>> ref.depth("r/x")
    ([], [])
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from auctioneer.exchange.events import Cancelled, Event, Modified, Rested, Traded
from auctioneer.exchange.limits import PRICE_MAX
from auctioneer.exchange.model import ExecutionRule, Market, SelfTrade, Side

__all__ = ["RefOrder", "ReferenceMatcher"]


@dataclass
class RefOrder:
    """An open order of the reference matcher."""

    id: str
    account: str
    buy: bool
    markets: tuple[str, ...]
    price: int
    remaining: int
    aon: bool
    post_only: bool
    seq: int


class ReferenceMatcher:
    """Open orders in one list; each incoming order scans all of them."""

    def __init__(self, markets: Iterable[Market]) -> None:
        self.markets = {m.id: m for m in markets}
        self.orders: list[RefOrder] = []
        self.seq = 0
        self.trade_seq = 0

    def crosses(self, buy: bool, price: int, markets: tuple[str, ...]) -> bool:
        """Whether an order at ``price`` would meet any open order on the other side."""
        return any(o.buy != buy and (o.price <= price if buy else o.price >= price)
                   and set(o.markets) & set(markets) for o in self.orders)

    def _meets(self, taker: RefOrder) -> list[tuple[str, RefOrder]]:
        found = []
        for o in self.orders:
            if o.buy == taker.buy:
                continue
            if taker.buy and o.price <= taker.price and o.markets[0] in taker.markets:
                found.append((o.markets[0], o))
            if not taker.buy and o.price >= taker.price and taker.markets[0] in o.markets:
                found.append((taker.markets[0], o))
        sign = 1 if taker.buy else -1
        return sorted(found, key=lambda mo: (sign * mo[1].price, mo[1].seq))

    def place(self, order_id: str, account: str, buy: bool, markets: tuple[str, ...],
              price: int, quantity: int, tif: str, aon: bool, post_only: bool,
              ts: int) -> list[Event]:
        """The events of placing this (valid) order; post-only orders that cross are refused
        by the caller, as the engine rejects them."""
        self.seq += 1
        order = RefOrder(order_id, account, buy, markets, price, quantity, aon, post_only,
                         self.seq)
        return self._execute(order, tif, ts)

    def place_market(self, order_id: str, account: str, buy: bool, markets: tuple[str, ...],
                     quantity: int, budget: int, tif: str, ts: int) -> list[Event] | None:
        """The events of this (valid) market order (``budget``: a buy's max_spend); None
        for a FOK that cannot fill whole, which the engine rejects."""
        order = RefOrder(order_id, account, buy, markets, PRICE_MAX if buy else 0, quantity,
                         False, False, self.seq + 1)
        plan, stop, need = self._plan(order, budget if buy else None)
        if need and tif == "fok":
            return None
        self.seq += 1
        events = self._carry(order, plan, ts, market=True)
        if order.remaining:
            events.append(self._cancel_event(order, "self_trade" if stop else "ioc", ts))
        return events

    def _plan(self, order: RefOrder, budget: int | None = None
              ) -> tuple[list[tuple[str, RefOrder, int]], bool, int]:
        """The fills and self-trade cancels, whether self-trade prevention stops the order,
        and what would be left unfilled; ``budget`` bounds a market buy's spending."""
        need = order.remaining
        plan: list[tuple[str, RefOrder, int]] = []
        stop = False
        for market, resting in self._meets(order):
            if resting.account == order.account:
                rule = self.markets[market].self_trade
                if rule in (SelfTrade.CANCEL_OLDEST, SelfTrade.CANCEL_BOTH):
                    plan.append((market, resting, 0))
                if rule in (SelfTrade.CANCEL_NEWEST, SelfTrade.CANCEL_BOTH):
                    stop = True
                    break
                continue
            fill = min(need, resting.remaining)
            if budget is not None:
                fill = min(fill, budget // resting.price)
                if fill == 0:
                    break
            if resting.aon and resting.remaining > fill:
                continue
            plan.append((market, resting, fill))
            need -= fill
            if budget is not None:
                budget -= fill * resting.price
            if need == 0:
                break
        return plan, stop, need

    def _carry(self, order: RefOrder, plan: list[tuple[str, RefOrder, int]], ts: int,
               market: bool = False) -> list[Event]:
        """Carry out ``plan``: a market order trades at the resting order's price."""
        events: list[Event] = []
        for venue, resting, fill in plan:
            if fill == 0:
                self.orders.remove(resting)
                events.append(self._cancel_event(resting, "self_trade", ts))
                continue
            buy, sell = (order, resting) if order.buy else (resting, order)
            at_ask = self.markets[venue].execution is ExecutionRule.AT_ASK
            price = sell.price if at_ask and not market else resting.price
            self.trade_seq += 1
            events.append(Traded(self.trade_seq, venue, buy.id, sell.id, buy.account,
                                 sell.account, price, fill, Side.BUY if order.buy else Side.SELL,
                                 ts))
            resting.remaining -= fill
            order.remaining -= fill
            if resting.remaining == 0:
                self.orders.remove(resting)
        return events

    def _execute(self, order: RefOrder, tif: str, ts: int) -> list[Event]:
        plan, stop, need = self._plan(order)
        if need and (tif == "fok" or order.aon):
            events: list[Event] = []
            if tif == "gtc":
                self._rest(order, ts, events)
            else:
                events.append(self._cancel_event(order, "fok" if tif == "fok" else "aon", ts))
            return events
        events = self._carry(order, plan, ts)
        if order.remaining:
            if stop:
                events.append(self._cancel_event(order, "self_trade", ts))
            elif tif == "gtc":
                self._rest(order, ts, events)
            else:
                events.append(self._cancel_event(order, tif, ts))
        return events

    def _rest(self, order: RefOrder, ts: int, events: list[Event]) -> None:
        self.orders.append(order)
        events.append(Rested(order.id, order.account, Side.BUY if order.buy else Side.SELL,
                             order.markets, order.price, order.remaining, ts))

    @staticmethod
    def _cancel_event(order: RefOrder, reason: str, ts: int) -> Cancelled:
        remaining, order.remaining = order.remaining, 0
        return Cancelled(order.id, order.account, order.markets, remaining, reason, ts)

    def find(self, order_id: str) -> RefOrder | None:
        """The open order ``order_id``, if any."""
        return next((o for o in self.orders if o.id == order_id), None)

    def cancel(self, order_id: str, ts: int) -> list[Event]:
        """Cancel an open order."""
        order = self.find(order_id)
        assert order is not None
        self.orders.remove(order)
        return [self._cancel_event(order, "cancelled", ts)]

    def modify(self, order_id: str, price: int, quantity: int, ts: int) -> list[Event]:
        """Modify an open order (the caller checked the engine would accept it)."""
        order = self.find(order_id)
        assert order is not None
        if price == order.price and quantity <= order.remaining:
            order.remaining = quantity
            return [Modified(order.id, order.account, order.markets, price, quantity, True, ts)]
        self.orders.remove(order)
        self.seq += 1
        new = RefOrder(order.id, order.account, order.buy, order.markets, price, quantity,
                       order.aon, order.post_only, self.seq)
        events: list[Event] = [Modified(order.id, order.account, order.markets, price,
                                        quantity, False, ts)]
        return events + self._execute(new, "gtc", ts)

    def depth(self, market: str) -> tuple[list[tuple[int, int, int]], list[tuple[int, int, int]]]:
        """``(bids, asks)`` of ``market``, all levels as ``(price, quantity, orders)``."""
        sides: tuple[dict[int, list[int]], dict[int, list[int]]] = ({}, {})
        for o in self.orders:
            if market in o.markets:
                level = sides[0 if o.buy else 1].setdefault(o.price, [0, 0])
                level[0] += o.remaining
                level[1] += 1
        bids = [(p, q, n) for p, (q, n) in sorted(sides[0].items(), reverse=True)]
        asks = [(p, q, n) for p, (q, n) in sorted(sides[1].items())]
        return bids, asks
