"""Projects applied commands and their events into the SQL tables, in batches.

The projector turns ``(seq, command, events)`` into rows: a placed order
becomes an ``orders`` row whose ``filled`` and ``status`` follow its trades,
cancels and modifications; a trade becomes a ``trades`` row and two
``ledger`` entries; deposits and withdrawals become ledger entries; every
ledger entry moves the account's ``balance``. One batch is one transaction
that also records the batch's last ``seq`` (``meta.projected_seq``), so the
tables always equal the projection of a prefix of the journal.

It keeps the open orders' quantities in memory (bounded by the book), loaded
from the table when it starts, so each batch writes final values, not
increments.

A batch that cannot be written (an integer outside 64-bit SQL, a constraint)
is recorded in the ``faults`` table -- its first seq, how many times in a row,
the error -- before the exception goes on; the next successful batch clears
it. The service reads it to stop restarting a follower that fails on the
same record (:data:`HALT_AFTER` times): fail-stop with a health signal rather
than dying forever.

Example:
    >>> from auctioneer.exchange.commands import OpenAccount, Deposit
    >>> from auctioneer.exchange.events import Accepted
    >>> from auctioneer.exchange.model import Role
    >>> from auctioneer.service.store import connect, projected_seq
    >>> db = connect("sqlite://")
    >>> p = Projector(db)
    >>> p.project([
    ...     (1, OpenAccount("alice", Role.TRADER, 5), [Accepted("open_account", "alice", 5)]),
    ...     (2, Deposit("alice", 7_000_000, 6), [Accepted("deposit", "alice", 6)])])
    >>> projected_seq(db), p.balance("alice")
    (2, 7000000)
"""

from __future__ import annotations

import contextlib
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, bindparam, delete, insert, select, update
from sqlalchemy.exc import SQLAlchemyError

from auctioneer.exchange.commands import (
    AddCapacity,
    Command,
    Deposit,
    ListMarket,
    MarketOrder,
    OpenAccount,
    PlaceOrder,
    RemoveCapacity,
    Withdraw,
)
from auctioneer.exchange.events import Cancelled, Event, Modified, Rejected, Traded
from auctioneer.service.changes import CANCEL, CAPACITY, MODIFY, MONEY, ORDER, TRADE, Change
from auctioneer.service.store import (
    accounts,
    capacity,
    faults,
    meta,
    metadata,
    orders,
)

__all__ = ["CHANGED", "COLUMNS", "HALT_AFTER", "Applied", "Batch", "Fault", "ProjectionError",
           "Projector", "clear_fault", "dicts", "read_fault"]

HALT_AFTER = 3
"""Failures at one journal seq after which the projection is halted, not retried."""
_INT64 = 1 << 63

Applied = tuple[int, Command, Sequence[Event]]
"""One journaled command: its sequence number, itself, and the events it produced."""


class ProjectionError(ValueError):
    """A record the tables cannot hold (an integer outside 64-bit SQL): a bug upstream."""


@dataclass(frozen=True, slots=True)
class Fault:
    """The projection's last failure: the first seq of the batch, times in a row, the error."""

    seq: int
    count: int
    error: str

    @property
    def halted(self) -> bool:
        """Whether it failed often enough to stop retrying."""
        return self.count >= HALT_AFTER


def read_fault(db: Engine) -> Fault | None:
    """The recorded failure of the projection, if any."""
    with db.connect() as conn:
        row = conn.execute(select(faults.c.seq, faults.c.count, faults.c.error)
                           .where(faults.c.key == _KEY)).first()
    if row is None:
        return None
    seq, count, error = row
    return Fault(int(seq), int(count), str(error))


def clear_fault(db: Engine) -> None:
    """Forget the projection's failures (the operator fixed their cause)."""
    with db.begin() as conn:
        conn.execute(delete(faults).where(faults.c.key == _KEY))


_KEY = "projection"


COLUMNS: dict[str, tuple[str, ...]] = {
    "accounts": ("id", "role", "balance", "opened_ns"),
    "markets": ("id", "region", "instance_type", "tick_size", "base_price", "execution",
                "half_life_s", "listed_ns"),
    "orders": ("id", "account", "side", "markets", "price", "quantity", "filled", "status",
               "tif", "placed_ns", "updated_ns"),
    "trades": ("id", "market", "buy_order", "sell_order", "buyer", "seller", "price",
               "quantity", "ts_ns", "seq"),
    "ledger": ("seq", "account", "amount", "kind", "ref", "ts_ns"),
}
"""The columns of each table's new rows in a :class:`Batch`, in their order (the ledger's
``id`` is the database's)."""
CHANGED = ("price", "quantity", "filled", "status", "updated_ns", "oid")
"""The fields of a changed order's row in a :class:`Batch`: the new values, then its id."""
_PLACED = COLUMNS["orders"].index("price")  # a new row's price, quantity, filled, status
_UPDATED = COLUMNS["orders"].index("updated_ns")


def _check_ints(table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    for row in rows:
        for column, value in zip(columns, row, strict=True):
            if type(value) is int and not -_INT64 <= value < _INT64:
                seq = row[columns.index("seq")] if "seq" in columns else "?"
                raise ProjectionError(f"{table}.{column} {value} does not fit a 64-bit SQL "
                                      f"integer (seq {seq})")


def dicts(columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> list[dict[str, Any]]:
    """``rows`` as dicts by column name (for SQLAlchemy's statements)."""
    return [dict(zip(columns, row, strict=True)) for row in rows]


@dataclass(slots=True)
class _Open:
    quantity: int
    filled: int
    price: int


@dataclass(slots=True)
class Batch:
    """The rows one batch writes: each new row a sequence of its table's :data:`COLUMNS`,
    each changed order's its :data:`CHANGED` (the SQLite projector binds them by position
    as they are: a dict per row, read back by name, cost the follower 1.3 µs an order).

    A new order's row is a list, by id, that the batch's later trades, cancels and
    modifications update in place: an order placed and done in one batch is inserted
    done, never inserted then updated.
    """

    new_orders: dict[str, list[Any]] = field(default_factory=dict)
    changed: dict[str, tuple[Any, ...]] = field(default_factory=dict)
    trades: list[tuple[Any, ...]] = field(default_factory=list)
    ledger: list[tuple[Any, ...]] = field(default_factory=list)
    balances: defaultdict[str, int] = field(default_factory=lambda: defaultdict(int))
    new_accounts: list[tuple[Any, ...]] = field(default_factory=list)
    new_markets: list[tuple[Any, ...]] = field(default_factory=list)
    capacity: defaultdict[tuple[str, str], int] = field(
        default_factory=lambda: defaultdict(int))

    def inserts(self) -> tuple[tuple[str, Sequence[Sequence[Any]]], ...]:
        """Each table's new rows, by the table's name."""
        return (("accounts", self.new_accounts), ("markets", self.new_markets),
                ("orders", list(self.new_orders.values())), ("trades", self.trades),
                ("ledger", self.ledger))


class Projector:
    """Writes batches of applied commands to the tables of ``db`` (one writer at a time)."""

    def __init__(self, db: Engine) -> None:
        self.db = db
        self._open: dict[str, _Open] = {}
        self._fault = read_fault(db)
        with db.connect() as conn:
            rows = conn.execute(select(orders.c.id, orders.c.quantity, orders.c.filled,
                                       orders.c.price).where(orders.c.status == "open"))
            for oid, quantity, filled, price in rows:
                self._open[oid] = _Open(int(quantity), int(filled), int(price))

    def balance(self, account: str) -> int:
        """The projected balance of ``account`` (0 if unknown): for tests and tools."""
        with self.db.connect() as conn:
            value = conn.execute(select(accounts.c.balance).where(accounts.c.id == account))
            return int(value.scalar() or 0)

    def project(self, applied: Iterable[Applied], reset: bool = False) -> None:
        """Write ``applied`` (in sequence order) in one transaction; nothing if it is empty.

        ``reset`` empties every table first, in the same transaction (a
        rebuild: readers see the old rows until the new ones commit).
        """
        if reset:
            self._open.clear()
        batch, first, last = self._batch(applied)
        if last or reset:
            self._commit(batch, first, last, reset)

    def project_changes(self, log: Iterable[Change], first: int, last: int,
                        reset: bool = False) -> None:
        """:meth:`project` for journal records ``first..last`` (none when ``last < first``)
        given as their changes (:mod:`~auctioneer.service.changes`): the same rows, built
        with less work per order (the tests compare the tables with :meth:`project`'s)."""
        if reset:
            self._open.clear()
        batch = self._changes_batch(log)
        if last >= first or reset:
            self._commit(batch, first, max(last, 0), reset)

    def _commit(self, batch: Batch, first: int, last: int, reset: bool) -> None:
        """Write ``batch`` of records ``first..last``, recording a failure."""
        try:
            self._write(batch, last, reset)
        except Exception as exc:
            self._record(first, exc)
            raise
        self._fault = None

    def _batch(self, applied: Iterable[Applied]) -> tuple[Batch, int, int]:
        """The rows ``applied`` writes, and its first and last seq (0 and 0 when empty)."""
        batch = Batch()
        first = last = 0
        for seq, command, events in applied:
            first, last = first or seq, seq
            if events and not isinstance(events[0], Rejected):
                self._command(batch, seq, command)
            for ev in events:
                self._event(batch, seq, ev)
        return batch, first, last

    def _changes_batch(self, log: Iterable[Change]) -> Batch:
        """The rows of the changes ``log``: :meth:`_batch`'s, dispatched by each change's
        kind inline (placed orders, trades and cancels are nearly every change)."""
        batch = Batch()
        opened, new_orders, trades, ledger = self._open, batch.new_orders, batch.trades, \
            batch.ledger
        balances, touch = batch.balances, self._touch
        for change in log:
            kind = change[0]
            if kind == ORDER:
                _, _, oid, account, side, markets, price, quantity, tif, ts_ns = change
                opened[oid] = _Open(quantity, 0, price)
                new_orders[oid] = [oid, account, side, markets, price, quantity, 0, "open",
                                   tif, ts_ns, ts_ns]
            elif kind == CANCEL:
                touch(batch, change[2], change[3], "cancelled")
            elif kind == TRADE:
                _, seq, trade_id, market, buy_order, sell_order, buyer, seller, price, \
                    quantity, ts_ns = change
                ref = str(trade_id)
                trades.append((ref, market, buy_order, sell_order, buyer, seller, price,
                               quantity, ts_ns, seq))
                cost = price * quantity
                ledger.append((seq, buyer, -cost, "buy", ref, ts_ns))
                ledger.append((seq, seller, cost, "sell", ref, ts_ns))
                balances[buyer] -= cost
                balances[seller] += cost
                for oid in (buy_order, sell_order):
                    state = opened.get(oid)
                    if state is not None:
                        state.filled += quantity
                        touch(batch, oid, ts_ns)
            elif kind == MODIFY:
                self._modify(batch, *change[2:])
            elif kind == MONEY:
                _, seq, account, amount, what, ts_ns = change
                self._ledger(batch, seq, account, amount, what, "", ts_ns)
            elif kind == CAPACITY:
                batch.capacity[(change[2], change[3])] += change[4]
            else:
                self._command(batch, change[1], change[2])
        return batch

    def _record(self, seq: int, exc: Exception) -> None:
        """Count the failure of the batch starting at ``seq`` (best effort: a database that
        is down records nothing, and the follower is simply retried)."""
        old = self._fault
        fault = Fault(seq, old.count + 1 if old is not None and old.seq == seq else 1,
                      f"{type(exc).__name__}: {exc}"[:2000])
        with contextlib.suppress(SQLAlchemyError), self.db.begin() as conn:
            conn.execute(delete(faults).where(faults.c.key == _KEY))
            conn.execute(insert(faults).values(key=_KEY, seq=fault.seq, count=fault.count,
                                               error=fault.error))
            self._fault = fault

    def _ledger(self, batch: Batch, seq: int, account: str, amount: int, kind: str,
                ref: str, ts_ns: int) -> None:
        batch.ledger.append((seq, account, amount, kind, ref, ts_ns))
        batch.balances[account] += amount

    def _command(self, batch: Batch, seq: int, cmd: Command) -> None:
        if isinstance(cmd, PlaceOrder | MarketOrder):
            # A market order has no price of its own: its row says 0, its trades the prices.
            price = cmd.price if isinstance(cmd, PlaceOrder) else 0
            self._open[cmd.order_id] = _Open(cmd.quantity, 0, price)
            batch.new_orders[cmd.order_id] = [
                cmd.order_id, cmd.account, cmd.side.value, ",".join(cmd.markets), price,
                cmd.quantity, 0, "open", cmd.tif.value, cmd.ts_ns, cmd.ts_ns]
        elif isinstance(cmd, OpenAccount):
            batch.new_accounts.append((cmd.account, cmd.role.value, 0, cmd.ts_ns))
        elif isinstance(cmd, Deposit):
            self._ledger(batch, seq, cmd.account, cmd.amount, "deposit", "", cmd.ts_ns)
        elif isinstance(cmd, Withdraw):
            self._ledger(batch, seq, cmd.account, -cmd.amount, "withdraw", "", cmd.ts_ns)
        elif isinstance(cmd, ListMarket):
            m = cmd.market
            batch.new_markets.append((m.id, m.region, m.instance_type, m.tick_size,
                                      m.base_price, m.execution.value, m.half_life_s,
                                      cmd.ts_ns))
        elif isinstance(cmd, AddCapacity):
            batch.capacity[(cmd.account, cmd.market)] += cmd.quantity
        elif isinstance(cmd, RemoveCapacity):
            batch.capacity[(cmd.account, cmd.market)] -= cmd.quantity

    def _touch(self, batch: Batch, oid: str, ts_ns: int, status: str | None = None) -> None:
        state = self._open.get(oid)
        if state is None:
            return
        if status is None:
            status = "open" if state.filled < state.quantity else "filled"
        values = state.price, state.quantity, state.filled, status
        row = batch.new_orders.get(oid)
        if row is None:
            batch.changed[oid] = (*values, ts_ns, oid)
        else:
            row[_PLACED:_PLACED + 4] = values
            row[_UPDATED] = ts_ns
        if status != "open":
            del self._open[oid]

    def _event(self, batch: Batch, seq: int, ev: Event) -> None:
        if isinstance(ev, Traded):
            ref = str(ev.trade_id)
            batch.trades.append((ref, ev.market, ev.buy_order, ev.sell_order, ev.buyer,
                                 ev.seller, ev.price, ev.quantity, ev.ts_ns, seq))
            cost = ev.price * ev.quantity
            self._ledger(batch, seq, ev.buyer, -cost, "buy", ref, ev.ts_ns)
            self._ledger(batch, seq, ev.seller, cost, "sell", ref, ev.ts_ns)
            for oid in (ev.buy_order, ev.sell_order):
                state = self._open.get(oid)
                if state is not None:
                    state.filled += ev.quantity
                    self._touch(batch, oid, ev.ts_ns)
        elif isinstance(ev, Cancelled):
            self._touch(batch, ev.order_id, ev.ts_ns, "cancelled")
        elif isinstance(ev, Modified):
            self._modify(batch, ev.order_id, ev.remaining, ev.price, ev.ts_ns)

    def _modify(self, batch: Batch, oid: str, remaining: int, price: int, ts_ns: int) -> None:
        state = self._open.get(oid)
        if state is not None:
            state.quantity = state.filled + remaining
            state.price = price
            self._touch(batch, oid, ts_ns)

    @staticmethod
    def _check(batch: Batch) -> None:
        """ProjectionError naming the first integer of ``batch`` outside 64-bit SQL."""
        for table, rows in batch.inserts():
            _check_ints(table, COLUMNS[table], rows)
        _check_ints("orders", CHANGED, batch.changed.values())
        _check_ints("accounts", ("balance",), ((d,) for d in batch.balances.values()))
        _check_ints("capacity", ("quantity",), ((d,) for d in batch.capacity.values()))

    def _write(self, batch: Batch, last: int, reset: bool) -> None:
        self._check(batch)
        with self.db.begin() as conn:
            if reset:
                for table in reversed(metadata.sorted_tables):
                    conn.execute(delete(table))
            elif self._fault is not None:
                conn.execute(delete(faults).where(faults.c.key == _KEY))
            self._write_rows(conn, batch)
            done = conn.execute(update(meta).where(meta.c.key == "projected_seq")
                                .values(value=last))
            if done.rowcount == 0:
                conn.execute(insert(meta).values(key="projected_seq", value=last))

    def _write_rows(self, conn: Any, batch: Batch) -> None:
        """The batch's rows, in the open transaction ``conn`` (one statement per table,
        executed once per row; a database with bulk loading overrides this)."""
        for table, rows in batch.inserts():
            if rows:
                conn.execute(insert(metadata.tables[table]), dicts(COLUMNS[table], rows))
        for (account, market), delta in batch.capacity.items():
            self._add_capacity(conn, account, market, delta)
        if batch.changed:
            conn.execute(update(orders).where(orders.c.id == bindparam("oid")),
                         dicts(CHANGED, batch.changed.values()))
        if batch.balances:
            conn.execute(
                update(accounts).where(accounts.c.id == bindparam("aid"))
                .values(balance=accounts.c.balance + bindparam("delta")),
                [{"aid": a, "delta": d} for a, d in batch.balances.items()])

    @staticmethod
    def _add_capacity(conn: Any, account: str, market: str, delta: int) -> None:
        where = (capacity.c.account == account) & (capacity.c.market == market)
        done = conn.execute(update(capacity).where(where)
                            .values(quantity=capacity.c.quantity + delta))
        if done.rowcount == 0:
            conn.execute(insert(capacity).values(account=account, market=market,
                                                 quantity=delta))

