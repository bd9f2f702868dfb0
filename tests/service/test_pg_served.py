"""``serve --nats --db postgresql://...`` end to end: a three-node cluster, two partitions, two
API processes projecting into a throwaway PostgreSQL and reading it; the projecting API process
killed under load and its partitions taken over by the other; the merged SSE stream."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from sqlalchemy import create_engine, text

from auctioneer.exchange.scaleout.cluster import LocalCluster
from auctioneer.exchange.scaleout.eventlog import last_batch
from auctioneer.exchange.scaleout.harness import audit, wait_for
from auctioneer.exchange.scaleout.node import connect
from auctioneer.service.pgstore import PartitionedStore, order, trades
from auctioneer.service.routers.accounts import account_out
from auctioneer.service.servedcluster import COMMANDS, EVENTS

from ..exchange.cluster_fixture import require_nats_server
from .cluster_page import trade_on_page
from .nats_served import Load, Served
from .pg_fixture import postgres_cluster

__all__ = ["postgres_cluster"]


@pytest.fixture(scope="module")
def served(postgres_cluster: str, tmp_path_factory: pytest.TempPathFactory
           ) -> Iterator[tuple[Served, str]]:
    require_nats_server()
    admin = create_engine(postgres_cluster, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "served{os.getpid()}"'))
    admin.dispose()
    url = postgres_cluster.replace("@/postgres?", f"@/served{os.getpid()}?")
    loop = asyncio.new_event_loop()
    try:
        with LocalCluster() as cluster:
            setup = Served(cluster, Path(tmp_path_factory.mktemp("api")), loop, partitions=2,
                           engines_per_partition=1, read_db=url)
            try:
                loop.run_until_complete(setup.start())
                yield setup, url
            finally:
                setup.stop()
    finally:
        loop.close()


async def _cross(setup: Served, url: str, tag: str) -> None:
    """A sell and a buy that trade, in each partition (the load's buys and sells do not meet:
    with two partitions its buys all go to one and its sells to the other)."""
    async with httpx.AsyncClient(base_url=url, timeout=20.0) as client:
        for p in range(2):
            for side, account in (("sell", "seller"), ("buy", "buyer")):
                answer = await client.post("/orders", json={
                    "side": side, "market": setup.market(p), "price": 3_000_000,
                    "quantity": 1}, headers={"X-API-Key": setup.endpoints.keys[account],
                                             "Idempotency-Key": f"{tag}-{p}-{side}"})
                assert answer.status_code == 201, answer.text


async def _get(url: str, path: str, key: str | None = None) -> Any:
    async with httpx.AsyncClient(timeout=10.0) as client:
        answer = await client.get(url + path, headers={"X-API-Key": key} if key else {})
        answer.raise_for_status()
        return answer.json()


async def _caught_up(setup: Served, url: str) -> None:
    """Wait until the tables ``url`` reads reflect both partitions' logs as they are now."""
    nc = await connect(setup.cluster.url)
    try:
        heads = [(await last_batch(nc.jetstream(), p, EVENTS))[1] for p in range(2)]
    finally:
        await nc.close()

    async def caught_up() -> bool:
        done = (await _get(url, "/read-side"))["projected_seq"]
        return all(done[str(p)] >= heads[p] for p in range(2))

    await wait_for(caught_up, 30, "the tables at the log's head")


def test_reads_come_from_postgresql_and_survive_the_projecting_api_dying(
        served: tuple[Served, str]) -> None:
    setup, url = served

    async def run() -> None:
        load = Load(setup.endpoints, workers=4).start()
        await load.run_for(0.7)
        sides = [await _get(u, "/read-side") for u in setup.urls]
        owner = next(i for i, s in enumerate(sides) if s["projecting_here"])
        proc = setup.apis[owner]
        assert proc is not None
        os.kill(proc.pid, signal.SIGKILL)  # its session, and its locks, die with it
        proc.wait()
        await load.run_for(0.7)
        await load.stop()
        survivor = setup.urls[1 - owner]
        await _cross(setup, survivor, "cross")
        await _caught_up(setup, survivor)
        assert sorted((await _get(survivor, "/read-side"))["projecting_here"]) == [0, 1]
        store = PartitionedStore.open(url, 2)
        try:
            for oid in load.acked:  # every acknowledged order is in the tables, once
                assert order(store, oid) is not None
            assert {t["id"].split("/")[0] for t in trades(store, limit=1000)} == {"0", "1"}
        finally:
            store.dispose()
        mine = await _get(survivor, "/account/orders?limit=1000", setup.endpoints.keys["buyer"])
        assert {o["partition"] for o in mine} == {0, 1}
        book = await _get(survivor, f"/markets/{setup.market(1)}/book")
        assert book["market"] == setup.market(1)
        ledger = await _get(survivor, "/account/ledger?limit=5", setup.endpoints.keys["buyer"])
        assert ledger and ledger[0]["seq"] >= ledger[-1]["seq"]
        setup.start_api(owner)
        await setup.wait_api(owner)

    setup.run(run())


def test_the_stream_merges_both_partitions(served: tuple[Served, str]) -> None:
    setup, _ = served

    async def run() -> None:
        got: list[dict[str, Any]] = []

        async def listen() -> None:
            async with httpx.AsyncClient(timeout=None) as client, \
                    client.stream("GET", setup.urls[0] + "/stream") as answer:
                async for line in answer.aiter_lines():
                    if line.startswith("data: "):
                        got.append(orjson.loads(line[6:]))

        listener = asyncio.ensure_future(listen())
        await asyncio.sleep(0.5)
        await _cross(setup, setup.urls[1], "stream")

        async def both() -> bool:
            return {t.get("partition") for t in got if "id" in t} == {0, 1}

        try:
            await wait_for(both, 30, "trades of both partitions on the stream")
        finally:
            listener.cancel()
            await asyncio.gather(listener, return_exceptions=True)

    setup.run(run())


def test_order_account_and_markets_are_read_from_postgresql(
        served: tuple[Served, str]) -> None:
    """With --db, GET /orders/{id}, /account and /markets answer from the tables, and agree
    with the state rebuilt from each partition's log."""
    setup, url = served

    async def run() -> None:
        buyer = setup.endpoints.keys["buyer"]
        async with httpx.AsyncClient(base_url=setup.urls[0], timeout=20.0) as client:
            placed = await client.post("/orders", json={
                "side": "buy", "market": setup.market(0), "price": 1_000_000, "quantity": 2},
                headers={"X-API-Key": buyer, "Idempotency-Key": "pg-rest"})
        assert placed.status_code == 201, placed.text
        oid = placed.json()["order_id"]
        await _caught_up(setup, setup.urls[0])
        got = await _get(setup.urls[0], f"/orders/{oid}", buyer)
        assert (got["partition"], got["status"], got["remaining"], got["filled"]) == (
            0, "open", 2, 0)
        async with httpx.AsyncClient(timeout=10.0) as client:
            other = await client.get(f"{setup.urls[0]}/orders/{oid}",
                                     headers={"X-API-Key": setup.endpoints.keys["seller"]})
        assert (other.status_code, other.json()["field"]) == (404, "order_id")
        nc = await connect(setup.cluster.url)
        try:
            logs = [await audit(nc.jetstream(), p, setup.map, COMMANDS, EVENTS)
                    for p in range(2)]
        finally:
            await nc.close()
        account = await _get(setup.urls[0], "/account", buyer)
        each = [asdict(account_out(log.exchange, "buyer")) for log in logs]
        assert account["partitions"] == [{"partition": p, **a} for p, a in enumerate(each)]
        assert {k: account[k] for k in ("id", "role", "balance", "reserved", "available")} == {
            "id": "buyer", "role": "trader", **{k: sum(a[k] for a in each)
                                               for k in ("balance", "reserved", "available")}}
        assert account["partitions"][0]["reserved"] >= 2_000_000
        markets = await _get(setup.urls[0], "/markets")
        listed = [(p, m) for p, log in enumerate(logs)
                  for m in sorted(log.exchange.markets(), key=lambda m: m.id)]
        assert [{k: m[k] for k in ("id", "market", "partition", "tick_size", "price")}
                for m in markets] == [
            {"id": m.id, "market": m.id, "partition": p, "tick_size": m.tick_size,
             "price": logs[p].exchange.price(m.id)} for p, m in listed]

    setup.run(run())


def test_the_dashboard_trades_through_the_cluster_in_chromium(
        served: tuple[Served, str]) -> None:
    """The dashboard from a ``serve --nats --db`` process: its open orders and money read from
    PostgreSQL."""
    trade_on_page(served[0], 0)
