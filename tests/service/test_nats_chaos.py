"""Chaos under load on a real three-node NATS cluster: kill -9 a node, the partition leader and
an API process, restart each, pause a node (SIGSTOP/SIGCONT), and lose the quorum.

One served cluster for the module (engines and APIs are real processes,
started once: about 10 s on two cores); each test injects its fault while
four clients keep ordering through both APIs, restores the topology, and
then :meth:`~tests.service.nats_served.Served.verify` checks that no
acknowledged order was lost or applied twice, nothing traded or filled
twice, money and capacity are conserved, and the replicas reach the state
hash of the log. Skipped, saying why, only without nats-server.
"""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Awaitable, Callable

import httpx

from .nats_served import Load, Served, served_fixture

served = served_fixture()


async def _under_load(served: Served, fault: Callable[[Load], Awaitable[None]], *,
                      before_s: float = 1.0, after_s: float) -> None:
    """Four clients order through both APIs for ``before_s``, while ``fault`` injects its
    fault and restores the topology, and ``after_s`` more; then the cluster is verified."""
    load = Load(served.endpoints).start()
    await load.run_for(before_s)
    await fault(load)
    await load.run_for(after_s)
    await load.stop()
    assert len(load.acked) > 20
    await served.verify(load.acked)


def test_a_node_killed_and_restarted_under_load(served: Served) -> None:
    async def fault(load: Load) -> None:
        served.cluster.kill(0)
        await load.run_for(3.0)
        await asyncio.to_thread(served.cluster.restart, 0)

    served.run(_under_load(served, fault, before_s=1.5, after_s=1.5))


def test_the_partition_leader_killed_and_restarted_under_load(served: Served) -> None:
    async def fault(load: Load) -> None:
        leader = await served.leader(0)
        served.engines[leader].kill()  # SIGKILL: its lease runs out, a replica takes over
        served.engines[leader].wait()
        await load.run_for(3.0)
        assert await served.leader(0) != leader
        served.start_engine(0, leader)

    served.run(_under_load(served, fault, after_s=1.5))


def test_an_api_process_killed_and_restarted_under_load(served: Served) -> None:
    async def fault(load: Load) -> None:
        api = served.apis[0]
        assert api is not None
        api.kill()  # requests in flight on it are lost: their clients retry on the other
        api.wait()
        await load.run_for(2.0)
        served.start_api(0)
        await served.wait_api(0)

    served.run(_under_load(served, fault, after_s=1.0))


def test_a_node_paused_and_resumed_under_load(served: Served) -> None:
    async def fault(load: Load) -> None:
        pid = served.cluster.nodes[1].pid
        os.kill(pid, signal.SIGSTOP)  # cut off: no answers, no route traffic
        try:
            await load.run_for(4.0)
        finally:
            os.kill(pid, signal.SIGCONT)

    served.run(_under_load(served, fault, after_s=2.0))


def test_without_a_quorum_orders_get_503_and_are_never_half_accepted(served: Served) -> None:
    async def run() -> None:
        order = {"side": "buy", "market": served.market(0), "price": 2_000_000, "quantity": 1}
        headers = {"X-API-Key": served.endpoints.keys["buyer"], "Idempotency-Key": "no-quorum-1"}
        served.cluster.kill(1)
        served.cluster.kill(2)
        try:
            async with httpx.AsyncClient(timeout=20.0) as client:
                answer = await client.post(f"{served.urls[0]}/orders", json=order,
                                           headers=headers)
                assert answer.status_code == 503, answer.text
                assert answer.headers["Retry-After"].isdigit()
                assert answer.json()["field"] == "cluster"
        finally:
            await asyncio.to_thread(served.cluster.restart, 1)
            await asyncio.to_thread(served.cluster.restart, 2)
        # Retried with its key once the quorum is back, it is applied at most once.
        load = Load(served.endpoints, workers=1)
        async with httpx.AsyncClient(timeout=10.0) as client:
            await load.send(client, 0, "buyer", order, "no-quorum-1")
        assert len(load.acked) == 1
        await served.verify(load.acked)

    served.run(run())
