"""A throwaway PostgreSQL cluster for the read-side tests (:class:`LocalPostgres`: initdb +
pg_ctl on a temp directory, a unix socket only), stopped and deleted afterwards.

``postgres_cluster`` (one per test session) yields a base URL; ``postgres_url``
gives each test a database of its own. Tests skip, saying why, only when the
binaries (Debian's ``postgresql``) or the psycopg driver are absent; a
cluster that is installed but fails to start is an error.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text

from auctioneer.service.pgserver import LocalPostgres, postgres_missing

__all__ = ["postgres_cluster", "postgres_url"]


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[str]:
    """A running cluster for the session: its base URL (database ``postgres``)."""
    reason = postgres_missing()
    if reason is not None:
        pytest.skip(reason)
    with LocalPostgres() as server:
        yield server.url


_databases = itertools.count()


@pytest.fixture
def postgres_url(postgres_cluster: str) -> str:
    """A fresh, empty database in the session's cluster."""
    name = f"t{os.getpid()}_{next(_databases)}"
    admin = create_engine(postgres_cluster, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return postgres_cluster.replace("@/postgres?", f"@/{name}?")
