"""The served scale-out mode's read side: every partition's tables in one PostgreSQL database.

Partition ``p`` is projected into its own schema, ``p<p>``, holding exactly
the single-process store's tables (:mod:`auctioneer.service.store`, mapped by
SQLAlchemy's ``schema_translate_map``) and written by the same
:class:`~auctioneer.service.projector.Projector`, so every integer is
range-checked for 64-bit SQL by the projector's one check, and each
partition's ``meta.projected_seq`` is the command-stream sequence its tables
reflect. Schema ``merged`` holds one view per table: every partition's rows,
``UNION ALL``, with a ``partition`` column. The command stream has one
sequence for all partitions, so ordering merged trades or ledger entries by
``seq`` is the order the stream stored their commands in.

Money is per partition (docs/scale-out.md): :func:`balances` answers one
balance per partition rather than a sum that could pass 2**63 - 1.
Trade ids are per engine: a merged trade's id is ``<partition>/<trade_id>``.

Example:
    >>> schema_of(3)
    'p3'
    >>> str(view("orders").c.partition)
    'merged.orders.partition'
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Engine,
    Numeric,
    TableClause,
    cast,
    column,
    create_engine,
    desc,
    func,
    literal,
    select,
    table,
    text,
)
from sqlalchemy.engine import make_url
from sqlalchemy.sql.expression import ColumnClause

from auctioneer.checks import require_int
from auctioneer.service.store import accounts, metadata, projected_seq

__all__ = ["MERGED", "PartitionedStore", "account_in_partitions", "balances", "book",
           "ledger_of", "listed_markets", "open_orders_of", "order", "orders_of", "progress",
           "role_of", "schema_of", "trades", "view"]

MERGED = "merged"
"""The schema of the views over every partition."""


def schema_of(partition: int) -> str:
    """The schema holding ``partition``'s tables."""
    return f"p{partition}"


def view(name: str) -> TableClause:
    """The merged view of store table ``name``: its columns plus ``partition``."""
    columns: list[ColumnClause[Any]] = [column(c.name) for c in metadata.tables[name].columns]
    return table(name, column("partition"), *columns, schema=MERGED)


@dataclass
class PartitionedStore:
    """``count`` partitions' schemas and the merged views in the database at ``url``."""

    url: str
    count: int
    engine: Engine

    @classmethod
    def open(cls, url: str, count: int) -> PartitionedStore:
        """Connect, create every partition's schema and tables and the merged views.

        ValueError when ``url`` is not PostgreSQL (the single-process mode keeps SQLite).
        """
        require_int(count, "partitions", 1, 10_000)
        parsed = make_url(url)
        if parsed.get_backend_name() != "postgresql":
            raise ValueError(f"{url!r}: the partitioned read side needs PostgreSQL")
        if parsed.drivername == "postgresql":  # SQLAlchemy's default is psycopg2: use psycopg 3
            parsed = parsed.set(drivername="postgresql+psycopg")
        store = cls(url, count, create_engine(parsed, pool_pre_ping=True))
        store.create()
        return store

    def partition_db(self, partition: int) -> Engine:
        """An engine whose store tables are ``partition``'s (for its projector and reads)."""
        require_int(partition, "partition", 0, self.count - 1)
        return self.engine.execution_options(schema_translate_map={None: schema_of(partition)})

    def create(self) -> None:
        """Schemas, tables and views (idempotent; concurrent callers serialise on a lock)."""
        with self.engine.begin() as conn:
            # One creator at a time: CREATE ... IF NOT EXISTS races between sessions.
            conn.execute(text("SELECT pg_advisory_xact_lock(15150)"))
            for p in range(self.count):
                conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema_of(p)}"'))
                metadata.create_all(conn.execution_options(
                    schema_translate_map={None: schema_of(p)}))
            conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{MERGED}"'))
            for name, tbl in metadata.tables.items():
                cols = ", ".join(f'"{c.name}"' for c in tbl.columns)
                union = " UNION ALL ".join(
                    f'SELECT {p} AS partition, {cols} FROM "{schema_of(p)}"."{name}"'
                    for p in range(self.count))
                conn.execute(text(f'CREATE OR REPLACE VIEW "{MERGED}"."{name}" AS {union}'))

    def dispose(self) -> None:
        """Close the pool."""
        self.engine.dispose()


def _rows(store: PartitionedStore, query: Any) -> list[Any]:
    with store.engine.connect() as conn:
        return list(conn.execute(query).all())


def progress(store: PartitionedStore) -> dict[int, int]:
    """Each partition's ``projected_seq`` (0: nothing projected yet)."""
    return {p: projected_seq(store.partition_db(p)) for p in range(store.count)}


def orders_of(store: PartitionedStore, account: str, limit: int = 100) -> list[Any]:
    """``account``'s orders across partitions, newest first (rows with ``partition``)."""
    v = view("orders")
    return _rows(store, select(v).where(v.c.account == account)
                 .order_by(desc(v.c.placed_ns), v.c.id).limit(limit))


def open_orders_of(store: PartitionedStore, account: str) -> list[Any]:
    """``account``'s open orders across partitions, oldest first (rows with ``partition``)."""
    v = view("orders")
    return _rows(store, select(v).where(v.c.account == account, v.c.status == "open")
                 .order_by(v.c.placed_ns, v.c.id))


def order(store: PartitionedStore, order_id: str) -> Any | None:
    """The row of ``order_id`` in whichever partition holds it, or None."""
    v = view("orders")
    found = _rows(store, select(v).where(v.c.id == order_id))
    return found[0] if found else None


def trades(store: PartitionedStore, market: str | None = None, limit: int = 100
           ) -> list[dict[str, Any]]:
    """The latest trades (of ``market``, or of every market), newest first, in stream order;
    ids ``<partition>/<trade_id>``."""
    v = view("trades")
    query = select(v).order_by(desc(v.c.seq), desc(v.c.id)).limit(limit)
    if market is not None:
        query = query.where(v.c.market == market)
    return [{"id": f"{r.partition}/{r.id}", "market": r.market, "price": int(r.price),
             "quantity": int(r.quantity), "ts_ns": int(r.ts_ns), "seq": int(r.seq)}
            for r in _rows(store, query)]


def book(store: PartitionedStore, market: str, depth: int = 10
         ) -> tuple[list[tuple[int, int, int]], list[tuple[int, int, int]]]:
    """``market``'s open bids and asks as ``(price, open quantity, orders)`` levels, best
    first, as the projected orders say (a cross-market bid is in each of its books)."""
    v = view("orders")
    listed = literal(",") + v.c.markets + literal(",")
    open_qty = func.sum(v.c.quantity - v.c.filled)
    sides = []
    for side, best in (("buy", desc(v.c.price)), ("sell", v.c.price)):
        query = (select(v.c.price, open_qty, func.count())
                 .where(v.c.status == "open", v.c.side == side,
                        func.strpos(listed, f",{market},") > 0)
                 .group_by(v.c.price).order_by(best).limit(depth))
        sides.append([(int(p), int(q), int(n)) for p, q, n in _rows(store, query)])
    return sides[0], sides[1]


def balances(store: PartitionedStore, account: str) -> dict[int, int]:
    """``account``'s balance in each partition where it is open (money is per partition)."""
    v = view("accounts")
    rows = _rows(store, select(v.c.partition, v.c.balance).where(v.c.id == account))
    return {int(p): int(b) for p, b in rows}


def role_of(store: PartitionedStore, account: str) -> str | None:
    """``account``'s role as the tables say (an account is opened in every partition, so
    partition 0's row is enough), None when it is not there (yet)."""
    with store.partition_db(0).connect() as conn:
        role = conn.execute(select(accounts.c.role).where(accounts.c.id == account)).scalar()
    return None if role is None else str(role)


def ledger_of(store: PartitionedStore, account: str, limit: int = 100) -> list[Any]:
    """``account``'s money movements in every partition, newest first (stream order)."""
    v = view("ledger")
    return _rows(store, select(v).where(v.c.account == account)
                 .order_by(desc(v.c.seq), desc(v.c.id)).limit(limit))


def account_in_partitions(store: PartitionedStore, account: str) -> list[dict[str, Any]]:
    """``account`` in each partition where it is open: balance, what its open bids reserve
    (limit x open quantity: only limit orders rest) and what is available."""
    v, o = view("accounts"), view("orders")
    held = (select(o.c.partition,
                   func.sum(cast(o.c.price, Numeric) * (o.c.quantity - o.c.filled)))
            .where(o.c.account == account, o.c.side == "buy", o.c.status == "open")
            .group_by(o.c.partition))
    reserved = {int(p): int(r) for p, r in _rows(store, held)}
    rows = _rows(store, select(v.c.partition, v.c.role, v.c.balance)
                 .where(v.c.id == account).order_by(v.c.partition))
    return [{"partition": int(p), "id": account, "role": role, "balance": int(b),
             "reserved": reserved.get(int(p), 0),
             "available": int(b) - reserved.get(int(p), 0)} for p, role, b in rows]


def listed_markets(store: PartitionedStore) -> list[dict[str, Any]]:
    """Every listed market (``id``, also as ``market``) with its partition and tick, by
    partition then id."""
    v = view("markets")
    return [{"id": m, "market": m, "partition": int(p), "tick_size": int(t)}
            for p, m, t in _rows(store, select(v.c.partition, v.c.id, v.c.tick_size)
                                 .order_by(v.c.partition, v.c.id))]
