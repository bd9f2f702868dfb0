"""The single writer: stamps, journals (group commit), applies, answers, publishes.

Every request that changes the exchange hands the sequencer a list of
*makers* (functions from a timestamp to a command), or a builder of its
commands from the first of the stamps it is given (:meth:`Sequencer.submit_built`:
an order's command is built once, with its id, and admitted as it will be
journaled). The sequencer stamps them as they are submitted: ``ts_ns``
strictly rising (the wall clock, or the last stamp plus one), and for an
order an id derived from that stamp; stamping and queueing happen with no
``await`` between, so the queue, and hence the journal, is in stamp order.
One asyncio task takes whatever requests have queued and

1. appends the whole group to the journal with one write and one fsync, in the
   journal's own thread (:class:`~auctioneer.service.writer.JournalWriter`), so the
   event loop keeps reading requests, which queue up as the next group
   (journal first, as :class:`~auctioneer.exchange.durable.DurableExchange`
   does: replay applies the same commands, rejected ones included, and
   reaches the same state);
2. applies them to the engine on the event loop's thread (so request
   handlers read a state no thread is changing);
3. answers the requests and publishes trades, prices and changed books to
   the stream. The SQL tables follow the journal in their own process
   (:mod:`~auctioneer.service.follower`).

Every ``snapshot_every`` commands it checks the engine's invariants, writes a
snapshot and starts a new journal segment (in a thread, the writer paused),
then prunes the segments and snapshots older than the newest snapshot the
SQL tables have passed (``projected``; None keeps everything), so a lagging
follower never loses records it still has to project. If the journal, the
engine or the check fails the sequencer stops (fail-stop): it fails the
group and everything queued (503), refuses new commands, and memory and
disk never diverge silently.

Example:
    >>> order_id(1_700_000_000_123_456_789)
    'o17979cfe3d85cd15'
"""

from __future__ import annotations

import asyncio
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from auctioneer.exchange.commands import Command, Tick
from auctioneer.exchange.durable import snapshot_and_prune
from auctioneer.exchange.engine import Exchange
from auctioneer.exchange.events import Event, PricePublished, Traded
from auctioneer.exchange.journal import Journal
from auctioneer.service.broadcast import Hub
from auctioneer.service.writer import JournalWriter

__all__ = ["Builder", "Maker", "Outcome", "Sequencer", "SequencerStopped", "order_id", "stamped"]

Maker = Callable[[int], Command]
"""Builds a command from its timestamp (ns)."""
Builder = Callable[[int], Sequence[Command]]
"""Builds a request's commands from the first of its timestamps (ns); the i-th command is
stamped first + i."""
Outcome = tuple[Command, Sequence[Event]]
"""A command as applied and the events it produced."""

_BOOK_DEPTH = 20


class SequencerStopped(RuntimeError):
    """The sequencer is not running (stopping, or failed on a journal error)."""


def stamped(factory: Callable[..., Command], *args: Any) -> Maker:
    """A maker of ``factory(*args, ts_ns=ts)`` (every command takes ``ts_ns``)."""
    return lambda ts: factory(*args, ts_ns=ts)


def order_id(ts_ns: int) -> str:
    """The id of the order stamped ``ts_ns`` (stamps are unique, so ids are)."""
    return f"o{ts_ns:x}"


@dataclass(slots=True)
class _Request:
    commands: Sequence[Command]
    future: asyncio.Future[list[Outcome]]


class Sequencer:
    """Owns the exchange's writes; see the module docstring."""

    def __init__(self, exchange: Exchange, journal: Journal, hub: Hub, snapshot_every: int,
                 projected: Callable[[], int] | None,
                 clock: Callable[[], int] = time.time_ns) -> None:
        self.exchange = exchange
        self.journal = journal
        self.hub = hub
        self.snapshot_every = snapshot_every
        self._projected = projected
        self.error: BaseException | None = None
        self._clock = clock
        self._last_ts = exchange.clock
        self._since_snapshot = 0
        self._queue: asyncio.Queue[_Request | None] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._writer: JournalWriter | None = None
        self._dirty_books: set[str] = set()
        self._book_task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start the writer task, its journal thread and the book-update publisher on the
        running loop."""
        self._writer = JournalWriter(self.journal)
        # Kept: asyncio.get_running_loop() costs a getpid() system call each time (CPython
        # 3.11 checks for a fork), once per order in queue_built.
        self._loop = loop = asyncio.get_running_loop()
        self._task = loop.create_task(self._run(), name="sequencer")
        self._book_task = loop.create_task(self._books(), name="books")

    async def stop(self) -> None:
        """Finish what is queued, stop, and snapshot (so the next start replays nothing)."""
        if self._task is None:
            return
        self._queue.put_nowait(None)
        await self._task
        self._task = None
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        if self._book_task is not None:
            self._book_task.cancel()
        if self.error is None and self._since_snapshot:
            await self._snapshot()

    async def submit(self, makers: Sequence[Maker]) -> list[Outcome]:
        """Sequence ``makers``' commands in order; their outcomes once they are durable."""
        return await self.submit_built(
            len(makers), lambda first: [make(first + i) for i, make in enumerate(makers)])

    async def submit_built(self, count: int, build: Builder) -> list[Outcome]:
        """Sequence the ``count`` commands ``build`` makes from the first of ``count`` fresh
        stamps; their outcomes once they are durable. What ``build`` raises (a refused
        order) propagates and nothing is queued; its stamps are never reused."""
        return await self.queue_built(count, build)

    def queue_built(self, count: int, build: Builder) -> asyncio.Future[list[Outcome]]:
        """:meth:`submit_built` without a coroutine: the future of the outcomes (the HTTP
        protocol's order lane waits on it with a callback, not a task)."""
        loop = self._loop
        if self._task is None or loop is None or self.error is not None:
            raise SequencerStopped("the exchange is not accepting commands")
        ts = self._clock()
        if ts <= self._last_ts:
            ts = self._last_ts + 1
        self._last_ts = ts + count - 1
        commands = build(ts)
        future: asyncio.Future[list[Outcome]] = loop.create_future()
        self._queue.put_nowait(_Request(commands, future))
        return future

    async def tick(self) -> None:
        """Advance the engine's clock to now (prices publish at each new second)."""
        await self.submit([Tick])

    async def _run(self) -> None:
        stopping = False
        while not stopping and self.error is None:
            first = await self._queue.get()
            requests: list[_Request] = []
            if first is None:
                stopping = True
            else:
                requests.append(first)
            while not stopping and not self._queue.empty():
                more = self._queue.get_nowait()
                if more is None:
                    stopping = True
                else:
                    requests.append(more)
            if requests:
                try:
                    await self._group(requests)
                except Exception as exc:
                    self._fail(requests, exc)

    def _fail(self, requests: list[_Request], exc: BaseException) -> None:
        """Stop for good: record ``exc``, fail ``requests`` and everything queued behind them
        (submit refuses new ones from now on)."""
        if self.error is None:
            self.error = exc
            traceback.print_exception(exc, file=sys.stderr)
        while not self._queue.empty():
            queued = self._queue.get_nowait()
            if queued is not None:
                requests.append(queued)
        for request in requests:
            if not request.future.done():
                request.future.set_exception(SequencerStopped(f"the exchange stopped: {exc}"))

    async def _group(self, requests: list[_Request]) -> None:
        """Journal, apply and answer ``requests``. An exception (the journal's, the engine's,
        the invariant check's) leaves memory and disk possibly apart: the caller stops."""
        flat = [cmd for request in requests for cmd in request.commands]
        assert self._writer is not None  # started with the task that calls this
        await self._writer.append(flat)
        applied: list[Outcome] = list(zip(flat, self.exchange.apply_many(flat), strict=True))
        start = 0
        for request in requests:
            outcomes = applied[start:start + len(request.commands)]
            start += len(request.commands)
            if not request.future.done():  # a request whose client went away is cancelled
                request.future.set_result(outcomes)
        self._publish(applied)
        self._since_snapshot += len(applied)
        if self._since_snapshot >= self.snapshot_every:
            await self._snapshot()

    def _publish(self, applied: list[Outcome]) -> None:
        hub = self.hub
        if not hub.subscribers:
            return
        dirty = self._dirty_books
        for _, events in applied:
            for ev in events:
                if isinstance(ev, Traded):
                    hub.publish("trade", {"id": str(ev.trade_id), "market": ev.market,
                                          "price": ev.price, "quantity": ev.quantity,
                                          "aggressor": ev.aggressor.value, "ts_ns": ev.ts_ns})
                    dirty.add(ev.market)
                elif isinstance(ev, PricePublished):
                    hub.publish("price", {"market": ev.market, "price": ev.price,
                                          "ts_ns": ev.ts_ns})
                else:
                    markets = getattr(ev, "markets", ())
                    dirty.update(markets)

    async def _books(self) -> None:
        """Publish the depth of each changed book, at most five times a second."""
        while True:
            await asyncio.sleep(0.2)
            if not self._dirty_books:
                continue
            dirty, self._dirty_books = self._dirty_books, set()
            for market in sorted(dirty):
                bids, asks = self.exchange.book(market, _BOOK_DEPTH)
                self.hub.publish("book", {"market": market,
                                          "bids": [[p, q] for p, q, _ in bids],
                                          "asks": [[p, q] for p, q, _ in asks]})

    async def _snapshot(self) -> None:
        """Check the invariants, snapshot and start a new journal segment, in a thread, the
        writer paused (reads go on); then drop what neither recovery nor the follower needs."""
        self._since_snapshot = 0
        try:
            await asyncio.to_thread(self._snapshot_now)
        except Exception as exc:
            self._fail([], exc)
            raise

    def _snapshot_now(self) -> None:
        # Recovery needs the newest snapshot; the follower, if it restarts, the newest one
        # not ahead of the tables.
        projected = None if self._projected is None else self._projected()
        snapshot_and_prune(self.exchange, self.journal, projected)
