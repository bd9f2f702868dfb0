"""A served scale-out on one machine: a three-node cluster, engines and stateless API processes
as real processes, for the chaos tests and ``auctioneer bench cluster``.

:class:`Served` starts ``auctioneer engine`` (``engines_per_partition`` per
partition) and two ``auctioneer serve --nats`` against a
:class:`~auctioneer.exchange.scaleout.cluster.LocalCluster`, lists a market
per partition, and opens a provider (``seller``, with capacity) and a trader
(``buyer``, with money in every partition). :meth:`Served.verify` checks,
per partition, the event log
(:func:`~auctioneer.exchange.scaleout.harness.audit`: whole, in order,
money and capacity conserved, nothing traded or filled twice), that every
acknowledged order is in a log exactly once, and that every running engine
reaches the hash of the state rebuilt from the log.

Example:
    >>> PartitionMap.spread(2, REGIONS).of_market(f"{REGIONS[1]}/gpu.a100")
    1
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import httpx

from auctioneer.exchange.scaleout import PartitionMap, StreamSpec
from auctioneer.exchange.scaleout.cluster import LocalCluster, free_ports
from auctioneer.exchange.scaleout.eventlog import EventSpec
from auctioneer.exchange.scaleout.harness import audit, reports, spawn, wait_for
from auctioneer.exchange.scaleout.node import connect

__all__ = ["COMMANDS", "EVENTS", "PRICE", "REGIONS", "Endpoints", "Served", "seed"]

COMMANDS = StreamSpec(replicas=3)
EVENTS = EventSpec(replicas=3)
REGIONS = ("us-east-1", "eu-west-1")
_MARKET = "gpu.a100"
PRICE = 2_000_000
"""The markets' base price: the load's buys and sells cross there."""
_RETRY_S = 30.0
_T = TypeVar("_T")


@dataclass
class Served:
    """The processes of a served cluster with ``partitions`` partitions (see the module)."""

    cluster: LocalCluster
    data_dir: Path
    loop: asyncio.AbstractEventLoop
    partitions: int = 1
    engines_per_partition: int = 2
    lease_ttl_s: float = 1.0
    read_db: str | None = None
    engines: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    _endpoints: Endpoints | None = None
    apis: list[subprocess.Popen[bytes] | None] = field(default_factory=list)
    ports: list[int] = field(default_factory=list)

    def run(self, body: Awaitable[_T]) -> _T:
        """Run a test's coroutine on the loop the processes were set up on."""
        return self.loop.run_until_complete(body)

    @property
    def map(self) -> PartitionMap:
        """The map the engines record: region i to partition i mod count."""
        return PartitionMap.spread(self.partitions, REGIONS)

    def market(self, partition: int) -> str:
        """The test market of ``partition``."""
        return f"{REGIONS[partition]}/{_MARKET}"

    @property
    def urls(self) -> list[str]:
        """The API processes' base URLs."""
        return [f"http://127.0.0.1:{port}" for port in self.ports]

    def start_engine(self, partition: int, node: str) -> None:
        """Start (or restart) engine ``node`` of ``partition``."""
        args = ["engine", "--partition", str(partition), "--nats", self.cluster.url,
                "--node", node, "--lease-ttl", str(self.lease_ttl_s)]
        if not self.engines:
            assign = ",".join(f"{r}={p}" for r, p in self.map.assignments.items())
            args += ["--partitions", str(self.partitions), "--assign", assign]
        self.engines[node] = spawn(*args)

    def start_api(self, i: int, *options: str) -> None:
        """Start (or restart) API process ``i`` on its port, with more ``serve`` options; a
        new ``i`` (one past the last) gets a free port."""
        if i == len(self.ports):
            self.ports += free_ports(1)
            self.apis.append(None)
        db = [] if self.read_db is None else ["--db", self.read_db]
        self.apis[i] = spawn("serve", "--nats", self.cluster.url, "--port", str(self.ports[i]),
                             "--data-dir", str(self.data_dir), "--apply-timeout", "5", *db,
                             *options)

    async def wait_api(self, i: int, timeout_s: float = 30.0) -> None:
        """Until API ``i`` answers and has connected."""
        async with httpx.AsyncClient(timeout=2.0) as client:
            async def up() -> bool:
                try:
                    answer = await client.get(f"{self.urls[i]}/cluster")
                except httpx.HTTPError:
                    return False
                return answer.status_code == 200 and bool(answer.json()["connected"])

            await wait_for(up, timeout_s, f"API {i} answering", poll_s=0.1)

    async def start(self) -> None:
        """Engines first (the first records the map), then two APIs, then the test's accounts."""
        self.start_engine(0, "p0a")
        await asyncio.sleep(0.5)
        for p in range(self.partitions):
            for node in (f"p{p}{c}" for c in "abc"[:self.engines_per_partition]):
                if node not in self.engines:
                    self.start_engine(p, node)
        self.ports = free_ports(2)
        self.apis = [None, None]
        for i in range(2):
            self.start_api(i)
        for i in range(2):
            await self.wait_api(i)
        await self._seed()

    @property
    def endpoints(self) -> Endpoints:
        """Where and as whom a load orders (once :meth:`start` returned)."""
        if self._endpoints is None:
            raise RuntimeError("the served cluster is not started")
        return self._endpoints

    @property
    def admin_key(self) -> str:
        """The admin's API key (every API process derives the same from the shared secret)."""
        return (self.data_dir / "admin.key").read_text().strip()

    async def _seed(self) -> None:
        self._endpoints = await seed(self.urls, self.admin_key,
                                    [self.market(p) for p in range(self.partitions)])

    def stop(self) -> None:
        """Stop every process this started (SIGCONT first: a paused one cannot exit)."""
        for proc in [*self.engines.values(), *self.apis]:
            if proc is not None and proc.poll() is None:
                os.kill(proc.pid, signal.SIGCONT)
                proc.terminate()
        for proc in [*self.engines.values(), *self.apis]:
            if proc is not None:
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()

    async def leader(self, partition: int) -> str:
        """The node now leading ``partition``."""
        nc = await connect(self.cluster.url)
        try:
            js = nc.jetstream()
            found: list[str] = []

            async def one() -> bool:
                now = await reports(js, partition)
                found[:] = [r.node for r in now.values() if r.role == "leader"
                            and self.engines[r.node].poll() is None]
                return bool(found)

            await wait_for(one, 20, f"a leader of partition {partition}")
            return found[0]
        finally:
            await nc.close()

    async def verify(self, acked: dict[str, int]) -> None:
        """The checks after a run (AssertionError naming the first that fails).

        Per partition: the log is whole and in order, money and capacity are
        conserved, nothing traded or filled twice; every acknowledged order is
        in a log exactly once; every running engine reaches the log's hash.
        """
        nc = await connect(self.cluster.url)
        try:
            js = nc.jetstream()
            seen: dict[str, int] = {}
            for p in range(self.partitions):
                checked = await audit(js, p, self.map, COMMANDS, EVENTS)
                twice = [o for o, n in checked.orders.items() if n > 1]
                assert not twice, f"orders applied twice: {twice[:5]}"
                seen.update(checked.orders)
                live = {n for n, proc in self.engines.items()
                        if proc.poll() is None and n.startswith(f"p{p}")}

                async def agree(p: int = p, live: set[str] = live,
                                want: str = checked.state_hash) -> bool:
                    now = await reports(js, p)
                    return all(n in now and now[n].hash_seq == now[n].seq
                               and now[n].state_hash == want for n in live)

                await wait_for(agree, 30, f"engines {sorted(live)} at the log's state hash")
            lost = [o for o in acked if o not in seen]
            assert not lost, f"{len(lost)} acknowledged orders lost: {lost[:5]}"
        finally:
            await nc.close()


@dataclass(frozen=True, slots=True)
class Endpoints:
    """What a load needs: the API base URLs, the accounts' keys, a market per partition."""

    urls: tuple[str, ...]
    keys: dict[str, str]
    markets: tuple[str, ...]


async def seed(urls: Sequence[str], admin_key: str, markets: Sequence[str]) -> Endpoints:
    """List ``markets``, open ``seller`` (a provider with capacity in each) and ``buyer`` (a
    trader with money in each market's partition), through the API at ``urls[0]``.

    The same calls suit one ``serve`` process (which ignores ``partition``).
    """
    async with httpx.AsyncClient(base_url=urls[0], timeout=20.0,
                                 headers={"X-API-Key": admin_key}) as client:
        async def admin_ready() -> bool:
            answer = await client.get("/account")
            return answer.status_code == 200

        await wait_for(admin_ready, 30, "the admin account open")
        keys = {"admin": admin_key}
        for account, role in (("seller", "provider"), ("buyer", "trader")):
            answer = await _retry(client, "POST", "/admin/accounts",
                                  {"id": account, "role": role})
            keys[account] = answer.json()["api_key"]
        for p, market in enumerate(markets):
            region, instance_type = market.split("/")
            await _retry(client, "POST", "/admin/markets",
                         {"region": region, "instance_type": instance_type,
                          "tick_size": 10_000, "base_price": PRICE})
            await _retry(client, "POST", f"/admin/accounts/buyer/deposit?partition={p}",
                         {"amount": 10**15})
            await _retry(client, "POST", "/admin/capacity",
                         {"account": "seller", "market": market, "quantity": 10**9})
    return Endpoints(tuple(urls), keys, tuple(markets))


async def _retry(client: httpx.AsyncClient, method: str, path: str,
                 body: dict[str, object]) -> httpx.Response:
    """An admin call retried on 503 (and on 409 of a first copy that landed)."""
    key = f"seed-{method}-{path}-{sorted(body.items())}".replace(" ", "")
    deadline = time.monotonic() + _RETRY_S
    while True:
        try:
            answer = await client.request(method, path, json=body,
                                          headers={"Idempotency-Key": key[:128]})
        except httpx.HTTPError:
            answer = None
        if answer is not None and answer.status_code < 300:
            return answer
        if time.monotonic() >= deadline:
            raise AssertionError(f"{method} {path}: {answer and answer.text}")
        await asyncio.sleep(0.25)


