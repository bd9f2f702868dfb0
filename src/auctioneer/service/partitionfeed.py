"""The SSE feed of the served scale-out mode: every partition's event log merged into one hub.

The partitions' event logs are subjects ``evt.<p>`` of one JetStream stream,
so one ordered consumer on ``evt.*`` receives every partition's batches in
the order the stream stored them: that order *is* the merge, the same for
every API process. Each trade and published price becomes a server-sent
event on the :class:`~auctioneer.service.broadcast.Hub` (the single-process
payloads, plus ``partition`` and ``seq``; a trade's id is
``<partition>/<trade_id>``, trade ids being per engine). An entry at or
below the last sequence seen from its partition (a redelivered batch) is
skipped. Books are not pushed here: a client reads a book from the tables.

Example:
    >>> hub = Hub()
    >>> sub = hub.subscribe()
    >>> merger = Merger(hub)
    >>> merger.batch(1, [Entry(4, {}, ({"type": "price_published", "market": "r/x",
    ...                                 "price": 5, "ts_ns": 9},))])
    1
    >>> sub.get_nowait()
    b'event: price\\ndata: {"market":"r/x","price":5,"ts_ns":9,"partition":1,"seq":4}\\n\\n'
    >>> merger.batch(1, [Entry(4, {}, ())])
    0
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import DeliverPolicy

from auctioneer.exchange.scaleout.eventlog import Entry, EventSpec, decode_batch
from auctioneer.service.broadcast import Hub

__all__ = ["Merger", "merge_partitions"]


class Merger:
    """Turns partitions' batches, in stream order, into hub events; skips redeliveries."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self.last: dict[int, int] = {}

    def batch(self, partition: int, entries: Sequence[Entry]) -> int:
        """Publish the new entries' trades and prices; how many entries were new."""
        new = 0
        for entry in entries:
            if entry.seq <= self.last.get(partition, 0):
                continue
            self.last[partition] = entry.seq
            new += 1
            for ev in entry.events:
                kind = ev.get("type")
                tag = {"partition": partition, "seq": entry.seq}
                if kind == "traded":
                    self.hub.publish("trade", {
                        "id": f"{partition}/{ev['trade_id']}", "market": ev["market"],
                        "price": ev["price"], "quantity": ev["quantity"],
                        "aggressor": ev["aggressor"], "ts_ns": ev["ts_ns"], **tag})
                elif kind == "price_published":
                    self.hub.publish("price", {"market": ev["market"], "price": ev["price"],
                                               "ts_ns": ev["ts_ns"], **tag})
        return new


async def merge_partitions(js: JetStreamContext, hub: Hub, spec: EventSpec | None = None,
                           *, from_start: bool = False) -> None:
    """Feed ``hub`` from every partition's event log until cancelled (live batches only,
    unless ``from_start``)."""
    spec = spec or EventSpec()
    merger = Merger(hub)

    async def deliver(msg: Msg) -> None:
        partition = int(msg.subject.rsplit(".", 1)[1])
        merger.batch(partition, decode_batch(msg.data))

    policy = DeliverPolicy.ALL if from_start else DeliverPolicy.NEW
    sub = await js.subscribe(f"{spec.prefix}.*", stream=spec.name, ordered_consumer=True,
                             deliver_policy=policy, cb=deliver)
    try:
        await asyncio.Event().wait()
    finally:
        await sub.unsubscribe()
