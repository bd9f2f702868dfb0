"""The partitioned read side in a real (throwaway) PostgreSQL: each partition's event log
projected into its schema, replays idempotent on (partition, seq), merged reads equal to the
engines' own state, integers range-checked, one projector per partition, and the log
consumed from a real nats-server."""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine, text

from auctioneer.exchange import Exchange
from auctioneer.exchange.codec import encode_command, encode_event
from auctioneer.exchange.commands import Deposit, OpenAccount
from auctioneer.exchange.events import Accepted, Traded
from auctioneer.exchange.model import Role
from auctioneer.exchange.scaleout import LocalNats, PartitionMap, connect, workload
from auctioneer.exchange.scaleout.eventlog import (
    Entry,
    EventSpec,
    encode_batch,
    ensure_events,
)
from auctioneer.service import pgbench
from auctioneer.service.broadcast import Hub
from auctioneer.service.partitionfeed import merge_partitions
from auctioneer.service.pgprojector import (
    BulkProjector,
    PartitionProjector,
    ProjectorBusy,
    follow,
    to_applied,
)
from auctioneer.service.pgstore import (
    PartitionedStore,
    balances,
    book,
    ledger_of,
    order,
    orders_of,
    progress,
    trades,
)
from auctioneer.service.projector import ProjectionError, Projector

from ..exchange.nats_fixture import nats_server
from .pg_fixture import postgres_cluster, postgres_url

__all__ = ["nats_server", "postgres_cluster", "postgres_url"]

MAP = PartitionMap(2, {"us-east-1": 0, "us-west-2": 1, "eu-west-1": 0, "ap-south-1": 1})


def _logs(orders: int, seed: int = 3) -> tuple[dict[int, list[Entry]], dict[int, Exchange]]:
    """Each partition's event log for a seeded workload, as its leader writes it."""
    return pgbench.leader_logs(MAP, workload(MAP, orders=orders, seed=seed))


def _tables(store: PartitionedStore) -> list[Any]:
    with store.engine.connect() as conn:
        return [conn.execute(text(f'SELECT * FROM merged."{t}" ORDER BY 1, 2')).all()
                for t in ("accounts", "markets", "capacity", "orders", "trades", "meta")]


def test_partitions_projected_idempotently_and_read_merged(postgres_url: str) -> None:
    logs, exchanges = _logs(400)
    store = PartitionedStore.open(postgres_url, MAP.count)
    projectors = {p: PartitionProjector(store, p) for p in MAP.all}
    try:
        rng = random.Random(0)
        for p, log in logs.items():
            # Batches of random sizes, each sent twice, overlapping the last: what a
            # redelivery or a projector restarted from an older position sends.
            start = 0
            while start < len(log):
                end = start + rng.randint(1, 60)
                projectors[p].project(log[max(0, start - rng.randint(0, 10)):end])
                projectors[p].project(log[start:end])
                start = end
        assert progress(store) == {p: log[-1].seq for p, log in logs.items()}
        before = _tables(store)
        for p, log in logs.items():
            assert projectors[p].project(log) == 0
        assert _tables(store) == before

        for p, ex in exchanges.items():
            for m in ex.markets():
                assert book(store, m.id) == ex.book(m.id)
            for acct in ex.accounts():
                assert balances(store, acct.id)[p] == acct.balance
        traded = [e for log in logs.values() for entry in log for e in entry.events
                  if e["type"] == "traded"]
        latest = trades(store, limit=len(traded) + 5)
        assert len(latest) == len(traded)
        assert [t["seq"] for t in latest] == sorted((t["seq"] for t in latest), reverse=True)
        assert {t["id"].split("/")[0] for t in latest} == {"0", "1"}
        for ex in exchanges.values():
            for acct in ex.accounts():
                for view in ex.orders(acct.id):
                    row = order(store, view.order_id)
                    assert row is not None and row.status == "open"
                    assert row.quantity - row.filled == view.remaining
        mine = orders_of(store, "trader0", limit=1000)
        assert {r.partition for r in mine} == {0, 1}
        assert ledger_of(store, "trader0", limit=5)[0].seq >= ledger_of(store, "trader0")[-1].seq
    finally:
        for projector in projectors.values():
            projector.close()
        store.dispose()


@pytest.fixture(scope="module")
def two_schemas(postgres_cluster: str) -> Iterator[PartitionedStore]:
    """One database with two partition schemas, for the differential below."""
    name = f"bulk{os.getpid()}"
    admin = create_engine(postgres_cluster, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    store = PartitionedStore.open(postgres_cluster.replace("@/postgres?", f"@/{name}?"), 2)
    yield store
    store.dispose()


@settings(max_examples=6, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 50), sizes=st.lists(st.integers(1, 300), min_size=1, max_size=5))
def test_the_bulk_projector_writes_the_rows_the_statement_per_row_one_does(
        two_schemas: PartitionedStore, seed: int, sizes: list[int]) -> None:
    """The fast path (COPY and set-based updates) against the reference (one statement per
    row), batch by batch on the same log: every table equal, row for row."""
    store = two_schemas
    with store.engine.begin() as conn:
        for schema in ("p0", "p1"):
            for table in ("accounts", "markets", "capacity", "orders", "trades", "ledger",
                          "meta"):
                conn.execute(text(f'TRUNCATE "{schema}"."{table}" RESTART IDENTITY'))
    log = _logs(150, seed)[0][0]
    reference = Projector(store.partition_db(0))
    bulk = BulkProjector(store.partition_db(1), "p1")
    start = 0
    for size in itertools.cycle(sizes):
        if start >= len(log):
            break
        batch = to_applied(log[start:start + size], 0, 0)
        reference.project(batch)
        bulk.project(batch)
        start += size
    with store.engine.connect() as conn:
        for table in ("accounts", "markets", "capacity", "orders", "trades", "ledger", "meta"):
            rows = [conn.execute(text(f'SELECT * FROM "{s}"."{table}" ORDER BY 1, 2')).all()
                    for s in ("p0", "p1")]
            assert rows[0] == rows[1], table


def _deposit(seq: int, amount: int) -> Entry:
    return Entry(seq, encode_command(Deposit("a", amount)),
                 (encode_event(Accepted("deposit", "a", 0)),))


@pytest.mark.parametrize(("amounts", "match"), [
    ((2**63,), "seq 2: amount"), ((10**30,), "seq 2: amount"),
    ((2**62, 2**62), "balance 9223372036854775808 does not fit")])
def test_an_integer_past_64_bits_is_refused_and_nothing_is_written(
        postgres_url: str, amounts: tuple[int, ...], match: str) -> None:
    store = PartitionedStore.open(postgres_url, 1)
    projector = PartitionProjector(store, 0)
    try:
        opened = Entry(1, encode_command(OpenAccount("a", Role.TRADER)),
                       (encode_event(Accepted("open_account", "a", 0)),))
        projector.project([opened])
        # Log entries no engine would write (it caps the money held at 2**63 - 1): the
        # codec's range check, or the projector's on the summed balance, stops them.
        with pytest.raises(ProjectionError, match=match):
            projector.project([_deposit(2 + i, a) for i, a in enumerate(amounts)])
        assert progress(store) == {0: 1} and balances(store, "a") == {0: 0}
    finally:
        projector.close()
        store.dispose()


def test_one_projector_per_partition(postgres_url: str) -> None:
    store = PartitionedStore.open(postgres_url, 2)
    first = PartitionProjector(store, 1)
    try:
        with pytest.raises(ProjectorBusy, match="partition 1"):
            PartitionProjector(store, 1)
        PartitionProjector(store, 0).close()
    finally:
        first.close()
    PartitionProjector(store, 1).close()  # released with the first
    store.dispose()
    with pytest.raises(ValueError, match="needs PostgreSQL"):
        PartitionedStore.open("sqlite:///x.db", 2)


def test_event_logs_from_nats_projected_and_resumed(postgres_url: str,
                                                    nats_server: LocalNats) -> None:
    logs, exchanges = _logs(150, seed=5)
    spec = EventSpec()

    async def run() -> None:
        nc = await connect(nats_server.url)
        store = PartitionedStore.open(postgres_url, MAP.count)
        try:
            js = nc.jetstream()
            await ensure_events(js, spec)
            for p, log in logs.items():
                for i in range(0, len(log), 25):
                    await js.publish(spec.subject(p), encode_batch(log[i:i + 25]),
                                     stream=spec.name)
            for p in MAP.all:
                # Killed after the first batches, restarted: resumes, writes each entry once.
                projector = PartitionProjector(store, p)
                task = asyncio.ensure_future(follow(js, projector, spec))
                while projector.seq < logs[p][len(logs[p]) // 2].seq:
                    await asyncio.sleep(0.01)
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
                projector.close()
                projector = PartitionProjector(store, p)
                await follow(js, projector, spec, idle_s=0.5)
                assert projector.seq == logs[p][-1].seq
                projector.close()
            for ex in exchanges.values():
                for m in ex.markets():
                    assert book(store, m.id) == ex.book(m.id)
            traded = sum(1 for log in logs.values() for entry in log
                         for e in entry.events if e["type"] == Traded.kind)
            assert len(trades(store, limit=10_000)) == traded
        finally:
            store.dispose()
            await nc.close()

    asyncio.run(run())


def test_the_sse_feed_merges_partitions_in_stream_order(nats_server: LocalNats) -> None:
    logs, _ = _logs(120, seed=7)
    spec = EventSpec()

    async def run() -> list[bytes]:
        nc = await connect(nats_server.url)
        try:
            js = nc.jetstream()
            await ensure_events(js, spec)
            hub = Hub()
            queue = hub.subscribe()
            feed = asyncio.ensure_future(merge_partitions(js, hub, spec, from_start=True))
            # Batches alternate between partitions; each is delivered twice (a redelivery).
            for i in range(0, max(len(log) for log in logs.values()), 20):
                for p, log in logs.items():
                    if log[i:i + 20]:
                        for _ in range(2):
                            await js.publish(spec.subject(p), encode_batch(log[i:i + 20]),
                                             stream=spec.name)
            got: list[bytes] = []
            try:
                while True:
                    got.append(await asyncio.wait_for(queue.get(), 1.0))
            except TimeoutError:
                pass
            feed.cancel()
            await asyncio.gather(feed, return_exceptions=True)
            return got
        finally:
            await nc.close()

    got = [orjson.loads(m.split(b"data: ", 1)[1]) for m in asyncio.run(run())
           if m.startswith(b"event: trade")]
    expected = [(p, entry.seq) for i in range(0, 1000, 20) for p, log in logs.items()
                for entry in log[i:i + 20] for e in entry.events if e["type"] == "traded"]
    assert [(t["partition"], t["seq"]) for t in got] == expected
    assert {t["partition"] for t in got} == {0, 1}


def test_the_projection_benchmark_runs_and_checks_its_outputs(postgres_url: str,
                                                             tmp_path: Path) -> None:
    out = tmp_path / "pg.json"
    assert pgbench.main(["--orders", "40", "--repeats", "1", "--url", postgres_url,
                         "--json", str(out), "--plot", str(tmp_path / "pg.png")]) == 0
    result = json.loads(out.read_text())
    assert [r["batch"] for r in result["rows"]] == list(pgbench.BATCHES)
    assert all(r["pg_per_s"] > 0 and r["wal_bytes"] > 0 for r in result["rows"])
    assert (tmp_path / "pg.png").stat().st_size > 0
    with pytest.raises(SystemExit) as caught:
        pgbench.main(["--json", str(tmp_path / "no" / "such.json")])
    assert caught.value.code == 2
