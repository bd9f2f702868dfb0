"""``serve --nats``: a bid whose markets lie in several partitions, run by the coordinator.

The API process that takes the bid drives its saga
(:mod:`~auctioneer.exchange.scaleout.coordinator`) itself: the legs go
through the process's :class:`~auctioneer.service.gateway.Gateway` (each leg
under its deterministic ``Nats-Msg-Id`` ``xbid/<bid>/<i>``), and each leg's
outcome is read from the partition leader's events that the gateway already
follows. The saga log is the R3 stream ``AUCTIONEER_COORD``.

**Acknowledgement point** of a cross-partition bid: the answer (201) comes
once its ``Begun`` record is stored on a quorum of the R3 coordinator stream
*and* its last leg's ``Settled`` record is stored there, after that leg was
applied by its partition's leader (so every leg is stored on the R3 command
stream and in the R3 event log). A 503 after the ``Begun`` record was stored
leaves the bid to be finished by a retry with the same ``Idempotency-Key``
(any API process), by the next API process to start, which resumes every
unfinished bid of the log, or by the **coordinator role**: the one API
process holding the lease ``coordinator`` (a NATS KV lease like the
partitions') reads the log's new records every second and finishes each bid
that made no progress since its previous look, so a bid whose API process
died is finished within a few seconds while the other processes run on.
The bid's id is derived from the caller and the key, and every leg's order
id and message id from the bid's id, so however many processes drive it,
each leg is applied at most once.

Example:
    >>> from auctioneer.exchange.scaleout.coordinator import CrossBid
    >>> from auctioneer.exchange.scaleout.partition import PartitionMap
    >>> m = PartitionMap(2, {"us-east-1": 0, "eu-west-1": 1})
    >>> c = Coordinator(m)
    >>> c.apply(c.begin(CrossBid("b", "a", ("us-east-1/x", "eu-west-1/x"), 10, 3)))
    >>> bid_result(c.bids["b"])["status"], bid_result(c.bids["b"])["remaining"]
    ('open', 3)
"""

from __future__ import annotations

import asyncio
import sys
import time
from typing import Any

import nats.errors

from auctioneer.exchange.scaleout.coordinator import (
    BidProgress,
    Coordinator,
    CrossBid,
    Leg,
    LegBook,
    LegOutcome,
    Record,
    drive,
    leg_order_id,
)
from auctioneer.exchange.scaleout.crossbid import COORDINATOR_STREAM, StreamLog
from auctioneer.exchange.scaleout.lease import Lease, lease_bucket
from auctioneer.exchange.scaleout.stream import StreamSpec, ensure_stream
from auctioneer.service.gateway import ClusterUnavailable, Gateway

__all__ = ["COORDINATOR_LEASE", "CrossBids", "GatewayLegs", "bid_result"]

COORDINATOR_LEASE = "coordinator"
"""The key of the coordinator role's lease in the lease bucket."""
_RETRY_S = 1.0
_LEASE_TTL_S = 2.0
"""The lease bucket's TTL when this process creates it (engines usually have)."""
_SWEEP_S = 1.0


class GatewayLegs:
    """The coordinator's :class:`~auctioneer.exchange.scaleout.coordinator.LegPort` on a
    gateway: legs published to the command stream, outcomes from the leader's events."""

    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway

    async def submit(self, leg: Leg) -> int:
        """Store ``leg`` (once, by its message id); the sequence of its first stored copy."""
        [copy] = await self.gateway.store(leg.command, leg.msg_id, leg.partition)
        return copy.seq

    async def outcome(self, leg: Leg, seq: int) -> LegOutcome:
        """What the leader's events say the leg stored at ``seq`` did."""
        applied = await self.gateway.applied(leg.partition, seq)
        book = LegBook()
        book.observe(seq, applied.events)
        found = book.outcome(leg, seq)
        if found is None:  # the entry at seq holds another command: the map moved under us
            raise ClusterUnavailable(f"command {seq} of partition {leg.partition} is not "
                                     f"leg {leg.command.order_id}", 5.0)
        return found


def bid_result(progress: BidProgress) -> dict[str, Any]:
    """The answer for a bid: its totals and each recorded leg's outcome.

    Built from the log's records alone, so every retry (on any API process)
    gets the same answer. The legs' trades are in ``GET /trades``.
    """
    bid, outcomes = progress.bid, progress.outcomes
    filled = progress.filled
    resting = outcomes[-1].resting if outcomes and progress.done else 0
    if filled >= bid.quantity:
        status, remaining, reason = "filled", 0, None
    elif not progress.done or resting:
        status, remaining, reason = "open", bid.quantity - filled, None
    else:
        status, remaining, reason = "cancelled", 0, "ioc"
    legs = [{"order_id": leg_order_id(bid.bid_id, i), "partition": progress.plan[i][0],
             "filled": o.filled, "resting": o.resting, "rejected": o.rejected or None}
            for i, o in enumerate(outcomes)]
    return {"order_id": bid.bid_id, "status": status, "filled": filled,
            "remaining": remaining, "trades": [], "field": None, "reason": reason,
            "legs": legs}


class CrossBids:
    """One API process's coordinator: its log, its legs, the bids it knows.

    :meth:`run` (a task for the process's life) creates the log's stream if
    missing, rebuilds the coordinator from it and finishes the bids it holds
    unfinished; bids are taken once it has read the log.
    """

    def __init__(self, gateway: Gateway) -> None:
        spec = StreamSpec(COORDINATOR_STREAM.name, COORDINATOR_STREAM.prefix,
                          replicas=gateway.commands.replicas)
        self.log = StreamLog(gateway.js, spec)
        self.legs = GatewayLegs(gateway)
        self.coordinator = Coordinator(gateway.partitions)
        self.wait_s = gateway.apply_timeout_s
        self._ready = asyncio.Event()
        self._lock = asyncio.Lock()
        self._cursor = 0
        """The saga log's sequence up to which this process has read it."""

    async def run(self) -> None:
        """Read the log (retrying while the cluster is unavailable), then finish every bid it
        holds unfinished (a process that died mid-saga)."""
        while True:
            try:
                if not self._ready.is_set():
                    await ensure_stream(self.log.js, self.log.spec)
                    self._cursor, records = await self.log.records_after(0)
                    for record in records:
                        self.coordinator.apply(record)
                    self._ready.set()
                await self._drive(None)
                return
            except (ClusterUnavailable, nats.errors.Error, TimeoutError) as exc:
                print(f"auctioneer serve: cross-partition bids: {exc!r}", file=sys.stderr,
                      flush=True)
                await asyncio.sleep(_RETRY_S)

    async def place(self, bid: CrossBid) -> BidProgress:
        """Take ``bid`` (or find it, on a retry) and drive it to its end.

        CrossBidError (nothing stored) when it cannot run; ClusterUnavailable
        when the cluster did not store or apply a step in time.
        """
        try:
            await asyncio.wait_for(self._ready.wait(), self.wait_s)
        except TimeoutError:
            raise ClusterUnavailable("the coordinator's log could not be read yet", 1.0) from None
        if bid.bid_id not in self.coordinator.bids:
            record = self.coordinator.begin(bid)
            if await self._store(record):  # taken before (another process, or before a
                for known in await self.records():  # crash): its records, not this copy
                    self.coordinator.apply(known)
            self.coordinator.apply(record)
        await self._drive(bid.bid_id)
        return self.coordinator.bids[bid.bid_id]

    async def _drive(self, bid_id: str | None) -> None:
        async with self._lock:  # one driver per process: its records are applied in order
            await drive(self.coordinator, self, self.legs, bid_id)

    async def append(self, record: Record) -> None:
        """:class:`~auctioneer.exchange.scaleout.coordinator.CoordinatorLog`'s append; a store
        that failed is ClusterUnavailable."""
        await self._store(record)

    async def _store(self, record: Record) -> bool:
        try:
            return await self.log.store(record)
        except (nats.errors.Error, TimeoutError) as exc:
            raise ClusterUnavailable(f"the coordinator's log did not store "
                                     f"{type(record).__name__} ({type(exc).__name__}); "
                                     "retry with the same Idempotency-Key", 1.0) from None

    async def records(self) -> list[Record]:
        """Every record of the log."""
        return await self.log.records()

    async def coordinate(self, holder: str) -> None:
        """The coordinator role, for the process's life (a task): take the lease
        :data:`COORDINATOR_LEASE` when it is free and, while holding it, finish stalled bids
        every second (:meth:`finish_stalled`). A bid still driven by a live process moves on
        between two looks and is left to it; a bid driven twice would still apply each leg
        once (same order ids and message ids), only at twice the cost."""
        await self._ready.wait()
        kv = await lease_bucket(self.log.js, _LEASE_TTL_S, self.log.spec.replicas)
        ttl = (await kv.status()).ttl or _LEASE_TTL_S
        lease = Lease(kv, COORDINATOR_LEASE, holder, ttl)
        seen: dict[str, int] = {}
        swept = time.monotonic()
        try:
            while True:
                try:
                    if not await (lease.renew() if lease.term else lease.acquire()):
                        seen = {}
                    elif time.monotonic() - swept >= _SWEEP_S:
                        swept = time.monotonic()
                        seen = await self.finish_stalled(seen)
                except (ClusterUnavailable, nats.errors.Error, TimeoutError) as exc:
                    print(f"auctioneer serve: coordinator: {exc!r}", file=sys.stderr,
                          flush=True)
                await asyncio.sleep(ttl / 4)
        finally:
            await lease.release()

    async def finish_stalled(self, seen: dict[str, int]) -> dict[str, int]:
        """Read the saga log's new records, then drive to its end every unfinished bid whose
        settled legs still number what ``seen`` (the previous look) says; the unfinished
        bids now, with their settled legs' count, for the next look."""
        async with self._lock:
            self._cursor, records = await self.log.records_after(self._cursor)
            for record in records:
                self.coordinator.apply(record)
            for bid_id, progress in list(self.coordinator.bids.items()):
                if not progress.done and seen.get(bid_id) == len(progress.outcomes):
                    await drive(self.coordinator, self, self.legs, bid_id)
            return {bid_id: len(p.outcomes) for bid_id, p in self.coordinator.bids.items()
                    if not p.done}
