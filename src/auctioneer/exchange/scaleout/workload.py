"""A seeded stream of exchange commands over several regions: for the tests, the demo and the bench.

Setup first (markets, accounts, a deposit per account and partition,
provider capacity), then a mix of sells by providers, buys by traders
(some cross-market over two instance types of one region), cancels and
clock ticks, on each market's tick and around its base price so that
orders rest, cross and trade. Each command comes with its idempotency key
and, for money, its partition. Same arguments, same commands.

Example:
    >>> items = workload(PartitionMap(2), orders=10, seed=1)
    >>> items[0].msg_id, type(items[0].command).__name__
    ('w1-0', 'ListMarket')
    >>> len(items) == len(workload(PartitionMap(2), orders=10, seed=1))
    True
"""

from __future__ import annotations

import random

from auctioneer.exchange import commands
from auctioneer.exchange.commands import Command
from auctioneer.exchange.model import Market, Role, Side, TimeInForce
from auctioneer.exchange.scaleout.partition import PartitionMap
from auctioneer.exchange.scaleout.publisher import Routed

__all__ = ["REGIONS", "workload"]

REGIONS = ("us-east-1", "us-west-2", "eu-west-1", "ap-south-1")
_TYPES = ("gpu.a100", "cpu.large")
_TICK = 10_000
_BASE = 2_000_000
_SECOND = 1_000_000_000


def workload(partitions: PartitionMap, *, orders: int, seed: int = 0,
             regions: tuple[str, ...] = REGIONS, traders: int = 4,
             providers: int = 2) -> list[Routed]:
    """Setup plus ``orders`` order-flow commands over ``regions`` (O(orders))."""
    rng = random.Random(seed)
    markets = [Market(r, t, _TICK, _BASE) for r in regions for t in _TYPES]
    buyers = [f"trader{i}" for i in range(traders)]
    sellers = [f"provider{i}" for i in range(providers)]
    flow: list[tuple[Command, int | None]] = []
    flow += [(commands.ListMarket(m), None) for m in markets]
    flow += [(commands.OpenAccount(a, Role.TRADER), None) for a in buyers]
    flow += [(commands.OpenAccount(a, Role.PROVIDER), None) for a in sellers]
    flow += [(commands.Deposit(a, 10**12), p) for a in buyers + sellers for p in partitions.all]
    flow += [(commands.AddCapacity(a, m.id, 10**6), None) for a in sellers for m in markets]
    placed: list[tuple[str, str]] = []
    ts = 0
    for n in range(orders):
        ts += rng.randrange(1, _SECOND // 50)
        roll = rng.random()
        if roll < 0.02:
            flow.append((commands.Tick(ts), None))
            continue
        if roll < 0.12 and placed:
            order_id, account = placed[rng.randrange(len(placed))]
            flow.append((commands.CancelOrder(order_id, account, ts), None))
            continue
        market = markets[rng.randrange(len(markets))]
        order_id = f"o{seed}-{n}"
        price = _BASE + _TICK * rng.randrange(-20, 21)
        quantity = rng.randrange(1, 6)
        tif = TimeInForce.IOC if rng.random() < 0.1 else TimeInForce.GTC
        if roll < 0.55:
            account = sellers[rng.randrange(len(sellers))]
            order = commands.PlaceOrder(order_id, account, Side.SELL, (market.id,),
                                        price + 5 * _TICK, quantity, tif, ts_ns=ts)
        else:
            account = buyers[rng.randrange(len(buyers))]
            ids: tuple[str, ...] = (market.id,)
            if rng.random() < 0.2:  # a cross-market bid over the region's other type
                other = _TYPES[1] if market.instance_type == _TYPES[0] else _TYPES[0]
                ids = (market.id, f"{market.region}/{other}")
            order = commands.PlaceOrder(order_id, account, Side.BUY, ids, price - 5 * _TICK,
                                        quantity, tif, ts_ns=ts)
        flow.append((order, None))
        placed.append((order_id, account))
    return [Routed(cmd, f"w{seed}-{i}", p) for i, (cmd, p) in enumerate(flow)]
