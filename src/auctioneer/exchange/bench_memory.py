"""The exchange benchmark's memory figures: bytes per resting order and per market.

For the Python engine (``tracemalloc``: the growth from resting 20,000
non-crossing orders, and from listing 200 markets, divided by their number;
order ids are the caller's strings, not counted), for the native engine
(the same, plus the C engine's own blocks, which ``tracemalloc`` does not see)
and for the native book (its pools, allocated up front, divided by the orders
and levels they hold). Part of ``auctioneer bench exchange``
(:mod:`auctioneer.exchange.bench`), which prints them beside its timings.

Example:
    >>> from auctioneer.exchange import Market
    >>> m = memory_figures(Market.of("r/gpu", tick_size=1_000, base_price=2_000_000), 200, 4)
    >>> m.python_order > 0 and m.engine_order > 0 and m.native_level == 32
    True
"""

from __future__ import annotations

import tracemalloc
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from auctioneer.exchange import (
    Deposit,
    Exchange,
    ListMarket,
    Market,
    NativeExchange,
    OpenAccount,
    PlaceOrder,
    Role,
    Side,
)
from auctioneer.exchange._match import Book

__all__ = ["Memory", "memory_figures"]

_LEVEL_BYTES = 32  # sizeof(mc_level) in match_core.h


@dataclass(frozen=True, slots=True)
class Memory:
    """Bytes per resting order and per market, Python engine and native book."""

    python_order: float
    python_market: float
    native_order: float
    native_level: float
    engine_order: float = 0.0
    """The native engine (:class:`~auctioneer.exchange.NativeExchange`), per resting order."""
    engine_market: float = 0.0
    """The native engine, per market."""


def _traced(build: Callable[[], object]) -> int:
    """Bytes still allocated by ``build`` (what it returns is kept alive while measured)."""
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        kept = build()
        grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    del kept
    return grown


def memory_figures(market: Market, orders: int = 20_000, markets: int = 200) -> Memory:
    """Bytes per resting order and per market, with orders and listings priced as ``market``
    (see the module docstring)."""
    base = Exchange()
    for cmd in (ListMarket(market), OpenAccount("buyer", Role.TRADER),
                Deposit("buyer", 10**17)):
        base.apply(cmd)
    price = market.base_price
    commands = [PlaceOrder(f"m{i}", "buyer", Side.BUY, (market.id,),
                           price - market.tick_size * (i % 1000), 1, ts_ns=i)
                for i in range(orders)]

    def rest() -> object:
        for cmd in commands:
            base.apply(cmd)  # its events are the caller's, dropped at once
        return base

    def listings() -> object:
        ex = Exchange()
        for i in range(markets):
            ex.apply(ListMarket(Market.of(f"r{i}/gpu", tick_size=market.tick_size,
                                             base_price=market.base_price)))
        return ex

    per_order = _traced(rest) / orders  # the id strings are the caller's, made before
    book = Book(orders, 1000)
    levels_bytes = 2 * 1000 * _LEVEL_BYTES
    engine_order, engine_market = _engine_memory(market, commands, markets)
    return Memory(per_order, _traced(listings) / markets,
                  (book.nbytes - levels_bytes) / orders, _LEVEL_BYTES, engine_order,
                  engine_market)


def _engine_memory(market: Market, commands: Sequence[PlaceOrder],
                   markets: int) -> tuple[float, float]:
    """The native engine's bytes per resting order (``commands`` rest) and per market."""
    ex = NativeExchange()
    ex.apply_many([ListMarket(market), OpenAccount("buyer", Role.TRADER),
                   Deposit("buyer", 10**17), commands[0]])
    before = ex.nbytes

    def rest() -> object:
        ex.apply_many(commands[1:])
        return ex

    per_order = (_traced(rest) + ex.nbytes - before) / (len(commands) - 1)
    listed = NativeExchange()
    for i in range(markets):
        listed.apply(ListMarket(Market.of(f"r{i}/gpu", tick_size=market.tick_size,
                                             base_price=market.base_price)))
    listed.apply_many([OpenAccount("t", Role.TRADER), Deposit("t", 10**12)])
    # the state moves to C
    listed.apply(PlaceOrder("x", "t", Side.BUY, ("r0/gpu",), market.base_price, 1))
    if not listed.native:  # pragma: no cover - the test of this module holds it
        raise AssertionError("the native engine did not take the order")
    return per_order, listed.nbytes / markets
