"""The stream benchmark: commands per second through JetStream, per partition.

For a seeded :func:`~auctioneer.exchange.scaleout.workload.workload` over
``partitions`` partitions (four regions dealt round-robin), in one run:

* **baseline** -- each partition's messages (the same payload bytes) decoded
  and applied to a fresh in-process Exchange: the engine alone, no NATS.
* **publish** -- every command published, pipelined on one connection, each
  acknowledged by JetStream (stored to its file store): acks per second.
* **replay** -- a fresh :class:`~auctioneer.exchange.scaleout.PartitionEngine`
  per partition consuming its subject from the start (ordered consumer,
  decode, apply): commands per second, against the baseline; then a second
  replica, which must reach the same state hash (and the baseline's: the
  stream kept publish order).
* **latency** -- with partition 0's engine following live, single deposits
  published one at a time: publish to acknowledgement, and publish to
  applied by the engine (nearest-rank p50/p99/p99.9).

Targets: the replicas agree; each partition replays at least
:data:`REPLAY_TARGET` commands/s (the end-to-end HTTP target of issue 6,
so the stream is not the bottleneck); p99 publish-to-applied at most
:data:`LATENCY_TARGET_MS` ms.

Example:
    >>> config = StreamBenchConfig.build(orders=100, latency_samples=5, quick=True)
    >>> config.steps, config.partitions
    (7, 2)
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from typing import Any

from auctioneer.exchange.codec import decode_command, encode_command
from auctioneer.exchange.commands import Deposit
from auctioneer.exchange.engine import Exchange
from auctioneer.exchange.scaleout.deadline import stopped
from auctioneer.exchange.scaleout.node import connect
from auctioneer.exchange.scaleout.partition import PartitionMap, Router
from auctioneer.exchange.scaleout.publisher import Publisher, Routed
from auctioneer.exchange.scaleout.replica import PartitionEngine
from auctioneer.exchange.scaleout.server import LocalNats
from auctioneer.exchange.scaleout.stream import (
    StreamSpec,
    decode_payload,
    encode_payload,
)
from auctioneer.exchange.scaleout.workload import REGIONS, workload
from auctioneer.measure.target import Target
from auctioneer.measure.timing import Environment, Percentiles, environment, gc_paused, summarize

__all__ = [
    "LATENCY_TARGET_MS",
    "REPLAY_TARGET",
    "PartitionRun",
    "StreamBenchConfig",
    "StreamBenchResult",
    "evaluate_targets",
    "run_stream_bench",
]

REPLAY_TARGET = 5_000
"""Commands per second each partition's engine must replay from the stream."""
LATENCY_TARGET_MS = 20.0
"""p99 from publish to applied by the engine, milliseconds (the HTTP p99 target)."""


@dataclass(frozen=True, slots=True)
class StreamBenchConfig:
    """What to run: workload size, partitions, latency samples, server (None: start one)."""

    orders: int
    partitions: int
    latency_samples: int
    nats_url: str | None
    seed: int

    @classmethod
    def build(cls, *, orders: int | None = None, partitions: int = 2,
              latency_samples: int | None = None, nats_url: str | None = None, seed: int = 0,
              quick: bool = False) -> StreamBenchConfig:
        """Defaults filled in: 20,000 orders and 2,000 samples; --quick: 2,000 and 200."""
        return cls(orders if orders is not None else (2_000 if quick else 20_000), partitions,
                   latency_samples if latency_samples is not None else (200 if quick else 2_000),
                   nats_url, seed)

    @property
    def steps(self) -> int:
        """Progress steps: baseline, publish, two replays per partition, latency."""
        return 3 + 2 * self.partitions


@dataclass(frozen=True, slots=True)
class PartitionRun:
    """One partition: its commands, the baseline's and the stream replay's times and hashes."""

    partition: int
    commands: int
    baseline_s: float
    replay_s: float
    replica_s: float
    replicas_agree: bool
    matches_baseline: bool

    @property
    def baseline_rate(self) -> float:
        """In-process commands per second."""
        return self.commands / self.baseline_s

    @property
    def replay_rate(self) -> float:
        """Commands per second replayed from the stream."""
        return self.commands / self.replay_s


@dataclass(frozen=True, slots=True)
class StreamBenchResult:
    """A whole run."""

    config: StreamBenchConfig
    environment: Environment
    messages: int
    publish_s: float
    runs: tuple[PartitionRun, ...]
    ack_ns: Percentiles
    applied_ns: Percentiles
    targets: tuple[Target, ...] = ()

    @property
    def publish_rate(self) -> float:
        """Acknowledged messages per second, pipelined."""
        return self.messages / self.publish_s

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready builtins."""
        return {
            "benchmark": "auctioneer.exchange.scaleout.bench",
            "schema": 1,
            "environment": asdict(self.environment),
            "config": asdict(self.config),
            "publish": {"messages": self.messages, "seconds": self.publish_s,
                        "per_second": self.publish_rate},
            "partitions": [{**asdict(r), "baseline_per_second": r.baseline_rate,
                            "replay_per_second": r.replay_rate} for r in self.runs],
            "latency_ns": {"publish_to_ack": asdict(self.ack_ns),
                           "publish_to_applied": asdict(self.applied_ns)},
            "targets": [asdict(t) for t in self.targets],
        }


def _payloads(items: list[Routed], partitions: PartitionMap) -> dict[int, list[bytes]]:
    """Each partition's message payloads, in publish order."""
    router = Router(partitions)
    out: dict[int, list[bytes]] = {p: [] for p in partitions.all}
    for item in items:
        payload = encode_payload(encode_command(item.command))
        for p in router.route(item.command, item.partition):
            out[p].append(payload)
    return out


def _baseline(payloads: list[bytes]) -> tuple[float, str]:
    """Seconds to decode and apply ``payloads`` in-process, and the final state hash."""
    exchange = Exchange()
    with gc_paused():
        started = time.perf_counter()
        for payload in payloads:
            exchange.apply(decode_command(decode_payload(payload)))
        elapsed = time.perf_counter() - started
    return elapsed, exchange.state_hash()


async def _replay(js: Any, partition: int, spec: StreamSpec) -> tuple[float, PartitionEngine]:
    engine = PartitionEngine(partition, stream=spec.name)
    started = time.perf_counter()
    await engine.catch_up(js, spec, timeout_s=600)
    return time.perf_counter() - started, engine


async def _latency(js: Any, publisher: Publisher, spec: StreamSpec,
                   samples: int) -> tuple[list[float], list[float]]:
    """Publish-to-ack and publish-to-applied of ``samples`` deposits to partition 0."""
    engine = PartitionEngine(0, stream=spec.name)
    await engine.catch_up(js, spec, timeout_s=600)
    applied: dict[int, int] = {}
    arrived = asyncio.Event()

    def seen(seq: int, _: object) -> None:
        applied[seq] = time.perf_counter_ns()
        arrived.set()

    follower = asyncio.ensure_future(engine.follow(js, spec, on_events=seen))
    to_ack, to_applied = [], []
    try:
        for i in range(samples):
            started = time.perf_counter_ns()
            ack = await publisher.publish(Deposit("trader0", 1), f"lat-{i}", partition=0)
            acked = time.perf_counter_ns()
            while ack[0].seq not in applied:
                arrived.clear()
                await asyncio.wait_for(arrived.wait(), 30)
            to_ack.append(float(acked - started))
            to_applied.append(float(applied[ack[0].seq] - started))
    finally:
        await stopped([follower], "the latency run's follower")
    return to_ack, to_applied


async def _measure(config: StreamBenchConfig, url: str,
                   step: Callable[[str], None]) -> StreamBenchResult:
    partitions = PartitionMap.spread(config.partitions, REGIONS)
    items = workload(partitions, orders=config.orders, seed=config.seed)
    payloads = _payloads(items, partitions)
    step("baseline: decode + apply in-process")
    baselines = {p: _baseline(payloads[p]) for p in partitions.all}
    spec = StreamSpec(f"AUCTIONEER_BENCH_{time.time_ns()}", prefix=f"bench{time.time_ns()}")
    nc = await connect(url)
    try:
        js = nc.jetstream()
        publisher = await Publisher.open(js, partitions, spec)
        step(f"publish {len(items):,} commands (pipelined)")
        started = time.perf_counter()
        landed = await publisher.publish_many(items)
        publish_s = time.perf_counter() - started
        runs = []
        for p in partitions.all:
            step(f"partition {p}: replay")
            replay_s, engine = await _replay(js, p, spec)
            step(f"partition {p}: second replica")
            replica_s, replica = await _replay(js, p, spec)
            engine.exchange.check()
            runs.append(PartitionRun(
                p, len(payloads[p]), baselines[p][0], replay_s, replica_s,
                engine.state_hash() == replica.state_hash(),
                engine.state_hash() == baselines[p][1]))
        step(f"latency: {config.latency_samples:,} single commands")
        to_ack, to_applied = await _latency(js, publisher, spec, config.latency_samples)
        await js.delete_stream(spec.name)
    finally:
        await nc.close()
    result = StreamBenchResult(config, environment(), len(landed), publish_s, tuple(runs),
                               summarize(to_ack), summarize(to_applied))
    return replace(result, targets=evaluate_targets(result))


def run_stream_bench(config: StreamBenchConfig,
                     step: Callable[[str], None] = lambda _: None) -> StreamBenchResult:
    """Run the benchmark against ``config.nats_url``, or a local nats-server started for it."""
    if config.nats_url is not None:
        return asyncio.run(_measure(config, config.nats_url, step))
    with LocalNats() as server:
        return asyncio.run(_measure(config, server.url, step))


def evaluate_targets(result: StreamBenchResult) -> tuple[Target, ...]:
    """Replicas agree and keep publish order; replay rate; publish-to-applied p99."""
    agree = all(r.replicas_agree and r.matches_baseline for r in result.runs)
    slowest = min(result.runs, key=lambda r: r.replay_rate)
    p99_ms = result.applied_ns.p99 / 1e6
    return (
        Target("replicas reach the same state hash as in-process", agree,
               f"{sum(r.replicas_agree for r in result.runs)}/{len(result.runs)} partitions "
               f"agree; {sum(r.matches_baseline for r in result.runs)} match the baseline"),
        Target(f"each partition replays >= {REPLAY_TARGET:,} commands/s",
               slowest.replay_rate >= REPLAY_TARGET,
               f"slowest partition {slowest.partition}: {slowest.replay_rate:,.0f}/s"),
        Target(f"p99 publish -> applied <= {LATENCY_TARGET_MS:g} ms", p99_ms <= LATENCY_TARGET_MS,
               f"p99 {p99_ms:.2f} ms, p50 {result.applied_ns.p50 / 1e6:.2f} ms"),
    )
