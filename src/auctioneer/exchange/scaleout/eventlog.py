"""The partitions' event log: what each partition's leader applied, in order, one batch a message.

Stream ``AUCTIONEER_EVTS``, subject ``evt.<p>``: each message is a batch of
:class:`Entry` values, one per command the leader applied, in command-stream
order: the command's stream sequence, the command (the codec's dict) and
the events applying it produced. The leader publishes a batch with
``Nats-Expected-Last-Subject-Sequence`` set to the stream sequence of the
subject's previous batch, so the subject is a single chain that no second
writer can fork (docs/scale-out.md, "Leader election and fencing"), and
the header ``Auctioneer-Term`` names the lease term it published under.

Because a batch carries the commands, the log is enough to rebuild the
partition: a :class:`Projection` applies each entry's command to its own
exchange and checks that it produced the same events. Warm replicas and
the API's read side are projections; a replica that diverged stops rather
than serve a state the leader does not have.

Example:
    >>> entry = Entry(7, {"type": "tick", "ts_ns": 5}, ())
    >>> decode_batch(encode_batch([entry])) == [entry]
    True
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
from nats.js import JetStreamContext
from nats.js.api import DiscardPolicy, RetentionPolicy, StorageType, StreamConfig
from nats.js.errors import NotFoundError

from auctioneer.checks import require_int
from auctioneer.exchange.codec import INT_MAX, CommandError, decode_command, encode_event
from auctioneer.exchange.commands import Command
from auctioneer.exchange.engine import Exchange
from auctioneer.exchange.events import Event, Rejected
from auctioneer.exchange.scaleout.partition import PartitionMap, Router, RoutingError
from auctioneer.exchange.scaleout.stream import StreamMessage

__all__ = ["EVENTS_STREAM", "EXPECTED_LAST", "TERM", "Divergence", "Entry", "EventSpec",
           "Projection", "apply_routed", "decode_batch", "encode_batch", "ensure_events",
           "entry_of", "last_batch"]

EVENTS_STREAM = "AUCTIONEER_EVTS"
TERM = "Auctioneer-Term"
"""The header naming the lease term a batch was published under."""
EXPECTED_LAST = "Nats-Expected-Last-Subject-Sequence"
"""JetStream stores a message with this header only if the subject's last sequence matches."""


class Divergence(RuntimeError):
    """A projection's own events for a command differ from the leader's."""


@dataclass(frozen=True, slots=True)
class EventSpec:
    """Where the events live: the stream's name, its subject prefix, its replication."""

    name: str = EVENTS_STREAM
    prefix: str = "evt"
    replicas: int = 1

    def subject(self, partition: int) -> str:
        """The subject of ``partition``'s batches: ``<prefix>.<partition>``."""
        return f"{self.prefix}.{partition}"


@dataclass(frozen=True, slots=True)
class Entry:
    """One applied command: its command-stream sequence, its codec dict (None when it could
    not be decoded: skipped alike everywhere) and the events, encoded."""

    seq: int
    command: dict[str, Any] | None
    events: tuple[dict[str, Any], ...]


def encode_batch(entries: Sequence[Entry]) -> bytes:
    """A batch as one JSON message."""
    return orjson.dumps({"entries": [{"seq": e.seq, "cmd": e.command, "events": e.events}
                                     for e in entries]})


def decode_batch(data: bytes) -> list[Entry]:
    """The entries of a batch; ValueError when the message is not one (a sequence outside
    1..2**63-1 included: the log is a boundary like any other)."""
    try:
        entries = [Entry(require_int(e["seq"], "seq", 1, INT_MAX), e["cmd"],
                         tuple(e["events"])) for e in orjson.loads(data)["entries"]]
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"not an event batch: {exc}") from None
    if any(e.command is not None and not isinstance(e.command, dict) for e in entries):
        raise ValueError("not an event batch: a command is not an object")
    return entries


async def ensure_events(js: JetStreamContext, spec: EventSpec = EventSpec()) -> None:
    """Create the events stream if it does not exist (file storage, nothing expires)."""
    try:
        await js.stream_info(spec.name)
    except NotFoundError:
        await js.add_stream(StreamConfig(
            name=spec.name, subjects=[f"{spec.prefix}.*"], retention=RetentionPolicy.LIMITS,
            storage=StorageType.FILE, discard=DiscardPolicy.NEW, num_replicas=spec.replicas))


async def last_batch(js: JetStreamContext, partition: int,
                     spec: EventSpec = EventSpec()) -> tuple[int, int]:
    """(events-stream sequence, last command sequence) of ``partition``'s newest batch;
    (0, 0) when it has none."""
    try:
        message = await js.get_last_msg(spec.name, spec.subject(partition))
    except NotFoundError:
        return 0, 0
    entries = decode_batch(message.data or b"")
    return int(message.seq or 0), entries[-1].seq if entries else 0


def apply_routed(exchange: Exchange, partitions: PartitionMap, partition: int,
                 command: Command) -> list[Event]:
    """Apply ``command`` unless the cluster's map sends it elsewhere (then a Rejected event
    naming ``partition``, nothing applied): a publisher with a stale map cannot put a
    market's orders in a book that does not own it."""
    try:
        targets = Router(partitions).route(command, partition)
    except RoutingError as exc:
        return [Rejected(command.kind, exc.field, exc.message)]
    if partition not in targets:
        return [Rejected(command.kind, "partition",
                         f"the cluster's map ({partitions.describe()}) sends this command to "
                         f"partition {targets[0]}, not {partition}")]
    return list(exchange.apply(command))  # the log encodes every event


def entry_of(exchange: Exchange, partitions: PartitionMap, partition: int,
             message: StreamMessage) -> tuple[Entry, list[Event]]:
    """Apply one command message; its entry and events (none when undecodable)."""
    try:
        data = orjson.loads(message.data)
        command = decode_command(data)
    except (CommandError, ValueError):
        return Entry(message.seq, None, ()), []
    events = apply_routed(exchange, partitions, partition, command)
    return Entry(message.seq, data, tuple(encode_event(e) for e in events)), events


@dataclass(slots=True)
class Projection:
    """A partition rebuilt from its event log: an exchange, the last command sequence applied
    (``seq``) and the events-stream sequence of the last batch applied (``log_seq``)."""

    partition: int
    partitions: PartitionMap
    exchange: Exchange = field(default_factory=Exchange)
    seq: int = 0
    log_seq: int = 0
    applied: int = 0

    def apply_batch(self, message: StreamMessage
                    ) -> list[tuple[Entry, Command | None, list[Event]]]:
        """Apply a batch's new entries (O(their matching work)); each with its decoded
        command (None when undecodable) and events.

        Divergence when this exchange's events for a command differ from the batch's.
        """
        out: list[tuple[Entry, Command | None, list[Event]]] = []
        for entry in decode_batch(message.data):
            if entry.seq <= self.seq:
                continue
            command = None if entry.command is None else decode_command(entry.command)
            events: list[Event] = []
            if command is not None:
                events = apply_routed(self.exchange, self.partitions, self.partition, command)
                mine = orjson.dumps([encode_event(e) for e in events])
                if mine != orjson.dumps(entry.events):
                    raise Divergence(f"partition {self.partition}: command {entry.seq} gave "
                                     f"{mine!r} here, {entry.events!r} on the leader")
                self.applied += 1
            self.seq = entry.seq
            out.append((entry, command, events))
        self.log_seq = message.seq
        return out
