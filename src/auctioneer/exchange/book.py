"""One market's order book: price levels found through heaps, a FIFO queue per level.

Each side keeps a dict from price to :class:`Level` and a binary heap of its
prices (bids negated, so both heaps are min-heaps) for the best price: O(1)
to read, O(log P) to add a level, with C-implemented :mod:`heapq` doing the
work (a ``SortedList`` costs several times more per level added or removed,
and even to read its first element, in this loop). An emptied level leaves
the dict at once and its price stays in the heap, stale, until it surfaces at
the top; a price is never in a heap twice, and a heap that holds more than
twice as many stale prices as live ones (plus slack) is rebuilt, so it stays
O(levels). Iterating levels in order (depth queries, planning a fill-or-kill)
sorts the dict's keys: O(P log P), off the hot path.

A level queues its orders in arrival order in a deque. Cancelling marks the
order dead in O(1) (``remaining = 0``): the dead entry stays in the deque
until it reaches the front or the level empties, while the level's live
``quantity`` and ``count`` stay exact, so a level with no live order is
removed at once and a level's head is always live.

A cross-market bid is one :class:`Order` object queued in every listed book;
its ``remaining`` is shared, so a fill in one book shrinks it in all of them,
and the engine removes it from all of them when it is done.

Example:
    >>> book = Book("us-east-1/gpu.a100")
    >>> order = Order("o1", "ann", True, ("us-east-1/gpu.a100",), 500, 3, False, 1, 0)
    >>> book.add(order)
    >>> book.best_bid(), book.best_ask(), book.depth(True, 5)
    (500, None, [(500, 3, 1)])
    >>> book.reduce(order, 3); book.best_bid() is None
    True
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from heapq import heapify, heappop, heappush

__all__ = ["Book", "Level", "Order"]

_SLACK = 64


class Order:
    """A live order (mutable: ``remaining`` shrinks as it fills; 0 means dead).

    ``seq`` is its time priority: the exchange's arrival counter, renewed
    when a modification loses priority.
    """

    __slots__ = ("account", "aon", "buy", "id", "markets", "post_only", "price", "remaining",
                 "seq", "ts_ns")

    def __init__(self, order_id: str, account: str, buy: bool, markets: tuple[str, ...],
                 price: int, remaining: int, aon: bool, seq: int, ts_ns: int,
                 post_only: bool = False) -> None:
        self.id = order_id
        self.account = account
        self.buy = buy
        self.markets = markets
        self.price = price
        self.remaining = remaining
        self.aon = aon
        self.seq = seq
        self.ts_ns = ts_ns
        self.post_only = post_only

    def __repr__(self) -> str:
        side = "buy" if self.buy else "sell"
        return f"Order({self.id!r}, {side} {self.remaining} @ {self.price} #{self.seq})"


class Level:
    """The orders at one price, oldest first, with their live quantity and count."""

    __slots__ = ("count", "orders", "quantity")

    def __init__(self) -> None:
        self.orders: deque[Order] = deque()
        self.quantity = 0
        self.count = 0

    def live(self) -> Iterator[Order]:
        """The live orders, oldest first."""
        return (o for o in self.orders if o.remaining)


class Book:
    """Bids and asks of one market."""

    __slots__ = ("ask_heap", "ask_keys", "asks", "bid_heap", "bid_keys", "bids", "market")

    def __init__(self, market: str) -> None:
        self.market = market
        self.bids: dict[int, Level] = {}
        self.asks: dict[int, Level] = {}
        self.bid_heap: list[int] = []  # negated bid prices, some stale
        self.ask_heap: list[int] = []  # ask prices, some stale
        self.bid_keys: set[int] = set()  # what bid_heap holds
        self.ask_keys: set[int] = set()

    def best_bid(self) -> int | None:
        """The highest bid price, None when there is none. O(1) amortised."""
        heap, levels = self.bid_heap, self.bids
        while heap:
            top = -heap[0]
            if top in levels:
                return top
            self.bid_keys.discard(top)
            heappop(heap)
        return None

    def best_ask(self) -> int | None:
        """The lowest ask price, None when there is none. O(1) amortised."""
        heap, levels = self.ask_heap, self.asks
        while heap:
            top = heap[0]
            if top in levels:
                return top
            self.ask_keys.discard(top)
            heappop(heap)
        return None

    def add(self, order: Order) -> None:
        """Queue ``order`` at the back of its price level. O(log P) for a new level, else O(1)."""
        price = order.price
        levels = self.bids if order.buy else self.asks
        level = levels.get(price)
        if level is None:
            level = levels[price] = Level()
            if order.buy:
                if price not in self.bid_keys:
                    self.bid_keys.add(price)
                    heappush(self.bid_heap, -price)
            elif price not in self.ask_keys:
                self.ask_keys.add(price)
                heappush(self.ask_heap, price)
        level.orders.append(order)
        level.quantity += order.remaining
        level.count += 1

    def reduce(self, order: Order, quantity: int) -> None:
        """Account for ``order`` losing ``quantity`` open instances (the caller has not yet
        lowered ``order.remaining``); a level left with no live order is removed."""
        levels = self.bids if order.buy else self.asks
        level = levels[order.price]
        level.quantity -= quantity
        if quantity == order.remaining:
            level.count -= 1
            if not level.count:
                self.drop_level(order.buy, order.price)
                return
            queue = level.orders
            if queue[0] is order:
                queue.popleft()
                while not queue[0].remaining:
                    queue.popleft()
            elif len(queue) > 2 * level.count + 8:
                # Dead entries behind a long-lived head: compact so memory stays O(live).
                level.orders = deque(o for o in queue if o.remaining and o is not order)

    def drop_level(self, buy: bool, price: int) -> None:
        """Remove the emptied level at ``price`` from one side (its heap entry goes stale)."""
        levels = self.bids if buy else self.asks
        del levels[price]
        keys = self.bid_keys if buy else self.ask_keys
        if len(keys) > 2 * len(levels) + _SLACK:
            self._rebuild(buy)

    def _rebuild(self, buy: bool) -> None:
        """Drop the stale prices of one side's heap."""
        if buy:
            self.bid_keys = set(self.bids)
            self.bid_heap = [-p for p in self.bids]
            heapify(self.bid_heap)
        else:
            self.ask_keys = set(self.asks)
            self.ask_heap = list(self.asks)
            heapify(self.ask_heap)

    def prices(self, buy: bool) -> list[int]:
        """One side's prices, best first. O(P log P)."""
        return sorted(self.bids, reverse=True) if buy else sorted(self.asks)

    def levels(self, buy: bool) -> Iterator[tuple[int, Level]]:
        """``(price, level)`` best first."""
        levels = self.bids if buy else self.asks
        return ((p, levels[p]) for p in self.prices(buy))

    def depth(self, buy: bool, limit: int) -> list[tuple[int, int, int]]:
        """``(price, quantity, orders)`` of the best ``limit`` levels of one side."""
        out: list[tuple[int, int, int]] = []
        for price, level in self.levels(buy):
            if len(out) == limit:
                break
            out.append((price, level.quantity, level.count))
        return out
