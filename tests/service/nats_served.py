"""A served scale-out on one machine for the tests: a three-node cluster, engines and stateless
API processes as real processes, a load of HTTP clients that retry, and the checks that follow
every fault.

:class:`Served` starts ``auctioneer engine`` (two per partition) and
``auctioneer serve --nats`` (two) against a :class:`LocalCluster`, lists a
market per partition, opens a provider and a trader with money and
capacity in each. :class:`Load` sends crossing buys and sells through
the APIs, each with its own ``Idempotency-Key``, retrying a 503 or a
dropped connection with the same key on the other API, and records the
orders acknowledged. :meth:`Served.verify` then checks, per partition, the
log (:func:`~auctioneer.exchange.scaleout.harness.audit`), that every
acknowledged order is in it exactly once, and that every engine reaches
the hash of the state rebuilt from the log.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import signal
import subprocess
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import httpx
import pytest

from auctioneer.exchange.scaleout import PartitionMap, StreamSpec
from auctioneer.exchange.scaleout.cluster import LocalCluster, free_ports
from auctioneer.exchange.scaleout.eventlog import EventSpec
from auctioneer.exchange.scaleout.harness import audit, reports, spawn, wait_for
from auctioneer.exchange.scaleout.node import connect

from ..exchange.cluster_fixture import require_nats_server

__all__ = ["COMMANDS", "EVENTS", "Load", "Served", "served_fixture"]

_T = TypeVar("_T")

COMMANDS = StreamSpec(replicas=3)
EVENTS = EventSpec(replicas=3)
_REGIONS = ("us-east-1", "eu-west-1")
_MARKET = "gpu.a100"
_PRICE = 2_000_000
_RETRY_S = 30.0


def served_fixture(**options: int) -> Callable[..., Iterator[Served]]:
    """A module-scoped fixture: a started :class:`Served` on a fresh cluster with ``options``,
    stopped after the module's tests; its :meth:`Served.run` runs a test's coroutine.

    Skips, saying why, when nats-server is not installed.
    """

    @pytest.fixture(scope="module")
    def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
        require_nats_server()
        loop = asyncio.new_event_loop()
        try:
            with LocalCluster() as cluster:
                setup = Served(cluster, Path(tmp_path_factory.mktemp("api")), loop, **options)
                try:
                    loop.run_until_complete(setup.start())
                    yield setup
                finally:
                    setup.stop()
        finally:
            loop.close()

    return served


@dataclass
class Served:
    """The processes of a served cluster with ``partitions`` partitions (see the module)."""

    cluster: LocalCluster
    data_dir: Path
    loop: asyncio.AbstractEventLoop
    partitions: int = 1
    engines_per_partition: int = 2
    lease_ttl_s: float = 1.0
    engines: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    apis: list[subprocess.Popen[bytes] | None] = field(default_factory=list)
    ports: list[int] = field(default_factory=list)

    def run(self, body: Awaitable[_T]) -> _T:
        """Run a test's coroutine on the loop the processes were set up on."""
        return self.loop.run_until_complete(body)

    @property
    def map(self) -> PartitionMap:
        """The map the engines record: region i to partition i mod count."""
        return PartitionMap.spread(self.partitions, _REGIONS)

    def market(self, partition: int) -> str:
        """The test market of ``partition``."""
        return f"{_REGIONS[partition]}/{_MARKET}"

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

    def start_api(self, i: int) -> None:
        """Start (or restart) API process ``i`` on its port."""
        self.apis[i] = spawn("serve", "--nats", self.cluster.url, "--port", str(self.ports[i]),
                             "--data-dir", str(self.data_dir), "--apply-timeout", "5")

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
    def admin_key(self) -> str:
        """The admin's API key (every API process derives the same from the shared secret)."""
        return (self.data_dir / "admin.key").read_text().strip()

    async def _seed(self) -> None:
        admin = self.admin_key
        async with httpx.AsyncClient(base_url=self.urls[0], timeout=20.0,
                                     headers={"X-API-Key": admin}) as client:
            async def admin_ready() -> bool:
                answer = await client.get("/account")
                return answer.status_code == 200
            await wait_for(admin_ready, 30, "the admin account open")
            self.keys = {}
            for account, role in (("seller", "provider"), ("buyer", "trader")):
                answer = await _retry(client, "POST", "/admin/accounts",
                                      {"id": account, "role": role})
                self.keys[account] = answer.json()["api_key"]
            for p in range(self.partitions):
                region, _ = self.market(p).split("/")
                await _retry(client, "POST", "/admin/markets",
                             {"region": region, "instance_type": _MARKET,
                              "tick_size": 10_000, "base_price": _PRICE})
                await _retry(client, "POST", f"/admin/accounts/buyer/deposit?partition={p}",
                             {"amount": 10**15})
                await _retry(client, "POST", "/admin/capacity",
                             {"account": "seller", "market": self.market(p),
                              "quantity": 10**9})

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
                    return all(n in now and now[n].state_hash == want for n in live)

                await wait_for(agree, 30, f"engines {sorted(live)} at the log's state hash")
            lost = [o for o in acked if o not in seen]
            assert not lost, f"{len(lost)} acknowledged orders lost: {lost[:5]}"
        finally:
            await nc.close()


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


@dataclass
class Load:
    """Clients sending crossing orders through the APIs until :meth:`stop`; ``acked`` maps each
    acknowledged order id to its quantity."""

    served: Served
    workers: int = 4
    acked: dict[str, int] = field(default_factory=dict)
    refused: int = 0
    retried: int = 0
    _stop: asyncio.Event = field(default_factory=asyncio.Event)
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)
    _ids: itertools.count[int] = field(default_factory=itertools.count)

    def start(self) -> Load:
        """Start the workers."""
        self._tasks = [asyncio.ensure_future(self._worker(w)) for w in range(self.workers)]
        return self

    async def stop(self) -> None:
        """Stop sending and wait for every order in flight to be answered (or given up)."""
        self._stop.set()
        await asyncio.gather(*self._tasks)

    async def run_for(self, seconds: float) -> None:
        """Let the load run ``seconds`` more."""
        await asyncio.sleep(seconds)

    async def _worker(self, w: int) -> None:
        async with httpx.AsyncClient(timeout=10.0) as client:
            while not self._stop.is_set():
                n = next(self._ids)
                side, account = ("buy", "buyer") if n % 2 else ("sell", "seller")
                market = self.served.market(n % self.served.partitions)
                order = {"side": side, "market": market, "price": _PRICE,
                         "quantity": 1 + n % 3}
                await self.send(client, w + n, account, order, f"load-{n}")

    async def send(self, client: httpx.AsyncClient, start: int, account: str,
                   order: dict[str, object], key: str) -> None:
        """Send one order until acknowledged (recorded in ``acked``) or the retry horizon
        passes; start with API ``start`` mod their count, then alternate."""
        headers = {"X-API-Key": self.served.keys[account], "Idempotency-Key": key}
        deadline = time.monotonic() + _RETRY_S
        for attempt in itertools.count(start):
            url = self.served.urls[attempt % len(self.served.urls)]
            try:
                answer = await client.post(f"{url}/orders", json=order, headers=headers)
            except httpx.HTTPError:
                answer = None
            if answer is not None and answer.status_code == 201:
                self.acked[answer.json()["order_id"]] = int(order["quantity"])  # type: ignore[call-overload]
                return
            if answer is not None and answer.status_code != 503:
                raise AssertionError(f"{answer.status_code} {answer.text}")
            if answer is not None:
                assert answer.headers.get("Retry-After"), "a 503 without Retry-After"
                self.refused += 1
            if time.monotonic() >= deadline:
                return  # never acknowledged: not counted
            self.retried += 1
            await asyncio.sleep(0.1)
