"""The demo: a few regions x instance types with providers and asks, and a random trader.

:func:`seed_demo` lists nine markets (three regions x three instance types),
opens three providers with capacity in each and a ladder of asks around the
base price, and a funded trader, once (a restart finds them). The demo
trader (:func:`start_demo_trader`) then places a random bid every few
hundred milliseconds around each market's price -- mostly small IOC bids
that trade, sometimes resting GTC bids it later cancels -- and tops the
providers' asks back up, so the dashboard moves.

Example:
    >>> [m.id for m in DEMO_MARKETS][:2]
    ['us-east-1/cpu.small', 'us-east-1/cpu.large']
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Iterator

from auctioneer.exchange.commands import (
    AddCapacity,
    CancelOrder,
    Deposit,
    ListMarket,
    OpenAccount,
    PlaceOrder,
)
from auctioneer.exchange.model import Market, Role, Side, TimeInForce
from auctioneer.service.runtime import Service
from auctioneer.service.sequencer import Maker, order_id, stamped

__all__ = ["DEMO_MARKETS", "DEMO_PROVIDERS", "DEMO_TRADER", "seed_demo", "start_demo_trader"]

_TYPES = (("cpu.small", 40_000), ("cpu.large", 340_000), ("gpu.a100", 3_200_000))
_REGIONS = (("us-east-1", 100), ("us-west-2", 104), ("eu-west-1", 112))
DEMO_MARKETS = tuple(
    Market(region, kind, tick_size=1_000, base_price=base * factor // 100 // 1_000 * 1_000,
           half_life_s=120)
    for region, factor in _REGIONS for kind, base in _TYPES)
"""The demo's markets: micro-units per instance-hour, a $0.001 tick, a 2-minute price half-life
(short, so the dashboard's price line moves)."""
DEMO_PROVIDERS = ("provider-1", "provider-2", "provider-3")
"""The demo's providers."""
DEMO_TRADER = "demo-trader"
"""The account the demo trader bids from."""
_CAPACITY = 200
_TRADER_FUNDS = 10**13


def _ask_ladder(market: Market, provider: int, rng: random.Random) -> Iterator[Maker]:
    """Asks from ``provider`` at 1..8 ticks-worth above the base price, a few instances each."""
    name = DEMO_PROVIDERS[provider]
    step = max(market.tick_size, market.base_price // 200 // market.tick_size
               * market.tick_size)
    for level in range(1, 5):
        price = market.base_price + step * (level + provider)
        quantity = rng.randint(2, 6)

        def make(ts: int, price: int = price, quantity: int = quantity) -> PlaceOrder:
            return PlaceOrder(order_id(ts), name, Side.SELL, (market.id,), price, quantity,
                              ts_ns=ts)

        yield make


async def seed_demo(service: Service) -> None:
    """List the demo markets, providers with capacity and asks, and a funded trader (once)."""
    exchange = service.exchange
    if exchange.markets():
        return
    rng = random.Random(1)
    makers = [stamped(ListMarket, m) for m in DEMO_MARKETS]
    for name in DEMO_PROVIDERS:
        makers.append(stamped(OpenAccount, name, Role.PROVIDER))
        makers.extend(stamped(AddCapacity, name, m.id, _CAPACITY) for m in DEMO_MARKETS)
    makers.append(stamped(OpenAccount, DEMO_TRADER, Role.TRADER))
    makers.append(stamped(Deposit, DEMO_TRADER, _TRADER_FUNDS))
    for m in DEMO_MARKETS:
        for provider in range(len(DEMO_PROVIDERS)):
            makers.extend(_ask_ladder(m, provider, rng))
    await service.sequencer.submit(makers)


async def _trade_forever(service: Service, seed: int) -> None:
    rng = random.Random(seed)
    resting: list[str] = []
    while True:
        await asyncio.sleep(rng.uniform(0.05, 0.4))
        exchange = service.exchange
        market = rng.choice(DEMO_MARKETS)
        bids, asks = exchange.book(market.id, 1)
        makers: list[Maker] = []
        if len(asks) == 0 or rng.random() < 0.05:
            for provider, name in enumerate(DEMO_PROVIDERS):
                makers.append(stamped(AddCapacity, name, market.id, 20))
                makers.extend(_ask_ladder(market, provider, rng))
        reference = asks[0][0] if asks else market.base_price
        ticks = rng.randint(-6, 3)
        price = max(market.tick_size, reference + ticks * market.tick_size
                    * max(1, market.base_price // 100_000))
        gtc = rng.random() < 0.3
        tif = TimeInForce.GTC if gtc else TimeInForce.IOC
        quantity = rng.randint(1, 3)

        def bid(ts: int, m: str = market.id, price: int = price, tif: TimeInForce = tif,
                q: int = quantity) -> PlaceOrder:
            return PlaceOrder(order_id(ts), DEMO_TRADER, Side.BUY, (m,), price, q, tif, ts_ns=ts)

        makers.append(bid)
        if len(resting) > 20:
            old = resting.pop(0)
            makers.append(stamped(CancelOrder, old, DEMO_TRADER))
        for command, _ in await service.sequencer.submit(makers):
            if (gtc and isinstance(command, PlaceOrder) and command.account == DEMO_TRADER
                    and exchange.order(command.order_id)):
                resting.append(command.order_id)


def start_demo_trader(service: Service, seed: int = 7) -> None:
    """Run the demo trader until the service stops."""
    task = asyncio.get_running_loop().create_task(_trade_forever(service, seed),
                                                  name="demo-trader")
    service.spawn(task)
