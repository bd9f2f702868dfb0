"""A partition's checkpoint in the cluster, and its event log trimmed behind it.

The leader of partition ``p`` stores, every ``checkpoint_every`` commands,
object ``partition-<p>`` in the NATS object store ``AUCTIONEER_CKPT``
(replicated like the streams): the exchange's one snapshot format
(:func:`~auctioneer.exchange.snapshot.encode_saved`, the single-server stream
engine's checkpoint file) labelled with the partition, the events stream and
``log_seq``, the event-log sequence of the last batch it covers (``seq`` is
the last command sequence applied). An engine starting from nothing (a fresh
replica, a deposed leader) and an API process's projection restore it and
read the log after ``log_seq`` only, instead of the whole log.

Trimming: with ``trim``, after storing a checkpoint the leader purges the
partition's event subject below the *previous* checkpoint's ``log_seq``: a
reader that started from that one (or is a checkpoint interval behind) still
finds every batch it needs, and everything older is covered by both. The
command stream is not trimmed (its duplicate window and the audit read it).

Example:
    >>> checkpoint_name(3)
    'partition-3'
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

from nats.errors import TimeoutError as NatsTimeoutError
from nats.js import JetStreamContext
from nats.js.api import ObjectStoreConfig, StorageType
from nats.js.errors import BucketNotFoundError, NotFoundError, ObjectNotFoundError
from nats.js.object_store import ObjectStore

from auctioneer.checks import require_int
from auctioneer.exchange.codec import INT_MAX
from auctioneer.exchange.durable import restore_saved
from auctioneer.exchange.scaleout.eventlog import EventSpec, Projection
from auctioneer.exchange.scaleout.partition import PartitionMap
from auctioneer.exchange.snapshot import Saved, decode_saved, encode_saved

__all__ = ["CHECKPOINT_BUCKET", "LogCheckpoint", "LogCheckpointError", "checkpoint_name",
           "checkpoint_store", "find_checkpoint_store", "load_checkpoint", "save_checkpoint",
           "trim_log"]

CHECKPOINT_BUCKET = "AUCTIONEER_CKPT"


class LogCheckpointError(ValueError):
    """A stored checkpoint that cannot be used (unreadable, another partition or stream, a
    state that does not restore to its hash)."""


def checkpoint_name(partition: int) -> str:
    """The object holding ``partition``'s checkpoint."""
    return f"partition-{partition}"


@dataclass(frozen=True, slots=True)
class LogCheckpoint:
    """Partition ``partition`` after command ``seq``, the event-log batch ``log_seq``."""

    partition: int
    seq: int
    log_seq: int
    state_hash: str
    snapshot: dict[str, Any]

    def projection(self, partitions: PartitionMap) -> Projection:
        """The projection this checkpoint holds, to go on from the log after ``log_seq``."""
        try:
            exchange = restore_saved(Saved(self.seq, self.state_hash, self.snapshot))
        except ValueError as exc:
            raise LogCheckpointError(f"checkpoint of partition {self.partition}: {exc}") \
                from None
        return Projection(self.partition, partitions, exchange, self.seq, self.log_seq)


async def find_checkpoint_store(js: JetStreamContext) -> ObjectStore | None:
    """The checkpoints' object store, None while nobody has created it."""
    try:
        return await js.object_store(CHECKPOINT_BUCKET)
    except (BucketNotFoundError, NotFoundError):
        return None


async def checkpoint_store(js: JetStreamContext, replicas: int = 1) -> ObjectStore:
    """The checkpoints' object store (created if missing)."""
    found = await find_checkpoint_store(js)
    return found or await js.create_object_store(CHECKPOINT_BUCKET, ObjectStoreConfig(
        replicas=replicas, storage=StorageType.FILE))


async def save_checkpoint(store: ObjectStore, projection: Projection,
                          spec: EventSpec) -> LogCheckpoint:
    """Store ``projection`` (its state now, at its ``seq`` and ``log_seq``) as its partition's
    checkpoint, replacing the previous one."""
    exchange = projection.exchange
    checkpoint = LogCheckpoint(projection.partition, projection.seq, projection.log_seq,
                               exchange.state_hash(), exchange.snapshot())
    labels = {"partition": checkpoint.partition, "stream": spec.name,
              "log_seq": checkpoint.log_seq}
    data = encode_saved(Saved(checkpoint.seq, checkpoint.state_hash, checkpoint.snapshot,
                              labels))
    await store.put(checkpoint_name(checkpoint.partition), data)
    return checkpoint


async def load_checkpoint(store: ObjectStore, partition: int, spec: EventSpec, *,
                          wait_s: float = 20.0) -> LogCheckpoint | None:
    """``partition``'s stored checkpoint, None when there is none yet; LogCheckpointError when
    it is unreadable or belongs to another partition or stream.

    A bucket just created on three nodes does not answer until its stream has
    elected a leader (a request then times out), so timeouts are retried for
    up to ``wait_s`` seconds before the last one is raised.
    """
    deadline = time.monotonic() + wait_s
    while True:
        try:
            found = await store.get(checkpoint_name(partition))
            break
        except ObjectNotFoundError:
            return None
        except NatsTimeoutError:
            if time.monotonic() >= deadline:
                raise
            await asyncio.sleep(0.25)
    try:
        saved = decode_saved(found.data or b"")
        log_seq = require_int(saved.labels.get("log_seq"), "log_seq", 0, INT_MAX)
    except (TypeError, ValueError) as exc:
        raise LogCheckpointError(f"checkpoint of partition {partition} is unreadable: "
                                 f"{exc}") from None
    labelled = (saved.labels.get("partition"), saved.labels.get("stream"))
    if labelled != (partition, spec.name):
        raise LogCheckpointError(f"checkpoint {checkpoint_name(partition)!r} is labelled "
                                 f"{labelled}, not ({partition}, {spec.name!r})")
    return LogCheckpoint(partition, saved.seq, log_seq, saved.state_hash, saved.state)


async def trim_log(js: JetStreamContext, partition: int, spec: EventSpec,
                   below: int) -> None:
    """Remove ``partition``'s batches with an event-log sequence below ``below``."""
    if below > 1:
        await js.purge_stream(spec.name, seq=below, subject=spec.subject(partition))
