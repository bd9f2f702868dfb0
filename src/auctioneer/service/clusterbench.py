"""``auctioneer bench cluster``: the served scale-out measured on one machine.

In one run, each against real processes (a three-node cluster, engines,
``serve --nats`` APIs, all on this machine's cores):

* **baseline**: one ``auctioneer serve`` process (journal, fsync always)
  under the same closed-loop HTTP load;
* **served**: the same load through two stateless API processes, with 1
  and with 2 partitions (a leader and a warm replica each): orders
  acknowledged per second and the latency each order saw (first send to
  acknowledgement, retries included);
* **failover**: with a ticker publishing a command every 10 ms, SIGKILL the
  partition's leader, time until a batch under a new term reaches a
  subscriber of the event log; restart it (it rejoins as a replica); repeat;
* **catch-up**: a fresh replica started on the log the load left, timed
  until it reports the log's last command.

Every run ends with :meth:`~auctioneer.service.servedcluster.Served.verify`
(nothing lost or applied twice, invariants, replicas at the log's hash).

Example:
    >>> ClusterBenchConfig.build(quick=True).failovers
    3
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx
from nats.js import JetStreamContext

from auctioneer.exchange.commands import Tick
from auctioneer.exchange.scaleout.cluster import LocalCluster, free_ports
from auctioneer.exchange.scaleout.eventlog import TERM
from auctioneer.exchange.scaleout.harness import reports, spawn, wait_for
from auctioneer.exchange.scaleout.node import connect
from auctioneer.exchange.scaleout.publisher import Publisher
from auctioneer.exchange.scaleout.stream import last_sequence
from auctioneer.measure.benchmark import Step
from auctioneer.measure.target import Target
from auctioneer.measure.timing import Environment, Percentiles, environment, summarize
from auctioneer.service.clusterload import Load
from auctioneer.service.servedcluster import COMMANDS, EVENTS, Served, seed

__all__ = ["FAILOVER_TARGET_S", "LATENCY_TARGET_MS", "CatchUp", "ClusterBenchConfig",
           "ClusterBenchResult", "ServedRun", "run_cluster_bench"]

FAILOVER_TARGET_S = 5.0
"""p99 failover with a 1 s lease: TTL + the KV's expiry + a quarter-TTL poll, on a loaded box."""
LATENCY_TARGET_MS = 500.0
"""p99 of a served order under the closed-loop load."""


@dataclass(frozen=True, slots=True)
class ClusterBenchConfig:
    """What to run: partition counts, clients, seconds of load, failover repeats, lease."""

    partitions: tuple[int, ...] = (1, 2)
    clients: int = 8
    duration_s: float = 8.0
    failovers: int = 10
    lease_ttl_s: float = 1.0

    @classmethod
    def build(cls, *, clients: int | None = None, duration_s: float | None = None,
              failovers: int | None = None, partitions: tuple[int, ...] | None = None,
              quick: bool = False) -> ClusterBenchConfig:
        """The defaults, or a smoke run's (``quick``), with any value given overriding."""
        base = cls(clients=4, duration_s=2.0, failovers=3) if quick else cls()
        return cls(partitions or base.partitions, clients or base.clients,
                   duration_s or base.duration_s, failovers or base.failovers,
                   base.lease_ttl_s)

    @property
    def steps(self) -> int:
        """Progress steps: the baseline, each served run, each failover, the catch-up."""
        return 1 + len(self.partitions) + self.failovers + 1


@dataclass(frozen=True, slots=True)
class ServedRun:
    """One load run: orders acknowledged, per second, and their latency in ms."""

    label: str
    partitions: int
    orders: int
    seconds: float
    rate: float
    latency_ms: Percentiles
    refused: int


@dataclass(frozen=True, slots=True)
class CatchUp:
    """A fresh replica reaching the log's last command."""

    commands: int
    seconds: float

    @property
    def rate(self) -> float:
        """Commands applied per second while catching up."""
        return self.commands / self.seconds


@dataclass(frozen=True, slots=True)
class ClusterBenchResult:
    """Everything one run measured."""

    config: ClusterBenchConfig
    environment: Environment
    baseline: ServedRun
    runs: list[ServedRun]
    failover_s: list[float]
    failover: Percentiles
    catchup: CatchUp
    targets: list[Target] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready builtins (latencies in ms, times in s)."""
        return {
            "benchmark": "auctioneer.service.clusterbench",
            "schema": 1,
            "environment": asdict(self.environment),
            "config": asdict(self.config),
            "baseline": asdict(self.baseline),
            "served": [asdict(r) for r in self.runs],
            "failover_s": {"samples": self.failover_s, **asdict(self.failover)},
            "catchup": {**asdict(self.catchup), "per_second": self.catchup.rate},
            "targets": [asdict(t) for t in self.targets],
            "problems": self.problems,
        }


def _run_of(label: str, partitions: int, load: Load, seconds: float) -> ServedRun:
    latency = summarize([s * 1e3 for s in load.latencies_s])
    return ServedRun(label, partitions, len(load.acked), seconds, len(load.acked) / seconds,
                     latency, load.refused)


async def _load(load: Load, seconds: float) -> float:
    began = time.perf_counter()
    load.start()
    await asyncio.sleep(seconds)
    await load.stop()
    return time.perf_counter() - began


async def _baseline(config: ClusterBenchConfig, work: Path) -> ServedRun:
    """The same load against one ``serve`` process (its own journal, fsync always)."""
    [port] = free_ports(1)
    data = work / "single"
    proc = spawn("serve", "--port", str(port), "--data-dir", str(data), "--rate", "1000000",
                 "--burst", "1000000")
    try:
        url = f"http://127.0.0.1:{port}"
        async with httpx.AsyncClient(timeout=2.0) as client:
            async def up() -> bool:
                return (await client.get(f"{url}/markets")).status_code == 200

            await wait_for(up, 60, "the single serve process answering", poll_s=0.1)
        endpoints = await seed([url], (data / "admin.key").read_text().strip(),
                               ["us-east-1/gpu.a100"])
        load = Load(endpoints, workers=config.clients)
        seconds = await _load(load, config.duration_s)
        return _run_of("one serve process", 1, load, seconds)
    finally:
        proc.terminate()
        proc.wait(20)


async def _failover(served: Served, step: Step, repeats: int) -> list[float]:
    """Kill -9 the leader ``repeats`` times; seconds from the kill to a new term's batch."""
    nc = await connect(served.cluster.url)
    js = nc.jetstream()
    publisher = await Publisher.open(js, served.map, COMMANDS)
    terms: list[tuple[float, int]] = []

    async def seen(msg: object) -> None:
        headers = getattr(msg, "headers", None) or {}
        if TERM in headers:
            terms.append((time.perf_counter(), int(headers[TERM])))

    sub = await nc.subscribe(EVENTS.subject(0), cb=seen)
    counter = itertools.count()

    async def ticker() -> None:
        while True:
            n = next(counter)
            with contextlib.suppress(Exception):  # a tick lost to a failover is not needed
                await publisher.publish(Tick(10**18 + n), f"bench-tick-{n}")
            await asyncio.sleep(0.01)

    ticking = asyncio.ensure_future(ticker())
    times = []
    try:
        for i in range(repeats):
            step(f"failover {i + 1} of {repeats}")
            leader = await served.leader(0)
            old = (await reports(js, 0))[leader].term
            served.engines[leader].kill()
            killed = time.perf_counter()
            served.engines[leader].wait()

            async def new_term(since: float = killed, old: int = old) -> bool:
                return any(t >= since and term > old for t, term in terms)

            await wait_for(new_term, 30, "a batch under a new term", poll_s=0.005)
            first = min(t for t, term in terms if t >= killed and term > old)
            times.append(first - killed)
            served.start_engine(0, leader)
            await _rejoined(served, js, leader)
    finally:
        ticking.cancel()
        await asyncio.gather(ticking, return_exceptions=True)
        await sub.unsubscribe()
        await nc.close()
    return times


async def _rejoined(served: Served, js: JetStreamContext, node: str) -> None:
    async def caught_up() -> bool:
        now = await reports(js, 0)
        mine = now.get(node)
        leaders = [r for r in now.values() if r.role == "leader"]
        return (mine is not None and mine.role == "replica" and bool(leaders)
                and mine.pid == served.engines[node].pid and mine.seq >= leaders[0].seq - 50)

    await wait_for(caught_up, 60, f"engine {node} back as a replica")


async def _catchup(served: Served) -> CatchUp:
    """A fresh replica on the log as it stands: seconds until it reports the last command."""
    nc = await connect(served.cluster.url)
    try:
        js = nc.jetstream()
        target = await last_sequence(js, 0, COMMANDS)
        began = time.perf_counter()
        served.start_engine(0, "fresh")

        async def there() -> bool:
            mine = (await reports(js, 0)).get("fresh")
            return mine is not None and mine.seq >= target

        await wait_for(there, 120, "the fresh replica at the log's end", poll_s=0.02)
        return CatchUp(target, time.perf_counter() - began)
    finally:
        await nc.close()


async def _verified(served: Served, acked: dict[str, int], problems: list[str]) -> None:
    """Run the checks; a failure is recorded (the target's MISS), not raised."""
    try:
        await served.verify(acked)
    except (AssertionError, TimeoutError) as exc:
        problems.append(f"{served.partitions} partition(s): {exc}")


async def _served(config: ClusterBenchConfig, partitions: int, work: Path, step: Step,
                  more: bool, problems: list[str]
                  ) -> tuple[ServedRun, list[float], CatchUp | None]:
    """One cluster with ``partitions``: the load, then (``more``) failovers and catch-up."""
    loop = asyncio.get_running_loop()
    with LocalCluster() as cluster:
        served = Served(cluster, work / f"api-{partitions}", loop, partitions=partitions,
                        lease_ttl_s=config.lease_ttl_s)
        try:
            await served.start()
            load = Load(served.endpoints, workers=config.clients)
            seconds = await _load(load, config.duration_s)
            await _verified(served, load.acked, problems)
            run = _run_of(f"cluster, {partitions} partition{'s' * (partitions > 1)}",
                          partitions, load, seconds)
            if not more:
                return run, [], None
            times = await _failover(served, step, config.failovers)
            catchup = await _catchup(served)
            await _verified(served, {}, problems)
            return run, times, catchup
        finally:
            await asyncio.to_thread(served.stop)


async def _measure(config: ClusterBenchConfig, step: Step) -> ClusterBenchResult:
    with tempfile.TemporaryDirectory(prefix="auctioneer-bench-cluster-") as tmp:
        work = Path(tmp)
        step("baseline: one serve process")
        baseline = await _baseline(config, work)
        runs: list[ServedRun] = []
        times: list[float] = []
        problems: list[str] = []
        catchup = None
        for i, partitions in enumerate(config.partitions):
            step(f"served: {partitions} partition(s)")
            run, more_times, more_catchup = await _served(config, partitions, work, step,
                                                          i == 0, problems)
            runs.append(run)
            times += more_times
            catchup = catchup or more_catchup
        step("done")
    assert catchup is not None
    failover = summarize(times)
    targets = [
        Target(f"failover p99 <= {FAILOVER_TARGET_S:g} s (lease {config.lease_ttl_s:g} s)",
               failover.p99 <= FAILOVER_TARGET_S,
               f"p50 {failover.p50:.2f} s, p99 {failover.p99:.2f} s over {len(times)}"),
        *(Target(f"{r.label}: p99 <= {LATENCY_TARGET_MS:g} ms",
                 r.latency_ms.p99 <= LATENCY_TARGET_MS,
                 f"p99 {r.latency_ms.p99:.1f} ms at {r.rate:,.0f} orders/s") for r in runs),
        Target("no acknowledged order lost or applied twice; replicas at the log's hash",
               not problems, "; ".join(problems) or "checked after every run"),
    ]
    return ClusterBenchResult(config, environment(), baseline, runs, times, failover,
                              catchup, targets, problems)


def run_cluster_bench(config: ClusterBenchConfig, step: Step) -> ClusterBenchResult:
    """Measure everything (about a minute and a half with the defaults); see the module."""
    return asyncio.run(_measure(config, step))

