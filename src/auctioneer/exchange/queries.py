"""Read-only queries: markets, books, open orders, accounts, trades, prices, capacity.

Queries never change the state (a price or OHLC query folds unpublished
trades into a copy). A market or account that does not exist raises
:class:`NotFound` naming it.

Example:
    >>> from auctioneer.exchange import Exchange
    >>> try:
    ...     Exchange().market("r/x")
    ... except NotFound as exc:
    ...     str(exc)
    "market 'r/x' is not known"
"""

from __future__ import annotations

from dataclasses import dataclass

from auctioneer.exchange.book import Order
from auctioneer.exchange.events import Traded
from auctioneer.exchange.ledger import AccountView, CapacityView
from auctioneer.exchange.model import Market, Side
from auctioneer.exchange.state import State

__all__ = ["NotFound", "OrderView", "Queries"]

_BUY, _SELL = Side.BUY, Side.SELL


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


class Queries(State):
    """The exchange's read side."""

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
