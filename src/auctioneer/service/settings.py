"""The service's settings: where it listens, stores and journals, and its limits.

One frozen value built by ``auctioneer serve`` (or a test) and handed to
:func:`~auctioneer.service.main.create_app`; nothing reads the environment
behind its back.

Example:
    >>> s = Settings(data_dir=Path("/tmp/x"))
    >>> s.db_url
    'sqlite:////tmp/x/exchange.sqlite'
    >>> s.url
    'http://127.0.0.1:8000'
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from auctioneer.exchange.journal import FsyncPolicy

__all__ = ["ClusterSettings", "Settings"]


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything the service needs to start.

    ``fsync`` is the journal's policy (ALWAYS: each group commit is on disk
    before any of its requests is answered). ``rate`` and ``burst`` are each
    account's token bucket, in orders per second and orders; a batch costs one
    token per order; admin requests are not limited. ``max_body`` bounds a
    request body in bytes, ``max_head`` the request head (target, header names and
    values) and ``max_headers`` its header fields. A snapshot is written every ``snapshot_every``
    journaled commands and when the service stops; the journal before it is
    then pruned (as far as the SQL tables have passed it) unless
    ``keep_journal``, which keeps every record so the tables can be rebuilt
    from nothing. ``own_process``: the service is all its process runs (``auctioneer
    serve``), so once started it may tune the process's garbage collector
    (:func:`~auctioneer.service.main.quiet_collector`).
    """

    data_dir: Path
    host: str = "127.0.0.1"
    port: int = 8000
    database: str | None = None
    fsync: FsyncPolicy = FsyncPolicy.ALWAYS
    demo: bool = False
    demo_trader: bool = False
    rate: float = 5_000.0
    burst: int = 10_000
    max_body: int = 1 << 20
    max_head: int = 32 << 10
    max_headers: int = 100
    tick_interval_s: float = 1.0
    snapshot_every: int = 100_000
    keep_journal: bool = False
    own_process: bool = False

    @property
    def db_url(self) -> str:
        """The SQLAlchemy URL: ``database`` if given, else a SQLite file in ``data_dir``."""
        return self.database or f"sqlite:///{self.data_dir / 'exchange.sqlite'}"

    @property
    def url(self) -> str:
        """The address the service answers on (and the dashboard's)."""
        return f"http://{self.host}:{self.port}"


@dataclass(frozen=True, slots=True)
class ClusterSettings:
    """A stateless API process of ``serve --nats``: where it listens, the cluster, its waits.

    ``data_dir`` holds only the API-key secret (and ``admin.key``): every API
    process of one cluster must share the secret. ``partitions``, when given,
    is the map this process expects (``describe()`` text); it refuses to start
    when the cluster's differs. A command not stored within ``ack_timeout_s``
    or not applied within ``apply_timeout_s`` is answered 503. ``read_db``, a
    PostgreSQL URL, is the read side every API process projects into and reads
    (:mod:`~auctioneer.service.pgreads`). ``rate`` and ``burst`` are each
    account's token bucket in this process, as in :class:`Settings`.
    """

    data_dir: Path
    nats: str
    host: str = "127.0.0.1"
    port: int = 8000
    partitions: str | None = None
    read_db: str | None = None
    ack_timeout_s: float = 2.0
    apply_timeout_s: float = 10.0
    rate: float = 5_000.0
    burst: int = 10_000
    max_body: int = 1 << 20
    max_head: int = 32 << 10
    max_headers: int = 100

    @property
    def url(self) -> str:
        """The address the service answers on."""
        return f"http://{self.host}:{self.port}"
