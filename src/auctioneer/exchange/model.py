"""The exchange's vocabulary: sides, time in force, execution and self-trade rules, markets.

A **market** is one instance type in one region, named ``"<region>/<instance_type>"``
(``"us-east-1/gpu.a100"``). Prices are ``int`` micro-units per instance-hour
(:mod:`auctioneer.money`), on the market's tick; quantities are ``int`` instances.

Example:
    >>> m = Market("us-east-1", "gpu.a100", tick_size=10_000, base_price=2_000_000)
    >>> m.id, m.execution.value, m.self_trade.value, m.half_life_s
    ('us-east-1/gpu.a100', 'at_ask', 'cancel_newest', 1800)
    >>> Market.of("eu-west-1/cpu.small", tick_size=1, base_price=40_000).region
    'eu-west-1'
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from auctioneer.exchange.refusals import REASONS, Why

__all__ = [
    "ExecutionRule",
    "Market",
    "Role",
    "SelfTrade",
    "Side",
    "TimeInForce",
    "split_market_id",
]


class Side(enum.Enum):
    """Which way an order trades: BUY bids for instances, SELL offers provided capacity."""

    BUY = "buy"
    SELL = "sell"


class TimeInForce(enum.Enum):
    """How long an order lives.

    GTC rests until filled or cancelled; IOC fills what it can at once and
    cancels the rest; FOK fills its whole quantity at once or nothing.
    """

    GTC = "gtc"
    IOC = "ioc"
    FOK = "fok"


class ExecutionRule(enum.Enum):
    """The price of a trade.

    AT_ASK (the default, as the seed does): the seller's ask, so the buyer
    gets any improvement, whichever order arrived first. AT_RESTING (as
    exchanges do): the price of the order that was resting in the book.
    """

    AT_ASK = "at_ask"
    AT_RESTING = "at_resting"


class SelfTrade(enum.Enum):
    """What happens when an incoming order would trade with a resting order of its own account.

    CANCEL_NEWEST cancels the incoming order's remainder (trades done so far
    stand); CANCEL_OLDEST cancels the resting order and keeps matching;
    CANCEL_BOTH cancels both.
    """

    CANCEL_NEWEST = "cancel_newest"
    CANCEL_OLDEST = "cancel_oldest"
    CANCEL_BOTH = "cancel_both"


class Role(enum.Enum):
    """What an account may do: TRADER buys; PROVIDER provides capacity, sells and buys; ADMIN
    lists markets (the service checks that) and never trades."""

    TRADER = "trader"
    PROVIDER = "provider"
    ADMIN = "admin"


def split_market_id(market_id: str) -> tuple[str, str]:
    """``(region, instance_type)`` of ``"region/instance_type"``; ValueError if malformed.

    Example:
        >>> split_market_id("us-east-1/gpu.a100")
        ('us-east-1', 'gpu.a100')
    """
    region, sep, kind = market_id.partition("/")
    if not sep or not region or not kind or "/" in kind or market_id != market_id.strip():
        raise ValueError(REASONS[Why.MARKET_ID].format(market_id))
    return region, kind


@dataclass(frozen=True, slots=True)
class Market:
    """One order book's rules: tick size, base price, execution and self-trade rules, half-life.

    ``base_price`` is the published price until the first trade;
    ``half_life_s`` the half-life of the trade-price EWMA, in seconds.
    """

    region: str
    instance_type: str
    tick_size: int
    base_price: int
    execution: ExecutionRule = ExecutionRule.AT_ASK
    half_life_s: int = 1800
    self_trade: SelfTrade = SelfTrade.CANCEL_NEWEST

    @property
    def id(self) -> str:
        """``"<region>/<instance_type>"``."""
        return f"{self.region}/{self.instance_type}"

    @classmethod
    def of(cls, market_id: str, *, tick_size: int, base_price: int,
           execution: ExecutionRule = ExecutionRule.AT_ASK, half_life_s: int = 1800,
           self_trade: SelfTrade = SelfTrade.CANCEL_NEWEST) -> Market:
        """The market named ``market_id`` (``"region/instance_type"``)."""
        region, kind = split_market_id(market_id)
        return cls(region, kind, tick_size, base_price, execution, half_life_s, self_trade)
