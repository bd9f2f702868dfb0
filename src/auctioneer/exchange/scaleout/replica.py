"""One partition's matching engine, fed in stream order: apply, record the position, checkpoint.

A :class:`PartitionEngine` owns an :class:`~auctioneer.exchange.engine.Exchange`
and the stream sequence of the last command it applied. Applying is a pure
function of (state, command), and the stream fixes the order, so every
replica that applies the same partition's messages reaches the same
``state_hash``; one restored from a checkpoint and fed the tail after its
sequence reaches it too.

A message at or below the recorded sequence is a redelivery and is skipped;
a message the codec cannot decode is skipped the same way by every replica
(and counted in ``undecodable``), so a bad message cannot split replicas.

Example:
    >>> engine = PartitionEngine(0)
    >>> engine.seq, engine.applied
    (0, 0)
    >>> _ = engine.apply(StreamMessage(7, b'not json'))
    >>> engine.seq, engine.undecodable
    (7, 1)
    >>> engine.apply(StreamMessage(7, b'{}')), engine.redelivered
    ([], 1)
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import aclosing
from pathlib import Path

from nats.js import JetStreamContext

from auctioneer.exchange.codec import CommandError, decode_command
from auctioneer.exchange.engine import Exchange
from auctioneer.exchange.events import Event
from auctioneer.exchange.scaleout.checkpoint import (
    Checkpoint,
    read_checkpoint,
    write_checkpoint,
)
from auctioneer.exchange.scaleout.stream import (
    DEFAULT_STREAM,
    StreamMessage,
    StreamSpec,
    decode_payload,
    last_sequence,
    messages,
)

__all__ = ["EventSink", "PartitionEngine"]

EventSink = Callable[[int, list[Event]], None]
"""Called with (stream sequence, events) after each applied command."""


class PartitionEngine:
    """The engine of ``partition``: an Exchange and the last stream sequence applied."""

    def __init__(self, partition: int, exchange: Exchange | None = None, seq: int = 0,
                 stream: str = DEFAULT_STREAM) -> None:
        self.partition = partition
        self.exchange = exchange if exchange is not None else Exchange()
        self.seq = seq
        self.stream = stream
        self.applied = 0
        self.redelivered = 0
        self.undecodable = 0

    def apply(self, message: StreamMessage) -> list[Event]:
        """Apply one message (O(the command's matching work)); its events, [] when skipped."""
        if message.seq <= self.seq:
            self.redelivered += 1
            return []
        try:
            command = decode_command(decode_payload(message.data))
        except (CommandError, ValueError):
            self.undecodable += 1
            events: list[Event] = []
        else:
            events = list(self.exchange.apply(command))
            self.applied += 1
        self.seq = message.seq
        return events

    def state_hash(self) -> str:
        """The exchange's state hash (equal across replicas at the same ``seq``)."""
        return self.exchange.state_hash()

    def checkpoint(self) -> Checkpoint:
        """The state and the sequence it covers, as one value."""
        return Checkpoint(self.partition, self.stream, self.seq, self.exchange.state_hash(),
                          self.exchange.snapshot())

    @classmethod
    def resume(cls, checkpoint: Checkpoint) -> PartitionEngine:
        """The engine a checkpoint describes; CheckpointError when its state hash disagrees."""
        return cls(checkpoint.partition, checkpoint.restore(), checkpoint.seq, checkpoint.stream)

    @classmethod
    def open(cls, directory: Path | None, partition: int,
             stream: str = DEFAULT_STREAM) -> PartitionEngine:
        """``partition``'s engine from its checkpoint in ``directory``, or a fresh one."""
        found = None if directory is None else read_checkpoint(directory, partition, stream)
        return cls(partition, stream=stream) if found is None else cls.resume(found)

    async def follow(self, js: JetStreamContext, spec: StreamSpec | None = None, *,
                     until: int | None = None, idle_s: float | None = None,
                     checkpoint_dir: Path | None = None, checkpoint_every: int = 0,
                     on_events: EventSink | None = None) -> int:
        """Consume the partition's subject from ``seq + 1``, applying each command in order.

        Stops once ``seq >= until`` (when given) or after ``idle_s`` seconds
        without a message (when given); otherwise runs until cancelled. With
        ``checkpoint_dir``, writes a checkpoint every ``checkpoint_every``
        applied messages (0: only when it stops). Returns how many messages
        it consumed.
        """
        spec = spec or StreamSpec(self.stream)
        consumed = 0
        since = 0
        if until is not None and self.seq >= until:
            return 0
        feed = messages(js, self.partition, self.seq, spec, idle_s=idle_s)
        async with aclosing(feed):
            async for message in feed:
                events = self.apply(message)
                consumed += 1
                if on_events is not None and events:
                    on_events(message.seq, events)
                since += 1
                if checkpoint_dir is not None and checkpoint_every and since >= checkpoint_every:
                    write_checkpoint(checkpoint_dir, self.checkpoint())
                    since = 0
                if until is not None and self.seq >= until:
                    break
        if checkpoint_dir is not None and since:
            write_checkpoint(checkpoint_dir, self.checkpoint())
        return consumed

    async def catch_up(self, js: JetStreamContext, spec: StreamSpec | None = None, *,
                       timeout_s: float = 30.0) -> int:
        """Consume up to the partition's newest command as of now; how many were consumed.

        TimeoutError when that takes longer than ``timeout_s``.
        """
        spec = spec or StreamSpec(self.stream)
        target = await last_sequence(js, self.partition, spec)
        started = time.monotonic()
        consumed = 0
        while self.seq < target:
            left = timeout_s - (time.monotonic() - started)
            if left <= 0:
                raise TimeoutError(f"partition {self.partition} reached sequence {self.seq}, "
                                   f"not {target}, in {timeout_s:g} s")
            consumed += await self.follow(js, spec, until=target, idle_s=min(left, 5.0))
        return consumed
