"""Scale-out through a real nats-server: replicas agree, crashes resume, retries dedupe.

Every test starts its own ``nats-server -js`` (tests/exchange/nats_fixture.py).
The reference for a partition is an in-process Exchange fed that
partition's commands in publish order: the stream must deliver exactly those,
once each, in that order.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from nats.aio.client import Client
from nats.js import JetStreamContext

from auctioneer.exchange import Deposit, Exchange, OpenAccount, PlaceOrder, Role, Side
from auctioneer.exchange.scaleout import (
    CheckpointError,
    LocalNats,
    PartitionEngine,
    PartitionMap,
    Publisher,
    Routed,
    Router,
    RoutingError,
    StreamSpec,
    last_sequence,
    read_checkpoint,
    workload,
    write_checkpoint,
)
from auctioneer.exchange.scaleout.stream import MSG_ID
from auctioneer.exchange.scaleout.workload import REGIONS

from .nats_fixture import connected, nats_server

__all__ = ["nats_server"]

PARTITIONS = PartitionMap.spread(2, REGIONS)
SPEC = StreamSpec()


def _reference(items: list[Routed], partition: int) -> Exchange:
    """An Exchange fed, in order, the commands the router sends to ``partition``."""
    router = Router(PARTITIONS)
    exchange = Exchange()
    for item in items:
        if partition in router.route(item.command, item.partition):
            exchange.apply(item.command)
    exchange.check()
    return exchange


async def _publish(js: JetStreamContext, *batches: list[Routed]) -> Publisher:
    """Publish each batch pipelined, through one publisher (which remembers the orders)."""
    publisher = await Publisher.open(js, PARTITIONS, SPEC)
    for batch in batches:
        await publisher.publish_many(batch)
    return publisher


def test_replicas_replaying_a_partition_reach_the_same_hash(nats_server: LocalNats) -> None:
    items = workload(PARTITIONS, orders=600, seed=1)

    async def body(nc: Client, js: JetStreamContext) -> None:
        await _publish(js, items)
        for p in PARTITIONS.all:
            first, second = PartitionEngine(p), PartitionEngine(p)
            await first.catch_up(js)
            await second.catch_up(js)
            reference = _reference(items, p)
            assert first.seq == second.seq == await last_sequence(js, p, SPEC)
            assert first.state_hash() == second.state_hash() == reference.state_hash()
            assert first.applied > 300 and first.undecodable == 0
            first.exchange.check()
            # Each engine holds only its own partition's markets.
            assert {m.id for m in first.exchange.markets()} == {
                m.id for m in reference.markets()}
            assert all(PARTITIONS.of_market(m.id) == p for m in first.exchange.markets())
            assert first.exchange.trades(next(iter(first.exchange.markets())).id)

    connected(nats_server.url, body)


def test_crashed_engine_resumes_from_checkpoint_plus_tail(nats_server: LocalNats,
                                                          tmp_path: Path) -> None:
    items = workload(PARTITIONS, orders=800, seed=2)
    half = len(items) // 2

    async def body(nc: Client, js: JetStreamContext) -> None:
        publisher = await _publish(js, items[:half])
        engine = PartitionEngine(0)
        # The engine follows live; it "crashes" (its task is cancelled, no final
        # checkpoint) while the second half is being published.
        task = asyncio.ensure_future(engine.follow(js, SPEC, checkpoint_dir=tmp_path,
                                                   checkpoint_every=37))
        await publisher.publish_many(items[half:])
        while engine.seq < await last_sequence(js, 0, SPEC) // 2:
            await asyncio.sleep(0.005)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        saved = read_checkpoint(tmp_path, 0, SPEC.name)
        assert saved is not None and 0 < saved.seq < await last_sequence(js, 0, SPEC)
        resumed = PartitionEngine.open(tmp_path, 0)
        assert resumed.seq == saved.seq and resumed.applied == 0
        await resumed.catch_up(js)
        never_crashed = PartitionEngine(0)
        await never_crashed.catch_up(js)
        assert resumed.state_hash() == never_crashed.state_hash() == _reference(
            items, 0).state_hash()
        resumed.exchange.check()

    connected(nats_server.url, body)


def test_republished_commands_are_applied_once(nats_server: LocalNats) -> None:
    account = OpenAccount("alice", Role.TRADER)

    async def body(nc: Client, js: JetStreamContext) -> None:
        publisher = await Publisher.open(js, PARTITIONS, SPEC)
        # A publisher that died after reaching partition 0 only: the retry
        # completes partition 1 and is a duplicate on partition 0.
        await js.publish(SPEC.subject(0), b'{"account":"alice","role":"trader","ts_ns":0,'
                         b'"type":"open_account"}', headers={MSG_ID: "acct-1/0"})
        retry = await publisher.publish(account, "acct-1")
        assert [(p.partition, p.duplicate) for p in retry] == [(0, True), (1, False)]
        first = await publisher.publish(Deposit("alice", 5_000_000), "dep-1", partition=1)
        again = await publisher.publish(Deposit("alice", 5_000_000), "dep-1", partition=1)
        assert again[0].duplicate and again[0].seq == first[0].seq
        other = await publisher.publish(Deposit("alice", 5_000_000), "dep-2", partition=1)
        assert not other[0].duplicate
        batch = [Routed(Deposit("alice", 1), "dep-3", 0)] * 3
        acks = await publisher.publish_many(batch)
        assert [a.duplicate for a in acks] == [False, True, True]
        for p, balance in ((0, 1), (1, 10_000_000)):
            engine = PartitionEngine(p)
            await engine.catch_up(js)
            assert engine.exchange.account("alice").balance == balance

    connected(nats_server.url, body)


def test_cross_partition_bid_is_refused_before_publishing(nats_server: LocalNats) -> None:
    east, west = "us-east-1/gpu.a100", "us-west-2/gpu.a100"
    assert PARTITIONS.of_market(east) != PARTITIONS.of_market(west)
    bid = PlaceOrder("x1", "alice", Side.BUY, (east, west), 2_000_000, 1)

    async def body(nc: Client, js: JetStreamContext) -> None:
        publisher = await Publisher.open(js, PARTITIONS, SPEC)
        with pytest.raises(RoutingError) as caught:
            await publisher.publish(bid, "bid-1")
        assert caught.value.field == "markets"
        with pytest.raises(RoutingError):
            await publisher.publish_many([Routed(OpenAccount("bob", Role.TRADER), "ok"),
                                          Routed(bid, "bid-2")])
        assert (await js.stream_info(SPEC.name)).state.messages == 0

    connected(nats_server.url, body)


def test_undecodable_message_is_skipped_alike_by_every_replica(nats_server: LocalNats) -> None:
    items = workload(PARTITIONS, orders=50, seed=3)

    async def body(nc: Client, js: JetStreamContext) -> None:
        publisher = await _publish(js, items[:20])
        await js.publish(SPEC.subject(0), b'{"type":"no_such_command"}')
        await publisher.publish_many(items[20:])
        replicas = [PartitionEngine(0), PartitionEngine(0)]
        for replica in replicas:
            await replica.catch_up(js)
        assert [r.undecodable for r in replicas] == [1, 1]
        assert replicas[0].state_hash() == replicas[1].state_hash() == _reference(
            items, 0).state_hash()

    connected(nats_server.url, body)


def test_stream_survives_a_server_crash(nats_server: LocalNats) -> None:
    items = workload(PARTITIONS, orders=100, seed=4)

    async def publish(nc: Client, js: JetStreamContext) -> None:
        await _publish(js, items)

    async def replay(nc: Client, js: JetStreamContext) -> str:
        engine = PartitionEngine(1)
        await engine.catch_up(js)
        return engine.state_hash()

    connected(nats_server.url, publish)
    nats_server.kill()
    nats_server.start()
    assert connected(nats_server.url, replay) == _reference(items, 1).state_hash()


def test_checkpoint_for_another_partition_or_a_bad_state_is_refused(tmp_path: Path) -> None:
    engine = PartitionEngine(0)
    engine.exchange.apply(OpenAccount("alice", Role.TRADER))
    saved = engine.checkpoint()
    write_checkpoint(tmp_path, saved)
    assert PartitionEngine.open(tmp_path, 0).state_hash() == engine.state_hash()
    with pytest.raises(CheckpointError, match="not 0 of OTHER"):
        PartitionEngine.open(tmp_path, 0, stream="OTHER")
    write_checkpoint(tmp_path, type(saved)(0, saved.stream, 5, "0" * 64, saved.snapshot))
    with pytest.raises(CheckpointError, match="different state hash"):
        PartitionEngine.open(tmp_path, 0)
