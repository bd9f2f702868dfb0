"""The exchange benchmark's seeded order streams and the exchange setup they run on.

:func:`order_stream` is the plain stream every engine takes: limit orders,
half buys and half sells, prices within :data:`SPREAD_TICKS` ticks of a fixed
:data:`MID` (so the sides cross often), 1..10 instances. :func:`mixed_stream`
adds resting all-or-none orders and cross-market bids, which only the Python
and the native engine take. :data:`SETUP` and :data:`MIX_SETUP` are the
markets, accounts, money and capacity the streams are placed against. Building
a stream is O(count).

Example:
    >>> len(place_commands(order_stream(5, seed=1))), SETUP[0].market.id
    (5, 'bench/gpu')
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from auctioneer.exchange import (
    AddCapacity,
    Deposit,
    ListMarket,
    Market,
    OpenAccount,
    PlaceOrder,
    Role,
    Side,
)

__all__ = ["MARKET", "MID", "MIX_SETUP", "SETUP", "SPREAD_TICKS", "TICK", "Order",
           "mixed_stream", "order_stream", "place_commands"]

MID = 2_000_000
"""The stream's mid price: $2.00 per instance-hour, in micro-units."""
TICK = 1_000
"""Price tick: a tenth of a cent."""
SPREAD_TICKS = 20
"""Prices lie within this many ticks of the mid."""
MARKET = Market.of("bench/gpu", tick_size=TICK, base_price=MID)
"""The plain stream's one market."""
_MIX_MARKETS = (MARKET, *(Market.of(f"bench{i}/gpu", tick_size=TICK, base_price=MID)
                         for i in (2, 3)))

Order = tuple[bool, int, int]
"""``(buy, price, quantity)``."""


def order_stream(count: int, seed: int) -> list[Order]:
    """The seeded stream of ``count`` orders.

    Example:
        >>> order_stream(2, seed=1)
        [(True, 1984000, 5), (True, 2008000, 8)]
    """
    rng = random.Random(seed)
    return [(rng.random() < 0.5, MID + TICK * rng.randint(-SPREAD_TICKS, SPREAD_TICKS),
             rng.randint(1, 10)) for _ in range(count)]


def mixed_stream(count: int, seed: int, mix: int) -> list[PlaceOrder]:
    """The seeded mixed stream: ``mix`` % all-or-none orders, ``mix`` % cross-market bids.

    Example:
        >>> [(o.side.name, len(o.markets), o.all_or_none) for o in mixed_stream(3, 1, 40)]
        [('BUY', 2, False), ('BUY', 1, True), ('BUY', 2, False)]
    """
    rng = random.Random(seed)
    ids = tuple(m.id for m in _MIX_MARKETS)
    out = []
    for i in range(count):
        kind = rng.random() * 100
        buy = rng.random() < 0.5
        price = MID + TICK * rng.randint(-SPREAD_TICKS, SPREAD_TICKS)
        quantity = rng.randint(1, 10)
        if kind < mix:  # a cross-market bid, mostly resting under the asks
            markets = tuple(rng.sample(ids, rng.choice((2, 3))))
            out.append(PlaceOrder(f"x{i}", "buyer", Side.BUY, markets, price - 5 * TICK,
                                  quantity, ts_ns=i * 1_000))
            continue
        account, side = ("buyer", Side.BUY) if buy else ("seller", Side.SELL)
        if kind < 2 * mix:  # an all-or-none order that mostly rests: large, off the mid
            out.append(PlaceOrder(f"a{i}", account, side, (rng.choice(ids),),
                                  price + (-4 if buy else 4) * TICK, 5 * quantity,
                                  all_or_none=True, ts_ns=i * 1_000))
        else:
            out.append(PlaceOrder(f"o{i}", account, side, (rng.choice(ids),), price, quantity,
                                  ts_ns=i * 1_000))
    return out


SETUP = (ListMarket(MARKET), OpenAccount("buyer", Role.TRADER), Deposit("buyer", 10**17),
         OpenAccount("seller", Role.PROVIDER), AddCapacity("seller", MARKET.id, 10**9 - 1))
"""The plain stream's market, its buyer with money and its seller with capacity."""

MIX_SETUP = (*(ListMarket(m) for m in _MIX_MARKETS), *SETUP[1:],
             *(AddCapacity("seller", m.id, 10**9 - 1) for m in _MIX_MARKETS[1:]))
""":data:`SETUP` over the mixed stream's three markets."""


def place_commands(stream: Sequence[Order]) -> list[PlaceOrder]:
    """The plain stream as the exchange's commands against :data:`SETUP`."""
    markets = (MARKET.id,)
    return [PlaceOrder(f"o{i}", "buyer" if buy else "seller", Side.BUY if buy else Side.SELL,
                       markets, price, quantity, ts_ns=i * 1_000)
            for i, (buy, price, quantity) in enumerate(stream)]
