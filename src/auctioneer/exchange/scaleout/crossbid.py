"""The coordinator's ports on JetStream: its log as a stream, its legs through the publisher.

:class:`StreamLog` keeps the coordinator's records on subject ``coord.0`` of
its own stream (``AUCTIONEER_COORD``, file storage, replicated like the
command stream), each with an idempotency key (``begun/<bid>``,
``settled/<bid>/<leg>``), so an append retried after a timeout is stored
once. A coordinator that restarts reads the whole subject back and resumes.

:class:`NatsLegs` publishes each leg with the command stream's
:class:`~auctioneer.exchange.scaleout.publisher.Publisher` (the leg's
``Nats-Msg-Id`` is the same on every re-send) and learns its outcome from a
replica of each partition it follows (engines are deterministic, so a
replica's events are the leader's). A production coordinator would read the
leader's event subject instead of replaying every partition.

Example:
    >>> from auctioneer.exchange.scaleout.coordinator import CrossBid
    >>> record_msg_id(Begun(CrossBid("b1", "a", ("r/x",), 1, 1)))
    'begun/b1'
"""

from __future__ import annotations

import asyncio
from contextlib import aclosing

from nats.js import JetStreamContext

from auctioneer.exchange.events import Event
from auctioneer.exchange.scaleout.coordinator import (
    Begun,
    Leg,
    LegBook,
    LegOutcome,
    Record,
    decode_record,
    encode_record,
)
from auctioneer.exchange.scaleout.deadline import stopped
from auctioneer.exchange.scaleout.partition import PartitionMap
from auctioneer.exchange.scaleout.publisher import Publisher
from auctioneer.exchange.scaleout.replica import PartitionEngine
from auctioneer.exchange.scaleout.stream import (
    MSG_ID,
    StreamSpec,
    decode_payload,
    encode_payload,
    ensure_stream,
    last_sequence,
    messages,
)

__all__ = ["COORDINATOR_STREAM", "NatsLegs", "StreamLog", "record_msg_id"]

COORDINATOR_STREAM = StreamSpec("AUCTIONEER_COORD", "coord")
"""The coordinator's log: one subject, ``coord.0``."""


def record_msg_id(record: Record) -> str:
    """The idempotency key of ``record`` in the log."""
    if isinstance(record, Begun):
        return f"begun/{record.bid.bid_id}"
    return f"settled/{record.bid_id}/{record.index}"


class StreamLog:
    """The coordinator's log on a JetStream stream (see the module docstring)."""

    def __init__(self, js: JetStreamContext, spec: StreamSpec = COORDINATOR_STREAM, *,
                 timeout_s: float = 10.0) -> None:
        self.js = js
        self.spec = spec
        self.timeout_s = timeout_s

    @classmethod
    async def open(cls, js: JetStreamContext,
                   spec: StreamSpec = COORDINATOR_STREAM) -> StreamLog:
        """The log, its stream created if missing."""
        await ensure_stream(js, spec)
        return cls(js, spec)

    async def append(self, record: Record) -> None:
        """Store ``record`` (stored once, however often retried within the window)."""
        await self.store(record)

    async def store(self, record: Record) -> bool:
        """:meth:`append`; True when the log already held ``record``'s key (a duplicate: the
        first copy, which may differ, is the one stored)."""
        ack = await self.js.publish(self.spec.subject(0), encode_payload(encode_record(record)),
                                    timeout=self.timeout_s, stream=self.spec.name,
                                    headers={MSG_ID: record_msg_id(record)})
        return bool(ack.duplicate)

    async def records(self) -> list[Record]:
        """Every record stored, in order (CrossBidError on a record it cannot read)."""
        return (await self.records_after(0))[1]

    async def records_after(self, after: int) -> tuple[int, list[Record]]:
        """The records stored after stream sequence ``after``, in order, and the sequence of
        the last one (``after`` when there is none): a reader that keeps up reads each once."""
        target = await last_sequence(self.js, 0, self.spec)
        found: list[Record] = []
        if target <= after:
            return after, found
        last = after
        feed = messages(self.js, 0, after, self.spec, idle_s=self.timeout_s)
        async with aclosing(feed):
            async for message in feed:
                found.append(decode_record(decode_payload(message.data)))
                last = message.seq
                if last >= target:
                    break
        return last, found


class NatsLegs:
    """Legs published to the command stream; outcomes from a replica per partition."""

    def __init__(self, js: JetStreamContext, publisher: Publisher) -> None:
        self.js = js
        self.publisher = publisher
        self.books: dict[int, LegBook] = {}
        self._changed: dict[int, asyncio.Event] = {}
        self._followers: dict[int, asyncio.Task[int]] = {}

    @classmethod
    async def open(cls, js: JetStreamContext, partitions: PartitionMap,
                   spec: StreamSpec | None = None) -> NatsLegs:
        """Ports for ``partitions`` on the command stream; starts one replica per partition."""
        legs = cls(js, await Publisher.open(js, partitions, spec))
        for p in partitions.all:
            legs._follow(p)
        return legs

    def _follow(self, partition: int) -> None:
        book = self.books[partition] = LegBook()
        changed = self._changed[partition] = asyncio.Event()

        def observe(seq: int, events: list[Event]) -> None:
            book.observe(seq, events)
            changed.set()

        engine = PartitionEngine(partition, stream=self.publisher.spec.name)
        follower = self._followers[partition] = asyncio.ensure_future(
            engine.follow(self.js, self.publisher.spec, on_events=observe))
        follower.add_done_callback(lambda _: changed.set())

    async def submit(self, leg: Leg) -> int:
        """Publish ``leg`` to its partition; the stream sequence of its first stored copy."""
        landed = await self.publisher.publish(leg.command, leg.msg_id,
                                              partition=leg.partition)
        return landed[0].seq

    async def outcome(self, leg: Leg, seq: int) -> LegOutcome:
        """Wait until the partition's replica applied the leg at ``seq``; its outcome.
        ConnectionError when the replica stopped (the coordinator then restarts)."""
        book, changed = self.books[leg.partition], self._changed[leg.partition]
        follower = self._followers[leg.partition]
        while (found := book.outcome(leg, seq)) is None:
            if follower.done():  # the replica died (its connection, a node): so does this
                raise ConnectionError(f"partition {leg.partition}'s replica stopped: "
                                      f"{follower.exception()!r}")
            changed.clear()
            await changed.wait()
        return found

    async def close(self) -> None:
        """Stop the replicas (TimeoutError if one will not: see :func:`stopped`)."""
        await stopped(self._followers.values(), "the coordinator's replicas")

