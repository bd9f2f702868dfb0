"""Each partition's event log projected into its PostgreSQL schema, idempotent on (partition, seq).

A :class:`PartitionProjector` takes the entries of partition ``p``'s event
log (``evt.<p>``: each applied command's stream sequence, the command and its
events, as the leader wrote them) and writes them with the single-process
:class:`~auctioneer.service.projector.Projector` into schema ``p<p>``. An
entry at or below the schema's ``projected_seq`` is skipped, and the rows and
the new ``projected_seq`` commit in one transaction, so replaying any prefix
of the log again -- a projector restarted from the start of the log, a
redelivery -- changes nothing. One projector per partition holds a
PostgreSQL advisory lock for its lifetime; a second one is refused
(:class:`ProjectorBusy`) rather than race it.

:func:`follow` consumes a partition's event log from JetStream and projects
each batch, remembering the log position it reached (``meta.log_seq``, a
hint written after the batch: resuming from an older position is safe).

Example:
    >>> lock_key(2)
    15150002
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from contextlib import aclosing
from typing import Any, TypeVar

from nats.js import JetStreamContext
from sqlalchemy import Engine, insert, select, text, update

from auctioneer.exchange.codec import CommandError, decode_command, decode_event
from auctioneer.exchange.events import Accepted, Event
from auctioneer.exchange.scaleout.eventlog import Entry, EventSpec, decode_batch
from auctioneer.exchange.scaleout.stream import StreamSpec, messages
from auctioneer.service.pgstore import PartitionedStore, schema_of
from auctioneer.service.projector import (
    COLUMNS,
    Applied,
    Batch,
    ProjectionError,
    Projector,
    dicts,
)
from auctioneer.service.store import markets, meta, projected_seq

_A = TypeVar("_A")
_R = TypeVar("_R")

__all__ = ["BulkProjector", "PartitionProjector", "ProjectorBusy", "follow", "lock_key",
           "to_applied"]


_PROJECTED = frozenset({"traded", "cancelled", "modified", "rejected"})
_APPLIED = Accepted("", "", 0)


def _events(raw: Sequence[dict[str, Any]]) -> list[Event]:
    """The events the projector reads (decoded and checked by the codec), after a marker that
    the command was applied unless it was refused (a refusal is its only event). The rest
    (accepted, rested, prices) change no table: not decoded."""
    events = [decode_event(ev) for ev in raw if ev.get("type") in _PROJECTED]
    if raw and raw[0].get("type") != "rejected":
        events.insert(0, _APPLIED)
    return events


def to_applied(entries: Sequence[Entry], after: int, partition: int) -> list[Applied]:
    """The projector's input for the entries above sequence ``after`` (decoded by the codec,
    which checks every integer's 64-bit range); ProjectionError naming the entry it refuses."""
    applied: list[Applied] = []
    for e in entries:
        if e.seq <= after or e.command is None:
            continue
        try:
            applied.append((e.seq, decode_command(e.command), _events(e.events)))
        except CommandError as exc:
            raise ProjectionError(f"partition {partition} seq {e.seq}: {exc}") from None
    return applied


class BulkProjector(Projector):
    """The projector writing each batch into PostgreSQL schema ``schema`` set-based: new
    orders, trades and ledger entries (and accounts) by ``COPY``, the changed orders and the
    balances by one ``UPDATE ... FROM unnest(arrays)`` each, all in the batch's transaction.

    The same rows as the base class's statement per row (the tests compare them table by
    table), in a few round trips instead of one statement per row."""

    def __init__(self, db: Engine, schema: str) -> None:
        super().__init__(db)
        self.schema = schema

    def _write_rows(self, conn: Any, batch: Batch) -> None:
        raw = conn.connection.driver_connection  # psycopg's, in this very transaction
        with raw.cursor() as cur:
            for table, rows in batch.inserts():
                if table == "markets":  # rare, and COPY would not fire the table's checks
                    if rows:
                        conn.execute(insert(markets), dicts(COLUMNS[table], rows))
                else:
                    self._copy(cur, table, rows)
            for (account, market), delta in batch.capacity.items():
                self._add_capacity(conn, account, market, delta)
            if batch.changed:
                # Columns of CHANGED, in its order.
                cur.execute(
                    f'UPDATE "{self.schema}".orders AS t SET price = v.price, '
                    "quantity = v.quantity, filled = v.filled, status = v.status, "
                    "updated_ns = v.updated_ns FROM unnest(%s::bigint[], %s::bigint[], "
                    "%s::bigint[], %s::text[], %s::bigint[], %s::text[]) AS "
                    "v(price, quantity, filled, status, updated_ns, id) WHERE t.id = v.id",
                    [list(column) for column in zip(*batch.changed.values(), strict=True)])
            if batch.balances:
                cur.execute(
                    f'UPDATE "{self.schema}".accounts AS t SET balance = t.balance + v.delta '
                    "FROM unnest(%s::text[], %s::bigint[]) AS v(id, delta) WHERE t.id = v.id",
                    [list(batch.balances), list(batch.balances.values())])

    def _copy(self, cur: Any, table: str, rows: Sequence[Sequence[Any]]) -> None:
        if not rows:
            return
        columns = ", ".join(f'"{name}"' for name in COLUMNS[table])
        with cur.copy(f'COPY "{self.schema}"."{table}" ({columns}) FROM STDIN') as copy:
            for row in rows:
                copy.write_row(row)


class ProjectorBusy(RuntimeError):
    """Another projector already writes this partition's schema."""


def lock_key(partition: int) -> int:
    """The advisory lock a partition's projector holds."""
    return 15_150_000 + partition


class PartitionProjector:
    """Writes partition ``partition``'s log entries into its schema; one per partition."""

    def __init__(self, store: PartitionedStore, partition: int) -> None:
        self.partition = partition
        self.db = store.partition_db(partition)
        self._lock = store.engine.connect()
        held = self._lock.execute(text("SELECT pg_try_advisory_lock(:k)"),
                                  {"k": lock_key(partition)}).scalar()
        self._lock.commit()
        if not held:
            self._lock.close()
            raise ProjectorBusy(f"partition {partition} already has a projector")
        self.projector = BulkProjector(self.db, schema_of(partition))
        self.seq = projected_seq(self.db)

    def project(self, entries: Sequence[Entry]) -> int:
        """Write the entries above ``seq`` in one transaction; how many were new.

        ProjectionError (nothing written) for an entry the codec refuses or a value the
        tables cannot hold (an integer outside 64-bit SQL, a balance summed past it).
        """
        applied = to_applied(entries, self.seq, self.partition)
        if applied:
            self.projector.project(applied)
            self.seq = applied[-1][0]
        return len(applied)

    def log_seq(self) -> int:
        """The event-log position the last run reached (0: from the start)."""
        with self.db.connect() as conn:
            value = conn.execute(select(meta.c.value).where(meta.c.key == "log_seq")).scalar()
        return int(value or 0)

    def remember(self, log_seq: int) -> None:
        """Record the event-log position reached (after its entries are committed)."""
        with self.db.begin() as conn:
            done = conn.execute(update(meta).where(meta.c.key == "log_seq")
                                .values(value=log_seq))
            if done.rowcount == 0:
                conn.execute(insert(meta).values(key="log_seq", value=log_seq))

    def close(self) -> None:
        """Release the partition's lock."""
        self._lock.execute(text("SELECT pg_advisory_unlock(:k)"),
                           {"k": lock_key(self.partition)})
        self._lock.commit()
        self._lock.close()


async def follow(js: JetStreamContext, projector: PartitionProjector,
                 spec: EventSpec | None = None, *, idle_s: float | None = None) -> int:
    """Project the partition's event log from the remembered position on, batch by batch;
    runs until cancelled (or ``idle_s`` without a batch). Returns the entries written."""
    written = 0
    spec = spec or EventSpec()
    log = StreamSpec(spec.name, spec.prefix)
    feed = messages(js, projector.partition, projector.log_seq(), log, idle_s=idle_s)
    async with aclosing(feed):
        async for message in feed:
            entries = decode_batch(message.data)
            written += await _finished(projector.project, entries)
            await _finished(projector.remember, message.seq)
    return written


async def _finished(fn: Callable[[_A], _R], arg: _A) -> _R:
    """``fn(arg)`` in a worker thread. Cancelling waits for the thread to finish first:
    a thread cannot be stopped, and a projector given up with a write still running
    would commit it behind its successor's back (the successor, having read the older
    position, would then write the same rows again)."""
    work = asyncio.ensure_future(asyncio.to_thread(fn, arg))
    try:
        return await asyncio.shield(work)
    except asyncio.CancelledError:
        await asyncio.wait([work])
        raise
