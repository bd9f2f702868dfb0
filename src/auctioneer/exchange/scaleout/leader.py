"""A partition's engine in a cluster: a warm replica until it holds the lease, then the leader.

Every engine of partition ``p`` (``auctioneer engine --partition p``) runs
the same loop:

* **replica**: apply the event log ``evt.<p>`` as a
  :class:`~auctioneer.exchange.scaleout.eventlog.Projection` (checking that
  its own events equal the leader's) and try to take the lease every
  quarter TTL;
* **leader**: read the log to its end, then apply the command stream
  ``cmd.<p>`` from the first command the log does not hold, and publish
  each batch of results to ``evt.<p>`` with
  ``Nats-Expected-Last-Subject-Sequence`` = the log's tip, renewing the
  lease every quarter TTL, and every ``checkpoint_every`` commands storing a
  checkpoint (:mod:`~auctioneer.exchange.scaleout.logcheckpoint`), from which
  an engine starting from nothing restores before reading the log's tail.

Fencing: the log is one chain, and a batch is stored only on top of the tip
its publisher read. A leader that lost its lease (paused, cut off) and wakes
up publishes on a stale tip and is refused; it then gives up the lease and
starts again as a replica from an empty state (its state holds commands it
did not publish). A batch that a deposed leader managed to store before the
new leader read the tip is simply part of the chain: it holds the commands
after the tip and the only events they can produce (the engine is
deterministic), so the new leader continues after it. No command is ever in
the log twice and no two batches follow the same tip.

Example:
    >>> EngineConfig(0, "a").status_key
    'p0.a'
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
import time
from dataclasses import asdict, dataclass, field

from nats.js import JetStreamContext
from nats.js.api import KeyValueConfig, StorageType
from nats.js.errors import BucketNotFoundError, NotFoundError
from nats.js.kv import KeyValue
from nats.js.object_store import ObjectStore

from auctioneer.exchange.scaleout.eventlog import (
    EXPECTED_LAST,
    TERM,
    EventSpec,
    Projection,
    encode_batch,
    ensure_events,
    entry_of,
    last_batch,
)
from auctioneer.exchange.scaleout.lease import Lease, lease_bucket, lease_key
from auctioneer.exchange.scaleout.logcheckpoint import (
    checkpoint_store,
    find_checkpoint_store,
    load_checkpoint,
    save_checkpoint,
    trim_log,
)
from auctioneer.exchange.scaleout.partition import PartitionMap
from auctioneer.exchange.scaleout.stream import (
    Feed,
    PartitionMapMismatch,
    StreamSpec,
    ensure_stream,
    recorded_map,
)

__all__ = ["STATUS_BUCKET", "ClusterEngine", "EngineConfig", "EngineReport", "status_bucket"]

STATUS_BUCKET = "AUCTIONEER_ENGINES"
_HEARTBEAT_S = 0.5
_BACKOFF_S = 0.25
_HASH_EVERY_S = 1.0


@dataclass(frozen=True, slots=True)
class EngineConfig:
    """One engine: its partition, its node name (unique per process), the streams, the lease."""

    partition: int
    node: str
    commands: StreamSpec = field(default_factory=StreamSpec)
    events: EventSpec = field(default_factory=EventSpec)
    lease_ttl_s: float = 2.0
    batch: int = 200
    report_s: float = 0.25
    checkpoint_every: int = 0
    """As leader, store a checkpoint every this many commands (0: never)."""
    trim: bool = False
    """After each checkpoint, trim the event log behind the previous one."""

    @property
    def status_key(self) -> str:
        """This engine's key in the status bucket."""
        return f"p{self.partition}.{self.node}"


@dataclass(frozen=True, slots=True)
class EngineReport:
    """What an engine last reported: role, lease term, position and state hash."""

    partition: int
    node: str
    role: str
    term: int
    seq: int
    log_seq: int
    applied: int
    state_hash: str
    hash_seq: int
    """The ``seq`` at which ``state_hash`` was taken (hashing is throttled)."""
    fenced: int
    pid: int

    def line(self) -> str:
        """One JSON line (the status bucket's value, and the engine's exit line)."""
        return json.dumps(asdict(self), separators=(",", ":"), sort_keys=True)

    @classmethod
    def parse(cls, data: bytes) -> EngineReport:
        """A report from its line."""
        return cls(**json.loads(data))


async def status_bucket(js: JetStreamContext, replicas: int = 1) -> KeyValue:
    """The bucket where engines report (created if missing; values expire after a minute)."""
    try:
        return await js.key_value(STATUS_BUCKET)
    except (BucketNotFoundError, NotFoundError):
        return await js.create_key_value(KeyValueConfig(
            bucket=STATUS_BUCKET, ttl=60.0, history=1, replicas=replicas,
            storage=StorageType.MEMORY))


class _Deposed(Exception):
    """The lease is lost or the log moved on without this engine."""


class ClusterEngine:
    """One engine of a partition; :meth:`run` until ``stop`` is set."""

    def __init__(self, js: JetStreamContext, config: EngineConfig,
                 partitions: PartitionMap) -> None:
        self.js = js
        self.config = config
        self.partitions = partitions
        self.projection = Projection(config.partition, partitions)
        self.role = "replica"
        self.term = 0
        self.fenced = 0
        """Times this engine found itself deposed (a refused publish or a lost lease)."""
        self._hashed: tuple[int, str] = (-1, "")
        self._hashed_at = -_HASH_EVERY_S
        self._store: ObjectStore | None = None
        self._checkpointed = (0, 0)
        """(command seq, log seq) of the newest checkpoint this engine stored or started from."""

    @classmethod
    async def open(cls, js: JetStreamContext, config: EngineConfig,
                   partitions: PartitionMap | None = None, *,
                   wait_s: float = 60.0) -> ClusterEngine:
        """An engine for the cluster's recorded partition map.

        With ``partitions``, records it if the cluster has none
        (PartitionMapMismatch when it has another). Without, waits up to
        ``wait_s`` for a map to be recorded; a cluster still electing its
        leaders is waited for the same way (TimeoutError after ``wait_s``).
        """
        deadline = time.monotonic() + wait_s
        while True:
            try:
                if partitions is not None:
                    await ensure_stream(js, config.commands, partitions.describe())
                recorded = await recorded_map(js, config.commands)
                if recorded is not None:
                    await ensure_events(js, config.events)
                    return cls(js, config, recorded)
            except PartitionMapMismatch:
                raise
            except Exception as exc:  # no quorum yet, a timeout, a racing creator
                if time.monotonic() >= deadline:
                    raise TimeoutError(f"the cluster did not answer within {wait_s:g} s: "
                                       f"{type(exc).__name__}: {exc}") from None
            if time.monotonic() >= deadline:
                raise TimeoutError(f"no partition map recorded within {wait_s:g} s: start "
                                   "one engine (or serve) with --partitions")
            await asyncio.sleep(_BACKOFF_S)

    def report(self, *, fresh: bool = False) -> EngineReport:
        """The engine's status now. The state is hashed (O(state), on the event loop) only
        when it changed and at most once a second, so the lease is not starved; a quiet
        engine's report carries the hash of its current state within a second; ``fresh``
        hashes now."""
        p = self.projection
        now = time.monotonic()
        if self._hashed[0] != p.seq and (fresh or now - self._hashed_at >= _HASH_EVERY_S):
            self._hashed, self._hashed_at = (p.seq, p.exchange.state_hash()), now
        return EngineReport(self.config.partition, self.config.node, self.role, self.term,
                            p.seq, p.log_seq, p.applied, self._hashed[1], self._hashed[0],
                            self.fenced, os.getpid())

    async def run(self, stop: asyncio.Event) -> EngineReport:
        """Replicate, lead when the lease is free, step down when deposed; until ``stop``."""
        cfg = self.config
        lease = Lease(await lease_bucket(self.js, cfg.lease_ttl_s, cfg.events.replicas),
                      lease_key(cfg.partition), cfg.node, cfg.lease_ttl_s)
        reporter = asyncio.ensure_future(self._report_loop(
            await status_bucket(self.js, cfg.events.replicas), stop))
        try:
            while not stop.is_set():
                try:
                    if await self._replicate(lease, stop):
                        await self._lead(lease, stop)
                except _Deposed:
                    self._step_down()
                    await lease.release()
                except Exception as exc:  # no quorum, a reconnect: try again shortly
                    if lease.term:
                        self._step_down()
                        await lease.release()
                    print(f"engine {cfg.status_key}: {type(exc).__name__}: {exc}",
                          file=sys.stderr, flush=True)
                    await asyncio.sleep(_BACKOFF_S)
        finally:
            await lease.release()
            self.role, self.term = "stopped", 0
            reporter.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reporter
        return self.report(fresh=True)

    def _step_down(self) -> None:
        """Back to a replica from an empty state: a leader's state may hold commands whose
        batch never made it into the log."""
        if self.role == "leader":
            self.fenced += 1
            self.projection = Projection(self.config.partition, self.partitions)
        self.role, self.term = "replica", 0

    async def _report_loop(self, kv: KeyValue, stop: asyncio.Event) -> None:
        while not stop.is_set():
            with contextlib.suppress(Exception):  # reports are best effort
                await kv.put(self.config.status_key, self.report().line().encode())
            await asyncio.sleep(self.config.report_s)

    async def _checkpoints(self) -> ObjectStore | None:
        """The checkpoints' store; None while there is none and this engine writes none."""
        if self._store is None:
            self._store = await find_checkpoint_store(self.js)
        if self._store is None and self.config.checkpoint_every:
            self._store = await checkpoint_store(self.js, self.config.events.replicas)
        return self._store

    async def _from_checkpoint(self) -> None:
        """An engine (re)starting to replicate behind its partition's checkpoint (with
        nothing applied, or a checkpoint interval behind) jumps to it: it is a state of the
        log's chain, and the batches before it may be trimmed."""
        store = await self._checkpoints()
        found = None if store is None else await load_checkpoint(
            store, self.config.partition, self.config.events)
        if found is not None and found.log_seq > self.projection.log_seq:
            self.projection = found.projection(self.partitions)
            self._checkpointed = (found.seq, found.log_seq)

    async def _checkpoint(self) -> None:
        """Store the state now as the partition's checkpoint; with ``trim``, drop the log's
        batches behind the previous one. A failure is reported, not fatal: the next
        checkpoint tries again."""
        cfg = self.config
        try:
            store = await self._checkpoints()
            assert store is not None  # checkpoint_every is set: the store was created
            saved = await save_checkpoint(store, self.projection, cfg.events)
            if cfg.trim:
                await trim_log(self.js, cfg.partition, cfg.events, self._checkpointed[1])
            self._checkpointed = (saved.seq, saved.log_seq)
        except Exception as exc:  # no quorum, a timeout: the log stays whole meanwhile
            print(f"engine {cfg.status_key}: checkpoint: {type(exc).__name__}: {exc}",
                  file=sys.stderr, flush=True)

    async def _replicate(self, lease: Lease, stop: asyncio.Event) -> bool:
        """Follow the log, trying for the lease; True once it is held (the log read to the
        tip), False when stopped."""
        cfg = self.config
        tick = cfg.lease_ttl_s / 4
        await self._from_checkpoint()
        feed = await Feed.open(self.js, cfg.events.name, cfg.events.subject(cfg.partition),
                               self.projection.log_seq, heartbeat_s=_HEARTBEAT_S)
        try:
            next_try = 0.0
            target: int | None = None
            while not stop.is_set():
                if await feed.wait(tick):
                    for message in feed.take(1000):
                        self.projection.apply_batch(message)
                if target is None and time.monotonic() >= next_try:
                    next_try = time.monotonic() + tick
                    if await lease.acquire():
                        self.term = lease.term
                        target, _ = await last_batch(self.js, cfg.partition, cfg.events)
                if target is not None and self.projection.log_seq >= target:
                    return True
            return False
        finally:
            await feed.close()

    async def _lead(self, lease: Lease, stop: asyncio.Event) -> None:
        """Apply commands after the log's tip and publish their batches on it."""
        cfg = self.config
        self.role = "leader"
        tick = cfg.lease_ttl_s / 4
        subject = cfg.events.subject(cfg.partition)
        p = self.projection
        feed = await Feed.open(self.js, cfg.commands.name, cfg.commands.subject(cfg.partition),
                               p.seq, heartbeat_s=_HEARTBEAT_S)
        try:
            renew_at = time.monotonic() + tick
            while not stop.is_set():
                if time.monotonic() >= renew_at:
                    renew_at = time.monotonic() + tick
                    if not await lease.renew():
                        raise _Deposed("the lease was lost")
                if not await feed.wait(tick):
                    continue
                if not lease.held:
                    raise _Deposed("the lease ran out before it could be renewed")
                entries = []
                for message in feed.take(cfg.batch):
                    entry, _ = entry_of(p.exchange, self.partitions, cfg.partition, message)
                    entries.append(entry)
                    p.seq = message.seq
                    p.applied += entry.command is not None
                await self._append(subject, encode_batch(entries), entries[-1].seq, lease.term)
                if cfg.checkpoint_every and p.seq - self._checkpointed[0] >= cfg.checkpoint_every:
                    await self._checkpoint()
        finally:
            await feed.close()

    async def _append(self, subject: str, payload: bytes, last_cmd: int, term: int) -> None:
        """Store one batch on the log's tip; _Deposed when the tip moved under this leader.

        An answer lost on the way (a node died after storing it) is resolved by reading the
        tip: a batch ending at this batch's last command is this one's, or an identical one
        (the same commands after the same tip give the same events).
        """
        p = self.projection
        headers = {EXPECTED_LAST: str(p.log_seq), TERM: str(term)}
        while True:
            try:
                ack = await self.js.publish(subject, payload, stream=self.config.events.name,
                                            headers=headers, timeout=self.config.lease_ttl_s)
            except Exception:  # refused, or no answer: the tip says which
                tip, tip_cmd = await last_batch(self.js, self.config.partition,
                                                self.config.events)
                if tip_cmd == last_cmd:
                    p.log_seq = tip
                    return
                if tip != p.log_seq:
                    raise _Deposed(f"the log moved on to {tip} (command {tip_cmd})") from None
                continue
            p.log_seq = int(ack.seq)
            return
