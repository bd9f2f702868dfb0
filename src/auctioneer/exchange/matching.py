"""Matching: an accepted order meets the opposite side, trades, rests or is cancelled.

Price-time priority per book; a cross-market bid takes the best ask among
its markets (lowest price, then earliest arrival). :meth:`Matching._execute`
is the general path: it plans the whole fill first (read-only), so a
fill-or-kill or all-or-none order that cannot fill whole changes nothing in
the books, then carries the plan out. :meth:`Matching._take` is the same
rules for the common case (one market, neither all-or-none nor post-only),
inlined; the state machine in ``tests/exchange`` runs both and compares.
Settlement moves price x quantity from buyer to seller once, releases the
buyer's reservation for those instances at its limit, and allocates the
seller's capacity once.

Example:
    >>> from auctioneer.exchange import Exchange
    >>> issubclass(Exchange, Matching)
    True
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator
from heapq import heappop

from auctioneer.exchange.book import Order
from auctioneer.exchange.events import Cancelled, Event, Rested, Traded
from auctioneer.exchange.ledger import Account, Capacity
from auctioneer.exchange.limits import PRICE_MAX
from auctioneer.exchange.model import ExecutionRule, SelfTrade, Side, TimeInForce
from auctioneer.exchange.state import State, Venue

__all__ = ["MarketTaker", "Matching"]

_BUY, _SELL = Side.BUY, Side.SELL
# Events are named tuples; on the matching path they are built with tuple.__new__ and every
# field in order, which skips the generated Python-level __new__ (a quarter of their cost).
_new = tuple.__new__
_GTC, _IOC, _FOK = TimeInForce.GTC, TimeInForce.IOC, TimeInForce.FOK
_Step = tuple[Venue, Order, int]  # (book, resting order, quantity); 0: self-trade cancel


class MarketTaker(Order):
    """An incoming market order while it matches (it never rests): its price is a bound no
    resting order passes, and ``budget`` what a buy may still spend."""

    __slots__ = ("budget",)

    def __init__(self, order_id: str, account: str, buy: bool, markets: tuple[str, ...],
                 quantity: int, budget: int, seq: int, ts_ns: int) -> None:
        super().__init__(order_id, account, buy, markets, PRICE_MAX if buy else 0, quantity,
                         False, seq, ts_ns)
        self.budget = budget


class Matching(State):
    """Execution, planning, trades and cancels of orders already admitted."""

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

    def _take(self, venue: Venue, acct: Account, cap: Capacity | None, buy: bool,
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
            pending.extend((price, quantity, ts))  # PriceIndex.record, inlined
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

    def _candidates(self, order: Order) -> Iterator[tuple[Venue, Order]]:
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
    def _book_candidates(book: Venue, buy: bool, limit: int
                         ) -> Iterator[tuple[Venue, Order]]:
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
        # A market buy's money limits its fills; candidates come cheapest first.
        budget = order.budget if type(order) is MarketTaker and order.buy else None
        for book, resting in self._candidates(order):
            if resting.account == account:
                rule = book.rules.self_trade
                if rule is not SelfTrade.CANCEL_NEWEST:
                    steps.append((book, resting, 0))
                if rule is not SelfTrade.CANCEL_OLDEST:
                    stop = True
                    break
                continue
            quantity = need if need < resting.remaining else resting.remaining
            if budget is not None:
                affordable = budget // resting.price
                if not affordable:
                    break
                if affordable < quantity:
                    quantity = affordable
                budget -= quantity * resting.price
            if resting.aon and resting.remaining > quantity:
                if budget is not None:
                    budget += quantity * resting.price
                continue  # a resting all-or-none order trades whole or not at all
            steps.append((book, resting, quantity))
            need -= quantity
            if not need:
                break
        return steps, stop, order.remaining - need

    def _trade(self, taker: Order, resting: Order, venue: Venue, quantity: int, ts: int,
               events: list[Event]) -> None:
        market_id = venue.market
        if taker.buy:
            buy, sell = taker, resting
        else:
            buy, sell = resting, taker
        market = type(taker) is MarketTaker
        # A market order has no price of its own: it trades at the resting order's.
        price = (sell.price if venue.rules.execution is ExecutionRule.AT_ASK and not market
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
        if market and taker.buy:
            assert isinstance(taker, MarketTaker)
            buyer.reserved -= amount  # it reserved its budget, and spends it as it goes
            taker.budget -= amount
        else:
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
        venue.index.pending.extend((price, quantity, ts))  # PriceIndex.record, inlined

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
