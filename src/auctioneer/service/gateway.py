"""A stateless API process's link to the cluster: publish commands, wait for the leader's events.

:class:`Gateway` publishes each command to the R3 command stream
(``AUCTIONEER_CMDS``) under an idempotency key, then waits until the
partition leader's event log holds the command's entry, and returns the
events. That is the **acknowledgement point** of ``serve --nats``: an
answer other than 503 means the command is stored on a quorum of the
command stream *and* its entry (command + events) is stored on a quorum of
the event log, as seen by this process. Both streams are R3, so an
acknowledged command survives the loss of any one node, engine or API
process.

Reads come from :class:`ClusterReads`: here each partition's
:class:`~auctioneer.exchange.scaleout.eventlog.Projection` of the log, kept
in this process (the same code warm replicas run). Another read side (the
PostgreSQL one) implements the same protocol.

When the cluster cannot store a command (no quorum, no connection, no
answer within ``ack_timeout_s``) or its leader does not apply it within
``apply_timeout_s`` (a failover), :class:`ClusterUnavailable` says so, and
the API answers 503 with ``Retry-After``: nothing is acknowledged. A client
retrying with the same ``Idempotency-Key`` within the stream's duplicate
window (2 minutes) gets the first copy's sequence back and so the one
outcome, never a second order.

Example:
    >>> ClusterUnavailable("no quorum", 1.0).retry_after
    '1'
"""

from __future__ import annotations

import asyncio
import math
import sys
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import nats.errors
from nats.aio.client import Client

from auctioneer.exchange.commands import Command, MarketOrder, PlaceOrder
from auctioneer.exchange.engine import Exchange
from auctioneer.exchange.events import Event
from auctioneer.exchange.scaleout.deadline import stopped
from auctioneer.exchange.scaleout.eventlog import EventSpec, Projection
from auctioneer.exchange.scaleout.logcheckpoint import find_checkpoint_store, load_checkpoint
from auctioneer.exchange.scaleout.node import connect
from auctioneer.exchange.scaleout.partition import PartitionMap
from auctioneer.exchange.scaleout.publisher import Published, Publisher, Routed
from auctioneer.exchange.scaleout.stream import (
    Feed,
    PartitionMapMismatch,
    StreamSpec,
    ensure_stream,
    recorded_map,
)

__all__ = ["Applied", "ClusterReads", "ClusterUnavailable", "Gateway"]

_REMEMBERED = 200_000
"""Outcomes kept for retries (by partition and command sequence), oldest dropped first."""
_HEARTBEAT_S = 0.5


class ClusterUnavailable(RuntimeError):
    """The cluster did not store or apply a command in time; answer 503, retry later."""

    def __init__(self, message: str, retry_after_s: float) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s

    @property
    def retry_after(self) -> str:
        """The ``Retry-After`` header's value: whole seconds, at least 1."""
        return str(max(1, math.ceil(self.retry_after_s)))


@dataclass(frozen=True, slots=True)
class Applied:
    """One copy of a command as its partition's leader applied it."""

    partition: int
    seq: int
    command: Command
    events: list[Event]
    duplicate: bool


class ClusterReads(Protocol):
    """What the API reads: a partition's exchange state (accounts, orders, books, markets).

    Eventually consistent: it reflects every command this process has seen
    acknowledged, and others' commands a moment later.
    """

    partitions: PartitionMap

    def exchange(self, partition: int) -> Exchange:
        """``partition``'s state, for reads only."""
        ...

    def partition_of_order(self, order_id: str) -> int | None:
        """Where order ``order_id`` went, if it was placed."""
        ...


class Gateway:
    """Publishes commands and hands back the leader's events; projects the log for reads."""

    def __init__(self, nc: Client, partitions: PartitionMap, commands: StreamSpec,
                 events: EventSpec, *, ack_timeout_s: float, apply_timeout_s: float) -> None:
        self.nc = nc
        self.js = nc.jetstream()
        self.partitions = partitions
        self.commands = commands
        self.events = events
        self.publisher = Publisher(self.js, partitions, commands, ack_timeout_s=ack_timeout_s)
        self.ack_timeout_s = ack_timeout_s
        self.apply_timeout_s = apply_timeout_s
        self.projections = {p: Projection(p, partitions) for p in partitions.all}
        self._done: OrderedDict[tuple[int, int], Applied] = OrderedDict()
        self._waiting: dict[tuple[int, int], asyncio.Future[Applied]] = {}
        self._orders: dict[str, int] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self.error: BaseException | None = None

    @classmethod
    async def open(cls, url: str, commands: StreamSpec, events: EventSpec, *,
                   expected: PartitionMap | None = None, ack_timeout_s: float = 2.0,
                   apply_timeout_s: float = 10.0) -> Gateway:
        """Connect, read the cluster's partition map and start following the log.

        With ``expected``, records it when the cluster has no map yet;
        PartitionMapMismatch when it differs from the cluster's.
        """
        nc = await connect(url)
        try:
            if expected is not None:  # recorded if the cluster has none; else it must match
                await ensure_stream(nc.jetstream(), commands, expected.describe())
            partitions = await recorded_map(nc.jetstream(), commands)
            if partitions is None:
                raise PartitionMapMismatch("the cluster records no partition map yet: pass "
                                           "--partitions to record one")
            gateway = cls(nc, partitions, commands, events, ack_timeout_s=ack_timeout_s,
                          apply_timeout_s=apply_timeout_s)
            await gateway._from_checkpoints()
            for p in partitions.all:
                feed = await Feed.open(gateway.js, events.name, events.subject(p),
                                       gateway.projections[p].log_seq,
                                       heartbeat_s=_HEARTBEAT_S)
                gateway._tasks.append(asyncio.ensure_future(gateway._follow(p, feed)))
        except BaseException:
            await nc.close()
            raise
        return gateway

    async def _from_checkpoints(self) -> None:
        """Start each partition's projection from its checkpoint, when one is stored (the
        log behind it may be trimmed)."""
        store = await find_checkpoint_store(self.js)
        if store is None:
            return
        for p in self.partitions.all:
            found = await load_checkpoint(store, p, self.events)
            if found is not None:
                self.projections[p] = found.projection(self.partitions)

    async def close(self) -> None:
        """Stop following and disconnect (TimeoutError, still disconnected, if a follower
        will not stop: see :func:`~auctioneer.exchange.scaleout.deadline.stopped`)."""
        try:
            await stopped(self._tasks, "the gateway's followers")
        finally:
            await self.nc.close()

    # ------------------------------------------------------------------- reads

    def exchange(self, partition: int) -> Exchange:
        """``partition``'s projected state."""
        return self.projections[partition].exchange

    def partition_of_order(self, order_id: str) -> int | None:
        """Where order ``order_id`` was placed, as the log says (or, for an order placed
        before the checkpoint this process started from, the partition holding it open)."""
        found = self._orders.get(order_id)
        if found is None:
            found = next((p for p, projection in self.projections.items()
                          if projection.exchange.order(order_id) is not None), None)
        return found

    # ------------------------------------------------------------------ writes

    async def submit(self, command: Command, key: str,
                     partition: int | None = None) -> list[Applied]:
        """Publish ``command`` under idempotency key ``key`` and wait until each copy is applied.

        RoutingError (nothing published) when the command cannot be routed;
        ClusterUnavailable when it is not stored or not applied in time.
        """
        return [await self.applied(copy.partition, copy.seq, copy.duplicate)
                for copy in await self.store(command, key, partition)]

    async def store(self, command: Command, key: str,
                    partition: int | None = None) -> list[Published]:
        """Publish ``command`` under idempotency key ``key``; where each copy is stored.

        RoutingError (nothing published) or ClusterUnavailable, as :meth:`submit`.
        """
        self._check_connected()
        try:
            return await self.publisher.publish(command, key, partition=partition)
        except (nats.errors.Error, TimeoutError) as exc:
            raise ClusterUnavailable(
                f"the command stream did not acknowledge in {self.ack_timeout_s:g} s "
                f"({type(exc).__name__}): not stored, or stored without an answer; retry "
                "with the same Idempotency-Key", 1.0) from None

    async def store_many(self, items: Sequence[tuple[Command, str, int]]) -> list[Published]:
        """Publish ``(command, key, partition)`` items pipelined, in order; where each is
        stored (one copy each). RoutingError (nothing published) or ClusterUnavailable."""
        self._check_connected()
        try:
            return await self.publisher.publish_many([Routed(c, key, p) for c, key, p in items])
        except (nats.errors.Error, TimeoutError) as exc:
            raise ClusterUnavailable(
                f"the command stream did not acknowledge {len(items)} commands in "
                f"{self.ack_timeout_s:g} s ({type(exc).__name__}): some may be stored; retry "
                "with the same Idempotency-Key", 1.0) from None

    async def applied(self, partition: int, seq: int, duplicate: bool = False) -> Applied:
        """The command stored at ``seq`` of ``partition`` once its leader applied it.

        ClusterUnavailable when it is not applied within ``apply_timeout_s``.
        """
        key = (partition, seq)
        done = self._done.get(key)
        if done is None:
            if self.projections[partition].seq >= seq:
                raise ClusterUnavailable(f"command {seq} of partition {partition} was applied "
                                         "too long ago to report", 5.0)
            future = self._waiting.get(key)
            if future is None:
                future = self._waiting[key] = asyncio.get_running_loop().create_future()
            try:
                done = await asyncio.wait_for(asyncio.shield(future), self.apply_timeout_s)
            except TimeoutError:
                raise ClusterUnavailable(
                    f"stored as command {seq} of partition {partition} but not applied within "
                    f"{self.apply_timeout_s:g} s (a leader failing over?); retry with the same "
                    "Idempotency-Key", 1.0) from None
        return Applied(partition, seq, done.command, done.events, duplicate)

    def _check_connected(self) -> None:
        """ClusterUnavailable when this process cannot store a command now."""
        if self.error is not None:
            raise ClusterUnavailable(f"this API process stopped following the log: "
                                     f"{self.error}", 5.0)
        if not self.nc.is_connected:
            raise ClusterUnavailable("not connected to any NATS node", 1.0)

    async def _follow(self, partition: int, feed: Feed) -> None:
        projection = self.projections[partition]
        try:
            while True:
                await feed.wait(None)
                for message in feed.take(1000):
                    for entry, command, events in projection.apply_batch(message):
                        if command is not None:
                            self._record(Applied(partition, entry.seq, command, events, False))
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a divergence: stop acknowledging, say why
            self.error = exc
            print(f"auctioneer serve: partition {partition}: {exc}", file=sys.stderr,
                  flush=True)
        finally:
            await feed.close()

    def _record(self, applied: Applied) -> None:
        key = (applied.partition, applied.seq)
        self._done[key] = applied
        if len(self._done) > _REMEMBERED:
            self._done.popitem(last=False)
        if isinstance(applied.command, PlaceOrder | MarketOrder):
            self._orders[applied.command.order_id] = applied.partition
        future = self._waiting.pop(key, None)
        if future is not None and not future.done():
            future.set_result(applied)
