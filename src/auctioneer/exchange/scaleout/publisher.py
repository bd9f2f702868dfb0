"""The API side: route a command, encode it, publish it with an idempotency key.

Each message carries ``Nats-Msg-Id: <msg_id>/<partition>``. JetStream keeps
the ids it saw within the stream's duplicate window and answers a second
publish of the same id with the first one's sequence, flagged ``duplicate``,
without storing it: a client that retries after a timeout (not knowing
whether its first publish landed) cannot make the engine apply the command
twice. A command for several partitions (opening an account, a tick) is
published to each in turn; if the publisher dies halfway, retrying the same
``msg_id`` completes the rest and skips the ones that landed.

Example:
    >>> message_id("req-42", 3)
    'req-42/3'
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

from nats.js import JetStreamContext
from nats.js.api import PubAck

from auctioneer.exchange.codec import encode_command
from auctioneer.exchange.commands import Command
from auctioneer.exchange.scaleout.partition import PartitionMap, Router, RoutingError
from auctioneer.exchange.scaleout.stream import MSG_ID, StreamSpec, encode_payload, ensure_stream

__all__ = ["Published", "Publisher", "Routed", "message_id"]


def message_id(msg_id: str, partition: int) -> str:
    """The dedup id of ``msg_id``'s copy for ``partition``."""
    return f"{msg_id}/{partition}"


@dataclass(frozen=True, slots=True)
class Routed:
    """A command to publish: its idempotency key, and its partition when the router needs one."""

    command: Command
    msg_id: str
    partition: int | None = None


@dataclass(frozen=True, slots=True)
class Published:
    """Where one copy of a command landed: its partition, stream sequence, and whether
    JetStream recognised it as a duplicate (then ``seq`` is the first copy's)."""

    partition: int
    seq: int
    duplicate: bool


class Publisher:
    """Publishes commands to their partitions' subjects; one per API process.

    Every publish waits for JetStream's acknowledgement (the command is then
    stored, on a quorum of a clustered stream), so an acknowledged command is
    never lost, whatever happens to the engines afterwards.
    """

    def __init__(self, js: JetStreamContext, partitions: PartitionMap,
                 spec: StreamSpec | None = None, *, ack_timeout_s: float = 10.0) -> None:
        self.js = js
        self.router = Router(partitions)
        self.spec = spec or StreamSpec()
        self.ack_timeout_s = ack_timeout_s

    @classmethod
    async def open(cls, js: JetStreamContext, partitions: PartitionMap,
                   spec: StreamSpec | None = None) -> Publisher:
        """A publisher on a stream that exists and routes by ``partitions``.

        PartitionMapMismatch when the stream was created with another map.
        """
        publisher = cls(js, partitions, spec)
        await ensure_stream(js, publisher.spec, partitions.describe())
        return publisher

    def _messages(self, item: Routed) -> list[tuple[int, str, bytes, dict[str, str]]]:
        """(partition, subject, payload, headers) of each copy; RoutingError first, if any."""
        if not item.msg_id or any(c.isspace() for c in item.msg_id):
            raise RoutingError("msg_id", f"{item.msg_id!r} must be non-empty, without whitespace")
        targets = self.router.route(item.command, item.partition)
        payload = encode_payload(encode_command(item.command))
        return [(p, self.spec.subject(p), payload, {MSG_ID: message_id(item.msg_id, p)})
                for p in targets]

    async def publish(self, command: Command, msg_id: str, *,
                      partition: int | None = None) -> list[Published]:
        """Route, encode and publish ``command`` under idempotency key ``msg_id``.

        RoutingError (nothing published) when no single partition can take
        it; ``partition`` names the target of a deposit, a withdrawal, or a
        cancel/modify of an order this publisher did not route.
        """
        landed = []
        for target, subject, payload, headers in self._messages(Routed(command, msg_id,
                                                                       partition)):
            ack = await self.js.publish(subject, payload, timeout=self.ack_timeout_s,
                                        stream=self.spec.name, headers=headers)
            landed.append(Published(target, ack.seq, bool(ack.duplicate)))
        return landed

    async def publish_many(self, items: Sequence[Routed]) -> list[Published]:
        """Publish ``items`` pipelined (thousands in flight), in order; every copy's ack.

        One connection sends in call order and JetStream sequences in arrival
        order, so the stream holds ``items`` in order. Every item is routed
        before the first is sent: a RoutingError publishes nothing. The client
        holds at most a few thousand unacknowledged messages, so the last
        acks are due within ``ack_timeout_s`` (TimeoutError otherwise; a
        retry with the same ids is safe).
        """
        batch = [copy for item in items for copy in self._messages(item)]
        pending: list[tuple[int, asyncio.Future[PubAck]]] = []
        for target, subject, payload, headers in batch:
            future = await self.js.publish_async(subject, payload, wait_stall=self.ack_timeout_s,
                                                 stream=self.spec.name, headers=headers)
            pending.append((target, future))
        acks = await asyncio.wait_for(asyncio.gather(*(future for _, future in pending)),
                                      self.ack_timeout_s)
        return [Published(target, ack.seq, bool(ack.duplicate))
                for (target, _), ack in zip(pending, acks, strict=True)]
