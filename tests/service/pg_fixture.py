"""A throwaway PostgreSQL cluster for the read-side tests: initdb + pg_ctl on a temp directory,
listening only on a unix socket there (no TCP port), stopped and deleted afterwards.

``postgres_cluster`` (one per test session) yields a base URL; ``postgres_url``
gives each test a database of its own. Tests skip, saying why, only when the
binaries (Debian's ``postgresql``: /usr/lib/postgresql/<version>/bin) or the
psycopg driver are absent; a cluster that is installed but fails to start is
an error. Run as root, the server runs as the ``postgres`` user (initdb
refuses root).
"""

from __future__ import annotations

import glob
import itertools
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

__all__ = ["postgres_cluster", "postgres_url", "skip_reason"]


def _binary(name: str) -> str | None:
    found = shutil.which(name)
    if found is not None:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"),
                        key=lambda p: int(Path(p).parts[-3]))
    return candidates[-1] if candidates else None


def skip_reason() -> str | None:
    """Why the PostgreSQL tests cannot run here, or None."""
    if _binary("initdb") is None or _binary("pg_ctl") is None:
        return "PostgreSQL (initdb, pg_ctl) is not installed: Debian package postgresql"
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        return "as root, starting a cluster needs runuser (to run as 'postgres')"
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return "the psycopg driver is not installed (pip install 'psycopg[binary]')"
    return None


def _run(*args: str) -> None:
    command = list(args)
    if os.geteuid() == 0:
        command = ["runuser", "-u", "postgres", "--", *command]
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[str]:
    """A running cluster for the session: its base URL (database ``postgres``)."""
    reason = skip_reason()
    if reason is not None:
        pytest.skip(reason)
    root = Path(tempfile.mkdtemp(prefix="auctioneer-pg-"))
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
    data = root / "data"
    initdb, pg_ctl = _binary("initdb"), _binary("pg_ctl")
    assert initdb is not None and pg_ctl is not None
    _run(initdb, "-D", str(data), "-A", "trust", "-U", "postgres", "--no-sync")
    _run(pg_ctl, "-D", str(data), "-w", "-l", str(root / "log"), "-o",
         f"-p 5432 -k {root} -c listen_addresses='' -c fsync=off", "start")
    try:
        yield f"postgresql+psycopg://postgres@/postgres?host={root}&port=5432"
    finally:
        _run(pg_ctl, "-D", str(data), "-m", "immediate", "stop")
        shutil.rmtree(root, ignore_errors=True)


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
