"""Cross-partition bids against a real nats-server, with the coordinator killed mid-saga.

Bids spanning two partitions run while another trader and a provider keep
publishing to both partitions. The coordinator is cancelled at random points
(between any two awaits: after a leg is stored but before its outcome is
logged, after an outcome is logged but before the next leg, ...) and the
nats-server itself is killed and restarted once; every time, a new
coordinator is rebuilt from its log stream alone and finishes the bids. Fresh
replicas of both partitions then replay the command stream and show: every
leg placed once, no bid bought more than its quantity, the log's outcomes
are what the legs did, money and capacity conserved, nothing reserved but
the GTC rests.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from typing import Any

from nats.js import JetStreamContext

from auctioneer.exchange.commands import (
    AddCapacity,
    Command,
    Deposit,
    ListMarket,
    OpenAccount,
    PlaceOrder,
)
from auctioneer.exchange.events import Accepted, Event, Traded
from auctioneer.exchange.model import Market, Role, Side, TimeInForce
from auctioneer.exchange.scaleout import (
    LocalNats,
    PartitionEngine,
    Publisher,
    connect,
    last_sequence,
)
from auctioneer.exchange.scaleout.coordinator import Coordinator, CrossBid, drive, place
from auctioneer.exchange.scaleout.crossbid import NatsLegs, StreamLog
from auctioneer.exchange.scaleout.partition import PartitionMap

from .nats_fixture import bounded, nats_server

__all__ = ["nats_server"]

MAP = PartitionMap(2, {"r0": 0, "r1": 1})
MARKETS = ("r0/gpu", "r1/gpu")


def _setup() -> list[tuple[Command, int | None]]:
    items: list[tuple[Command, int | None]] = [
        (OpenAccount(a, r), None)
        for a, r in (("p", Role.PROVIDER), ("t", Role.TRADER), ("u", Role.TRADER))]
    for p, m in enumerate(MARKETS):
        items += [(ListMarket(Market.of(m, tick_size=1, base_price=5)), None),
                  (AddCapacity("p", m, 1_000), None), (Deposit("t", 5_000, 1), p),
                  (Deposit("u", 5_000, 1), p)]
    return items


async def _traffic(js: JetStreamContext, rng: random.Random, count: int) -> None:
    """A provider offering and another trader bidding, in both partitions."""
    publisher = await Publisher.open(js, MAP)
    for i in range(count):
        market = rng.choice(MARKETS)
        sell = rng.random() < 0.6
        order = PlaceOrder(f"x{i}", "p" if sell else "u", Side.SELL if sell else Side.BUY,
                           (market,), rng.randint(2, 8), rng.randint(1, 4))
        await publisher.publish(order, f"x{i}")


class Crash(Exception):
    """The coordinator process dies here."""


class Dying:
    """Passes ``budget`` calls to the real port or log, then dies: before the next call
    or just after it (stored, but the caller never learns it)."""

    def __init__(self, real: Any, budget: int, after: bool) -> None:
        self.real, self.budget, self.after = real, budget, after

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.real, name)

        async def call(*args: Any) -> Any:
            self.budget -= 1
            if self.budget < 0 and not self.after:
                raise Crash
            result = await method(*args)
            if self.budget < 0:
                raise Crash
            return result
        return call


async def _incarnation(url: str, bids: list[CrossBid], rng: random.Random) -> bool:
    """One coordinator's life: rebuild from the log, finish open bids, take new ones, die
    after a random number of steps. Returns whether it got through every bid."""
    nc = await connect(url)
    legs: NatsLegs | None = None
    try:
        js = nc.jetstream()
        log = await StreamLog.open(js)
        coord = Coordinator(MAP, await log.records())
        legs = await NatsLegs.open(js, MAP)
        dying_log = Dying(log, rng.randint(0, 12), rng.random() < 0.5)
        dying_legs = Dying(legs, rng.randint(0, 12), rng.random() < 0.5)

        async def work() -> None:
            await drive(coord, dying_log, dying_legs)
            for bid in bids:
                if bid.bid_id not in coord.bids:
                    await place(coord, dying_log, dying_legs, bid)

        try:
            await bounded(work(), 30, "a coordinator's life")
        except (Crash, ConnectionError):  # killed, or its replica of a partition died
            return False
        return True
    finally:
        try:
            if legs is not None:
                await legs.close()
        finally:
            await nc.close()


def test_coordinator_killed_mid_saga_and_a_server_restart_never_double_fill(
        nats_server: LocalNats) -> None:
    rng = random.Random(15)
    bids = [CrossBid(f"b{i}", "t", MARKETS if i % 2 else MARKETS[::-1], rng.randint(3, 7),
                     rng.randint(2, 9), TimeInForce.GTC if i % 3 == 0 else TimeInForce.IOC,
                     ts_ns=i) for i in range(14)]

    async def run() -> None:
        nc = await connect(nats_server.url)
        try:
            js = nc.jetstream()
            publisher = await Publisher.open(js, MAP)
            for i, (command, partition) in enumerate(_setup()):
                await publisher.publish(command, f"setup/{i}", partition=partition)
            traffic = asyncio.ensure_future(_traffic(js, rng, 150))
            crashes = 0
            while not await _incarnation(nats_server.url, bids, rng):
                crashes += 1
                if crashes == 3:  # the server dies too; its file store keeps every stream
                    await traffic
                    await nc.close()
                    nats_server.kill()
                    nats_server.start()
            assert crashes >= 3
            if not traffic.done():
                await traffic
        finally:  # also when the deadline cancels the run: no client outlives its loop
            await nc.close()

    asyncio.run(bounded(run(), 240, "the coordinators, the traffic and the restart"))

    async def verify() -> None:
        nc = await connect(nats_server.url)
        try:
            js = nc.jetstream()
            coord = Coordinator(MAP, await (await StreamLog.open(js)).records())
            assert coord.pending() == [] and len(coord.bids) == len(bids)
            placed: Counter[str] = Counter()
            fills: Counter[str] = Counter()
            first: dict[str, int] = {}

            def count(seq: int, events: list[Event]) -> None:
                for ev in events:
                    if isinstance(ev, Accepted) and ev.command == "place_order":
                        placed[ev.ref] += 1
                    if isinstance(ev, Traded):
                        fills[ev.buy_order] += ev.quantity
                        if ev.buy_order not in first:
                            first[ev.buy_order] = seq
            engines = [PartitionEngine(p) for p in MAP.all]
            for engine in engines:
                head = await last_sequence(js, engine.partition)
                await engine.follow(js, until=head, idle_s=5.0, on_events=count)
                assert engine.seq == head
                engine.exchange.check()
            assert all(n == 1 for oid, n in placed.items())
            for progress in coord.bids.values():
                legs = [f"{progress.bid.bid_id}#{i}" for i in range(len(progress.plan))]
                assert sum(fills[oid] for oid in legs) <= progress.bid.quantity
                for oid, outcome in zip(legs, progress.outcomes, strict=False):
                    assert placed[oid] == (0 if outcome.rejected else 1)
                    assert outcome.filled <= fills[oid]
            for engine in engines:
                for order in engine.exchange.orders("t"):
                    bid_id, _, index = order.order_id.partition("#")
                    progress = coord.bids[bid_id]
                    assert progress.bid.tif is TimeInForce.GTC
                    assert int(index) == len(progress.plan) - 1
            assert sum(fills[oid] for oid in fills if "#" in oid) > 0
        finally:
            await nc.close()

    asyncio.run(bounded(verify(), 120, "the verification"))
