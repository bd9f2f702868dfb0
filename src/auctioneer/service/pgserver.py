"""A throwaway PostgreSQL cluster: initdb + pg_ctl on a temp directory, a unix socket only.

For the tests of the partitioned read side and for ``python -m
auctioneer.service.pgbench``: Debian's ``postgresql`` puts the binaries under
``/usr/lib/postgresql/<version>/bin`` (found there when not on PATH). Run as
root, the server runs as the ``postgres`` user (initdb refuses root). It
listens on no TCP port, only on a socket in its own directory, with fsync
off: data is thrown away with the directory.

Example:
    >>> find_pg_binary("no-such-postgres-tool") is None
    True
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from auctioneer.exchange.scaleout.server import LocalServer

__all__ = ["LocalPostgres", "PostgresError", "find_pg_binary", "postgres_missing"]


class PostgresError(RuntimeError):
    """The throwaway cluster could not be started."""


def find_pg_binary(name: str) -> str | None:
    """``name`` on PATH, else in the newest /usr/lib/postgresql/<version>/bin; None if absent."""
    found = shutil.which(name)
    if found is not None:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"),
                        key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit()
                        else 0)
    return candidates[-1] if candidates else None


def postgres_missing() -> str | None:
    """Why a throwaway cluster cannot run here (binaries, runuser, driver), or None."""
    if find_pg_binary("initdb") is None or find_pg_binary("pg_ctl") is None:
        return "PostgreSQL (initdb, pg_ctl) is not installed: Debian package postgresql"
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        return "as root, starting a cluster needs runuser (to run as 'postgres')"
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return "the psycopg driver is not installed (pip install 'auctioneer[postgres]')"
    return None


class LocalPostgres(LocalServer):
    """A cluster in a temp directory; ``url`` (database ``postgres``) while started."""

    def __init__(self) -> None:
        missing = postgres_missing()
        if missing is not None:
            raise PostgresError(missing)
        self.root = Path(tempfile.mkdtemp(prefix="auctioneer-pg-"))
        self._started = False

    @property
    def url(self) -> str:
        """The SQLAlchemy URL of database ``postgres`` over the cluster's socket."""
        return f"postgresql+psycopg://postgres@/postgres?host={self.root}&port=5432"

    @property
    def pid(self) -> int:
        """The postmaster's process id (its backends are its children)."""
        return int((self.root / "data" / "postmaster.pid").read_text().split()[0])

    def _run(self, name: str, *args: str) -> None:
        binary = find_pg_binary(name)
        command = [str(binary), *args]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        done = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                              check=False)
        if done.returncode:
            raise PostgresError(f"{name} failed: {done.stderr.decode(errors='replace')[-500:]}")

    def start(self) -> LocalPostgres:
        """initdb (once) and start the server; PostgresError naming the step that failed."""
        if self._started:
            return self
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres")
        data = self.root / "data"
        if not data.exists():
            self._run("initdb", "-D", str(data), "-A", "trust", "-U", "postgres", "--no-sync")
        self._run("pg_ctl", "-D", str(data), "-w", "-l", str(self.root / "log"), "-o",
                  f"-p 5432 -k {self.root} -c listen_addresses='' -c fsync=off", "start")
        self._started = True
        return self

    def stop(self) -> None:
        """Stop the server at once and delete its directory."""
        if self._started:
            self._run("pg_ctl", "-D", str(self.root / "data"), "-m", "immediate", "stop")
            self._started = False
        shutil.rmtree(self.root, ignore_errors=True)
