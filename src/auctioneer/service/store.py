"""The SQL projection: accounts, markets, capacity, orders, trades and the ledger as tables.

The journal is the truth; these tables are a projection of it, for queries
(SQLite by default, PostgreSQL by URL). They are written by
:class:`~auctioneer.service.projector.Projector` and carry the journal
sequence number they reflect (``meta.projected_seq``) in the same
transaction as the rows, so after any crash the projection is exactly the
first ``projected_seq`` commands and catching up is replaying the rest.

Example:
    >>> engine = connect("sqlite://")
    >>> projected_seq(engine)
    0
    >>> sorted(metadata.tables)[:3]
    ['accounts', 'capacity', 'faults']
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Engine,
    Index,
    Integer,
    MetaData,
    Row,
    String,
    Table,
    create_engine,
    event,
    select,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError
from sqlalchemy.sql import Executable

__all__ = [
    "accounts",
    "capacity",
    "check_database",
    "connect",
    "faults",
    "fetch",
    "ledger",
    "markets",
    "meta",
    "metadata",
    "orders",
    "projected_seq",
    "trades",
]

metadata = MetaData()

meta = Table(
    "meta", metadata,
    Column("key", String(64), primary_key=True),
    Column("value", BigInteger, nullable=False),
)

accounts = Table(
    "accounts", metadata,
    Column("id", String(64), primary_key=True),
    Column("role", String(16), nullable=False),
    Column("balance", BigInteger, nullable=False),
    Column("opened_ns", BigInteger, nullable=False),
)

markets = Table(
    "markets", metadata,
    Column("id", String(160), primary_key=True),
    Column("region", String(64), nullable=False),
    Column("instance_type", String(64), nullable=False),
    Column("tick_size", BigInteger, nullable=False),
    Column("base_price", BigInteger, nullable=False),
    Column("execution", String(16), nullable=False),
    Column("half_life_s", Integer, nullable=False),
    Column("listed_ns", BigInteger, nullable=False),
)

capacity = Table(
    "capacity", metadata,
    Column("account", String(64), primary_key=True),
    Column("market", String(160), primary_key=True),
    Column("quantity", BigInteger, nullable=False),
)

orders = Table(
    "orders", metadata,
    Column("id", String(64), primary_key=True),
    Column("account", String(64), nullable=False),
    Column("side", String(4), nullable=False),
    Column("markets", String(1024), nullable=False),
    Column("price", BigInteger, nullable=False),
    Column("quantity", BigInteger, nullable=False),
    Column("filled", BigInteger, nullable=False),
    Column("status", String(16), nullable=False),
    Column("tif", String(3), nullable=False),
    Column("placed_ns", BigInteger, nullable=False),
    Column("updated_ns", BigInteger, nullable=False),
    # SQLite is the single service's read side, which reads orders by id and the ledger by
    # account only: maintaining this index and trades_by_market cost its follower 1.5 µs of
    # its 8 an order. PostgreSQL's partitioned reads use both. Rows keyed by id alone (no
    # rowid): one B-tree each, not a table beside an index of its ids.
    Index("orders_by_account", "account", "status").ddl_if(dialect="postgresql"),
    sqlite_with_rowid=False,
)

trades = Table(
    "trades", metadata,
    Column("id", String(64), primary_key=True),
    Column("market", String(160), nullable=False),
    Column("buy_order", String(64), nullable=False),
    Column("sell_order", String(64), nullable=False),
    Column("buyer", String(64), nullable=False),
    Column("seller", String(64), nullable=False),
    Column("price", BigInteger, nullable=False),
    Column("quantity", BigInteger, nullable=False),
    Column("ts_ns", BigInteger, nullable=False),
    Column("seq", BigInteger, nullable=False),
    Index("trades_by_market", "market", "ts_ns").ddl_if(dialect="postgresql"),
    sqlite_with_rowid=False,
)

ledger = Table(
    "ledger", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("seq", BigInteger, nullable=False),
    Column("account", String(64), nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("ref", String(64), nullable=False),
    Column("ts_ns", BigInteger, nullable=False),
    Index("ledger_by_account", "account", "id"),
)


faults = Table(
    "faults", metadata,
    Column("key", String(64), primary_key=True),
    Column("seq", BigInteger, nullable=False),
    Column("count", Integer, nullable=False),
    Column("error", String(2000), nullable=False),
)
"""A write that failed: ``key`` "projection", the first journal seq of the batch, how many
times in a row, the error."""


def _sqlite_pragmas(dbapi_connection: Any, _: object) -> None:
    # WAL lets readers query while the projector writes; NORMAL is safe under
    # WAL because the journal, not this file, is what must survive a crash.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def connect(url: str) -> Engine:
    """A SQLAlchemy engine for ``url`` with every table created."""
    engine = create_engine(url)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    metadata.create_all(engine)
    return engine


def check_database(url: str) -> None:
    """Connect to ``url`` once and create the tables; ValueError (one line) if that fails.

    In-memory SQLite is refused: the follower process could not see it.

    Example:
        >>> check_database("sqlite://")
        Traceback (most recent call last):
        ...
        ValueError: 'sqlite://' is in memory: the follower process needs a file or a server
        >>> check_database("foo://x")
        Traceback (most recent call last):
        ...
        ValueError: 'foo://x': no SQLAlchemy dialect 'foo' is installed
    """
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ValueError(f"{url!r} is not a database URL") from None
    if parsed.get_backend_name() == "sqlite" and parsed.database in (None, "", ":memory:"):
        raise ValueError(f"{url!r} is in memory: the follower process needs a file or a server")
    try:
        engine = connect(url)
    except NoSuchModuleError:
        raise ValueError(f"{url!r}: no SQLAlchemy dialect {parsed.drivername!r} is installed"
                         ) from None
    except (ImportError, SQLAlchemyError) as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        raise ValueError(f"{url!r}: {reason}") from None
    engine.dispose()


def fetch(engine: Engine, query: Executable) -> list[Row[Any]]:
    """The rows of ``query`` (blocking: async callers run it in a thread)."""
    with engine.connect() as conn:
        return list(conn.execute(query).all())


def projected_seq(engine: Engine) -> int:
    """The journal sequence number the tables reflect (0: nothing projected yet)."""
    with engine.connect() as conn:
        value = conn.execute(select(meta.c.value).where(meta.c.key == "projected_seq")).scalar()
    return int(value or 0)
