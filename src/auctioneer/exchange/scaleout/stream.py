"""The command stream: one JetStream stream, one subject per partition.

Every command for partition ``p`` is a message on subject ``cmd.<p>`` of the
stream ``AUCTIONEER_CMDS`` (names configurable by :class:`StreamSpec`). The
stream's sequence numbers are the total order each partition's engine
applies; the payload is the engine codec's dict as compact JSON, and the
``Nats-Msg-Id`` header is the publisher's idempotency key (JetStream drops a
second message with the same id inside the duplicate window).

Example:
    >>> spec = StreamSpec()
    >>> spec.subject(3), spec.wildcard
    ('cmd.3', 'cmd.*')
    >>> decode_payload(encode_payload({"type": "Tick", "ts_ns": 5}))
    {'ts_ns': 5, 'type': 'Tick'}
"""

from __future__ import annotations

import asyncio
import json
from collections import deque
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from typing import Any

from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import (
    ConsumerConfig,
    DeliverPolicy,
    DiscardPolicy,
    RetentionPolicy,
    StorageType,
    StreamConfig,
)
from nats.js.errors import NotFoundError

from auctioneer.exchange.scaleout.partition import PartitionMap

__all__ = [
    "DEFAULT_STREAM",
    "MSG_ID",
    "Feed",
    "PartitionMapMismatch",
    "StreamMessage",
    "StreamSpec",
    "decode_payload",
    "encode_payload",
    "ensure_stream",
    "last_sequence",
    "recorded_map",
    "messages",
]

DEFAULT_STREAM = "AUCTIONEER_CMDS"
MSG_ID = "Nats-Msg-Id"
"""The JetStream header that carries the publisher's idempotency key."""
_HIGH_WATER = 8192
"""Messages buffered ahead of the engine before delivery is held back."""


@dataclass(frozen=True, slots=True)
class StreamSpec:
    """Where the commands live: the stream's name, its subject prefix, its dedup window.

    ``replicas`` is the stream's replication factor: 1 on a single server,
    3 on a production cluster (JetStream then acknowledges a publish only
    once a quorum has stored it).
    """

    name: str = DEFAULT_STREAM
    prefix: str = "cmd"
    duplicate_window_s: float = 120.0
    replicas: int = 1

    def subject(self, partition: int) -> str:
        """The subject of ``partition``'s commands: ``<prefix>.<partition>``."""
        return f"{self.prefix}.{partition}"

    @property
    def wildcard(self) -> str:
        """The subject filter that covers every partition."""
        return f"{self.prefix}.*"


@dataclass(frozen=True, slots=True)
class StreamMessage:
    """One command message as an engine receives it: its stream sequence and payload."""

    seq: int
    data: bytes


def encode_payload(command: dict[str, Any]) -> bytes:
    """A codec dict as compact, key-sorted JSON bytes (the same dict, the same bytes)."""
    return json.dumps(command, separators=(",", ":"), sort_keys=True).encode()


def decode_payload(data: bytes) -> dict[str, Any]:
    """The codec dict in a message; ValueError when it is not a JSON object."""
    value = json.loads(data)
    if not isinstance(value, dict):
        raise ValueError(f"a command message must be a JSON object, not {type(value).__name__}")
    return value


class PartitionMapMismatch(ValueError):
    """A publisher's partition map differs from the one the stream was created with."""


async def ensure_stream(js: JetStreamContext, spec: StreamSpec = StreamSpec(),
                        partitions: str | None = None) -> None:
    """Create the command stream if it does not exist (file storage, nothing ever expires).

    Limits retention with no limits: messages stay until an operator purges
    the prefix that every replica's checkpoint covers (docs/scale-out.md).
    ``partitions`` (a publisher's ``PartitionMap.describe()``) is recorded as
    the stream's description by the first publisher; a publisher with
    another map gets PartitionMapMismatch, since it would route markets to
    engines that do not hold them.
    """
    config = StreamConfig(
        name=spec.name,
        subjects=[spec.wildcard],
        retention=RetentionPolicy.LIMITS,
        storage=StorageType.FILE,
        discard=DiscardPolicy.NEW,
        duplicate_window=spec.duplicate_window_s,
        num_replicas=spec.replicas,
    )
    try:
        info = await js.stream_info(spec.name)
    except NotFoundError:
        config.description = partitions
        await js.add_stream(config)
        return
    recorded = info.config.description
    if partitions is None or recorded == partitions:
        return
    if recorded:
        raise PartitionMapMismatch(f"stream {spec.name} routes by {recorded!r}, not "
                                   f"{partitions!r}: changing the map needs a migration")
    info.config.description = partitions
    await js.update_stream(info.config)


async def recorded_map(js: JetStreamContext,
                       spec: StreamSpec = StreamSpec()) -> PartitionMap | None:
    """The partition map the first publisher recorded on the stream; None when it records
    none or the stream does not exist yet."""
    try:
        info = await js.stream_info(spec.name)
    except NotFoundError:
        return None
    text = info.config.description
    return PartitionMap.from_description(text) if text else None


async def last_sequence(js: JetStreamContext, partition: int,
                        spec: StreamSpec = StreamSpec()) -> int:
    """The stream sequence of ``partition``'s newest command; 0 when it has none."""
    try:
        message = await js.get_last_msg(spec.name, spec.subject(partition))
    except NotFoundError:
        return 0
    return int(message.seq or 0)


class Feed:
    """An ordered consumer of one subject into a bounded buffer, drained in batches.

    Ephemeral, flow controlled, no acks: the client recreates it from the
    last delivered sequence if a message goes missing or (with
    ``heartbeat_s``) the server hosting it stops answering for two
    heartbeats, so the reader's own position, not the server, remembers how
    far it got. Messages arrive through a callback: nats-py's ``next_msg``
    costs a task per message (4x slower), and a full buffer holds the
    callback back, which holds back the consumer's flow-control reply,
    which stops the server: memory stays bounded however long the backlog.
    """

    def __init__(self) -> None:
        self._buffer: deque[StreamMessage] = deque()
        self._ready, self._room = asyncio.Event(), asyncio.Event()
        self._room.set()
        self._sub: Any = None

    @classmethod
    async def open(cls, js: JetStreamContext, stream: str, subject: str, after: int, *,
                   heartbeat_s: float | None = None) -> Feed:
        """``subject``'s messages in ``stream`` with stream sequence > ``after``."""
        feed = cls()
        policy = DeliverPolicy.ALL if after == 0 else DeliverPolicy.BY_START_SEQUENCE
        config = ConsumerConfig(opt_start_seq=after + 1 if after else None)
        feed._sub = await js.subscribe(subject, stream=stream, ordered_consumer=True,
                                       deliver_policy=policy, config=config,
                                       cb=feed._deliver, pending_msgs_limit=1 << 20,
                                       idle_heartbeat=heartbeat_s)
        return feed

    async def _deliver(self, msg: Msg) -> None:
        self._buffer.append(StreamMessage(msg.metadata.sequence.stream, msg.data))
        self._ready.set()
        if len(self._buffer) >= _HIGH_WATER:
            self._room.clear()
            await self._room.wait()

    async def wait(self, timeout_s: float | None) -> bool:
        """Whether a message is buffered, waiting up to ``timeout_s`` (None: forever)."""
        if not self._buffer:
            self._ready.clear()
            # asyncio.timeout, not wait_for: on Python 3.11 wait_for swallows a
            # cancellation that arrives as a message does, and a follower told to
            # stop would then run on.
            try:
                async with asyncio.timeout(timeout_s):
                    await self._ready.wait()
            except TimeoutError:
                return False
        return True

    def take(self, limit: int = 1) -> list[StreamMessage]:
        """Up to ``limit`` buffered messages, oldest first (O(limit))."""
        out = [self._buffer.popleft() for _ in range(min(limit, len(self._buffer)))]
        if len(self._buffer) <= _HIGH_WATER // 2:
            self._room.set()
        return out

    async def close(self) -> None:
        """Stop the consumer."""
        self._room.set()
        if self._sub is not None:
            await self._sub.unsubscribe()


async def messages(js: JetStreamContext, partition: int, after: int,
                   spec: StreamSpec = StreamSpec(), *,
                   idle_s: float | None = None) -> AsyncGenerator[StreamMessage, None]:
    """``partition``'s commands with stream sequence > ``after``, in order, forever.

    A :class:`Feed` of the partition's subject. With ``idle_s`` the iteration
    ends after that many seconds without a message.
    """
    feed = await Feed.open(js, spec.name, spec.subject(partition), after)
    try:
        while await feed.wait(idle_s):
            for message in feed.take():
                yield message
    finally:
        await feed.close()
