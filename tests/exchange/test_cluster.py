"""The served scale-out's engines on a real three-node cluster: R3 streams, the lease, failover
and fencing (kill -9 and SIGSTOP of real engine processes)."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

import orjson
import pytest
from nats.js.errors import APIError

from auctioneer.exchange import Exchange, ListMarket, Tick
from auctioneer.exchange.events import Rejected
from auctioneer.exchange.model import ExecutionRule, Market
from auctioneer.exchange.scaleout import PartitionMap, Publisher, Routed, StreamSpec, workload
from auctioneer.exchange.scaleout.cluster import LocalCluster
from auctioneer.exchange.scaleout.eventlog import (
    EXPECTED_LAST,
    Entry,
    EventSpec,
    apply_routed,
    decode_batch,
    encode_batch,
    ensure_events,
    last_batch,
)
from auctioneer.exchange.scaleout.harness import audit, read_log, reports, spawn, wait_for
from auctioneer.exchange.scaleout.leader import ClusterEngine, EngineConfig
from auctioneer.exchange.scaleout.logcheckpoint import checkpoint_store, load_checkpoint
from auctioneer.exchange.scaleout.node import connect
from auctioneer.exchange.scaleout.stream import last_sequence, messages

from .cluster_fixture import nats_cluster

__all__ = ["nats_cluster"]

R3 = StreamSpec(replicas=3)
EVENTS = EventSpec(replicas=3)
ONE = PartitionMap(1)
_T = TypeVar("_T")


async def _retrying(attempt: Callable[[], Awaitable[_T]]) -> _T:
    """``attempt()`` until it succeeds, as a client of a failing cluster does: a request in
    flight while its node dies, or while a stream elects a new leader, gets no answer, and
    a publish retried with the same ids is stored once."""
    for _ in range(40):
        try:
            return await attempt()
        except Exception:  # no answer from the stream: safe to retry
            await asyncio.sleep(0.25)
    raise AssertionError("the cluster never answered")


def test_r3_stream_keeps_every_acknowledged_command_when_a_node_dies(
        nats_cluster: LocalCluster) -> None:
    async def run() -> None:
        nc = await connect(nats_cluster.url)
        js = nc.jetstream()
        publisher = await Publisher.open(js, ONE, R3)
        await publisher.publish_many([Routed(Tick(i), f"a{i}") for i in range(1, 101)])
        nats_cluster.kill(0)
        await _retrying(lambda: publisher.publish_many(
            [Routed(Tick(i), f"b{i}") for i in range(101, 201)]))

        async def read() -> list[int]:
            return [m.seq async for m in messages(js, 0, 0, R3, idle_s=1.0)]

        got = await _retrying(read)
        assert got == list(range(1, 201))
        info = await js.stream_info(R3.name)
        assert info.config.num_replicas == 3
        await nc.close()

    asyncio.run(run())
    nats_cluster.restart(0)


def test_a_batch_on_a_stale_tip_is_refused(nats_cluster: LocalCluster) -> None:
    async def run() -> None:
        nc = await connect(nats_cluster.url)
        js = nc.jetstream()
        await ensure_events(js, EVENTS)
        first = encode_batch([Entry(1, {"type": "tick", "ts_ns": 1}, ())])
        ack = await js.publish("evt.0", first, headers={EXPECTED_LAST: "0"})
        # A second writer that read the same (empty) tip is refused: the log cannot fork.
        with pytest.raises(APIError) as refused:
            await js.publish("evt.0", first, headers={EXPECTED_LAST: "0"})
        assert refused.value.err_code == 10071
        assert await last_batch(js, 0, EVENTS) == (ack.seq, 1)
        await nc.close()

    asyncio.run(run())


def test_engines_elect_one_leader_and_a_clean_stop_hands_over(
        nats_cluster: LocalCluster) -> None:
    async def run() -> None:
        nc = await connect(nats_cluster.url)
        js = nc.jetstream()
        publisher = await Publisher.open(js, ONE, R3)
        engines, stops, tasks, conns = [], [], [], []
        for node in ("a", "b"):
            conn = await connect(nats_cluster.url)
            conns.append(conn)
            # Both engines share this test's event loop: a lease long enough for its stalls.
            engine = await ClusterEngine.open(conn.jetstream(), EngineConfig(
                0, node, R3, EVENTS, lease_ttl_s=3.0))
            stop = asyncio.Event()
            engines.append(engine)
            stops.append(stop)
            tasks.append(asyncio.ensure_future(engine.run(stop)))
        items = workload(ONE, orders=300, seed=3)
        await publisher.publish_many(items)

        async def agree() -> bool:
            now = [e.report() for e in engines]
            return (len({(r.hash_seq, r.state_hash) for r in now}) == 1
                    and now[0].hash_seq == len(items))

        await wait_for(agree, 30, "both engines at the stream's head with one hash")
        assert sorted(e.role for e in engines) == ["leader", "replica"]
        leader = next(i for i, e in enumerate(engines) if e.role == "leader")
        stops[leader].set()
        await tasks[leader]
        other = engines[1 - leader]
        await publisher.publish_many([Routed(Tick(10**15 + i), f"t{i}") for i in range(20)])
        newest = await last_sequence(js, 0, R3)

        async def took_over() -> bool:
            return other.role == "leader" and other.projection.seq == newest

        # A clean stop releases the lease: no wait for its TTL.
        await wait_for(took_over, 5, "the replica leading after a clean stop")
        assert other.term > engines[leader].report().term
        stops[1 - leader].set()
        await tasks[1 - leader]
        checked = await audit(js, 0, ONE, R3, EVENTS)
        assert checked.state_hash == other.report(fresh=True).state_hash
        for conn in (*conns, nc):
            await conn.close()

    asyncio.run(run())



def test_a_fresh_replica_starts_from_the_checkpoint_after_the_log_is_trimmed(
        nats_cluster: LocalCluster) -> None:
    """The leader checkpoints every 100 commands into the object store and trims the event
    log behind the previous checkpoint; a replica started afterwards restores the newest
    checkpoint, reads only the log's tail, and reaches the leader's state hash."""
    async def run() -> None:
        conns = [await connect(nats_cluster.url) for _ in range(3)]
        js = conns[0].jetstream()
        publisher = await Publisher.open(js, ONE, R3)
        config = EngineConfig(0, "ck-a", R3, EVENTS, lease_ttl_s=3.0, batch=20,
                              checkpoint_every=100, trim=True)
        leader = await ClusterEngine.open(conns[1].jetstream(), config)
        stops = [asyncio.Event(), asyncio.Event()]
        tasks = [asyncio.ensure_future(leader.run(stops[0]))]
        items = workload(ONE, orders=400, seed=5)
        await publisher.publish_many(items)
        newest = await last_sequence(js, 0, R3)

        async def led() -> bool:
            return leader.role == "leader" and leader.projection.seq == newest

        await wait_for(led, 30, "the leader at the stream's head")
        saved = await load_checkpoint(await checkpoint_store(js), 0, EVENTS)
        assert saved is not None and newest - 120 <= saved.seq <= newest
        kept = await read_log(js, 0, EVENTS)
        assert kept[0].seq > 100 and len(kept) < newest, "the log was not trimmed"
        replica = await ClusterEngine.open(conns[2].jetstream(), EngineConfig(
            0, "ck-b", R3, EVENTS, lease_ttl_s=3.0))
        tasks.append(asyncio.ensure_future(replica.run(stops[1])))
        want = leader.report(fresh=True)

        async def caught_up() -> bool:
            now = replica.report(fresh=True)
            return (now.seq, now.state_hash) == (want.seq, want.state_hash)

        await wait_for(caught_up, 30, "the fresh replica at the leader's state hash")
        assert replica.role == "replica"
        assert replica.projection.applied <= newest - saved.seq < len(items)
        for stop in stops:
            stop.set()
        await asyncio.gather(*tasks)
        for conn in conns:
            await conn.close()

    asyncio.run(run())


def test_killed_leader_is_replaced_and_a_paused_one_is_fenced(
        nats_cluster: LocalCluster) -> None:
    async def run() -> None:
        nc = await connect(nats_cluster.url)
        js = nc.jetstream()
        publisher = await Publisher.open(js, ONE, R3)
        procs = {node: spawn("engine", "--partition", "0", "--nats", nats_cluster.url,
                             "--node", node, "--lease-ttl", "1") for node in ("a", "b")}
        try:
            items = workload(ONE, orders=200, seed=4)
            await publisher.publish_many(items)

            async def leader_at(seq: int, among: set[str]) -> str | None:
                now = await reports(js, 0)
                found = [r.node for r in now.values()
                         if r.role == "leader" and r.seq >= seq and r.node in among]
                return found[0] if found else None

            async def led() -> bool:
                return await leader_at(len(items), set(procs)) is not None

            await wait_for(led, 30, "a leader at the stream's head")
            first = await leader_at(len(items), set(procs))
            assert first is not None
            procs[first].kill()  # SIGKILL: the lease is not released
            procs[first].wait()
            killed = time.monotonic()
            await publisher.publish(Tick(10**15), "after-kill")
            survivor = {n for n in procs if n != first}

            async def replaced() -> bool:
                return await leader_at(len(items) + 1, survivor) is not None

            await wait_for(replaced, 10, "the replica leading after kill -9", poll_s=0.01)
            assert time.monotonic() - killed < 6  # TTL 1 s, plus the KV's expiry and a poll
            procs[first] = spawn("engine", "--partition", "0", "--nats", nats_cluster.url,
                                 "--node", first, "--lease-ttl", "1")
            second = (survivor - {first}).pop()
            os.kill(procs[second].pid, signal.SIGSTOP)  # longer than the lease: deposed
            await publisher.publish_many([Routed(Tick(10**15 + i), f"p{i}")
                                          for i in range(1, 30)])
            newest = await last_sequence(js, 0, R3)

            async def moved_on() -> bool:
                return await leader_at(newest, {first}) is not None

            await wait_for(moved_on, 15, "the restarted engine leading while the other sleeps")
            os.kill(procs[second].pid, signal.SIGCONT)

            async def fenced() -> bool:
                now = await reports(js, 0)
                old = now.get(second)
                return (old is not None and old.role == "replica" and old.fenced >= 1
                        and old.hash_seq == newest == now[first].hash_seq
                        and old.state_hash == now[first].state_hash)

            await wait_for(fenced, 15, "the woken leader deposed and caught up as a replica")
            checked = await audit(js, 0, ONE, R3, EVENTS)
            assert checked.state_hash == (await reports(js, 0))[first].state_hash
            assert all(n == 1 for n in checked.orders.values())
        finally:
            for proc in procs.values():
                if proc.poll() is None:
                    os.kill(proc.pid, signal.SIGCONT)
                    proc.terminate()
                    proc.wait(10)
            await nc.close()

    asyncio.run(run())


def test_a_command_for_another_partition_is_rejected_not_applied() -> None:
    partitions = PartitionMap.spread(2, ["us-east-1", "eu-west-1"])
    market = Market("eu-west-1", "gpu.a100", 10_000, 2_000_000, ExecutionRule.AT_ASK, 1800)
    exchange = Exchange()
    [refused] = apply_routed(exchange, partitions, 0, ListMarket(market, 1))
    assert isinstance(refused, Rejected) and refused.field == "partition"
    assert "sends this command to partition 1" in refused.reason
    assert exchange.markets() == []
    apply_routed(exchange, partitions, 1, ListMarket(market, 1))
    assert [m.id for m in exchange.markets()] == ["eu-west-1/gpu.a100"]


@pytest.mark.parametrize("seq", [0, -1, 2**63, 10**30, "7", True, 1.5])
def test_a_batch_with_a_sequence_out_of_range_is_not_one(seq: object) -> None:
    with pytest.raises(ValueError, match="not an event batch"):
        decode_batch(b'{"entries":[{"seq":%s,"cmd":null,"events":[]}]}'
                     % (str(seq).encode() if type(seq) is int else orjson.dumps(seq)))
    assert decode_batch(b'{"entries":[{"seq":9,"cmd":null,"events":[]}]}') == [
        Entry(9, None, ())]
