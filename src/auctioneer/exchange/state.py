"""The engine's state and the helpers every command handler shares.

:class:`State` holds the markets, books, accounts, capacity records and open
orders; the handlers are mixins over it, one concept per module
(:mod:`~auctioneer.exchange.accounts`, :mod:`~auctioneer.exchange.capacity`,
:mod:`~auctioneer.exchange.admission`, :mod:`~auctioneer.exchange.matching`,
:mod:`~auctioneer.exchange.queries`), which
:class:`~auctioneer.exchange.engine.Exchange` puts together. A handler refuses
a command by raising :class:`Refusal`, which ``apply`` turns into one
:class:`~auctioneer.exchange.events.Rejected` event before anything changed.

Example:
    >>> positive(3, "quantity", 10)
    3
    >>> try:
    ...     positive(0, "quantity", 10)
    ... except Refusal as exc:
    ...     exc.field, exc.reason
    ('quantity', '0 must be between 1 and 10')
"""

from __future__ import annotations

from collections import deque

from auctioneer.exchange.book import Book, Order
from auctioneer.exchange.events import Accepted, Event, PricePublished, Traded
from auctioneer.exchange.ledger import Account, Capacity
from auctioneer.exchange.limits import TRADE_HISTORY
from auctioneer.exchange.model import ExecutionRule, Market
from auctioneer.exchange.pricing import SECOND, PriceIndex
from auctioneer.exchange.refusals import REASONS, Why
from auctioneer.money import MONEY_MAX

__all__ = ["Refusal", "State", "Venue", "Why", "check_ts", "positive", "refused", "text"]


class Refusal(Exception):
    """A command refused: ``field`` names the offending field, ``reason`` says why.

    ``index`` is the position within a list field (``markets``) when one
    element is at fault, so a caller can name ``markets[1]``.
    """

    def __init__(self, field: str, reason: str, index: int | None = None) -> None:
        super().__init__(reason)
        self.field = field
        self.reason = reason
        self.index = index


def refused(field: str, why: Why, *args: object, index: int | None = None) -> Refusal:
    """The :class:`Refusal` of ``field`` for ``why``, its message formatted from ``args``."""
    return Refusal(field, REASONS[why].format(*args), index)


class Venue(Book):
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


def positive(value: object, field: str, limit: int) -> int:
    """``value`` if it is an int in ``1..limit``; else :class:`Refusal` naming ``field``."""
    if type(value) is not int:
        raise refused(field, Why.NOT_INT, value)
    if not 0 < value <= limit:
        raise refused(field, Why.RANGE, value, limit)
    return value


def text(value: object, field: str) -> str:
    """``value`` if it is a non-empty string; else :class:`Refusal` naming ``field``."""
    if not isinstance(value, str) or not value:
        raise refused(field, Why.NOT_TEXT, value)
    return value


def check_ts(ts_ns: object) -> None:
    """Refuse a ``ts_ns`` that is not a non-negative 64-bit int."""
    if type(ts_ns) is not int or not 0 <= ts_ns <= MONEY_MAX:
        raise refused("ts_ns", Why.BAD_TS, ts_ns)


class State:
    """Markets, books, accounts, capacity, open orders, clocks and counters."""

    def __init__(self) -> None:
        self._markets: dict[str, Market] = {}
        self._books: dict[str, Venue] = {}
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

    def _advance(self, ts_ns: object, events: list[Event]) -> int:
        """Move the clock to ``ts_ns`` (never back); publish prices at a new second."""
        clock = self._clock
        if type(ts_ns) is int and ts_ns > clock:
            clock = self._clock = ts_ns
            if clock // SECOND > self._second:
                self._publish(events)
        return clock

    def _accept(self, kind: str, ref: str, ts_ns: object) -> list[Event]:
        """The events of an accepted command so far: the clock checked and moved to ``ts_ns``
        (prices published at a new second), then :class:`Accepted`. Call it once every other
        check has passed: from here on the command changes the state."""
        check_ts(ts_ns)
        events: list[Event] = []
        events.append(Accepted(kind, ref, self._advance(ts_ns, events)))
        return events

    def _publish(self, events: list[Event]) -> None:
        """Publish every market's price at the whole second the clock has reached."""
        second = self._second = self._clock // SECOND
        at = second * SECOND
        for market_id, index in self._prices.items():
            events.append(PricePublished(market_id, index.publish(at), at))

    def _account_of(self, account: object) -> Account:
        found = self._accounts.get(account) if isinstance(account, str) else None
        if found is None:
            raise refused("account", Why.NO_ACCOUNT, account)
        return found

    def _market_of(self, market: object, field: str = "market",
                   index: int | None = None) -> Market:
        found = self._markets.get(market) if isinstance(market, str) else None
        if found is None:
            raise refused(field, Why.NO_MARKET, market, index=index)
        return found

    def _add_venue(self, market: Market) -> Venue:
        venue = self._books[market.id] = Venue(market)
        self._markets[market.id] = market
        self._prices[market.id] = venue.index
        self._trades[market.id] = venue.trades
        return venue

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
