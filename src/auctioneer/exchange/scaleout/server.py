"""A throwaway local nats-server with JetStream, for tests, benchmarks and demos.

Starts the ``nats-server`` binary (Debian's package) on a random loopback
port with its store in a fresh temporary directory, waits until it says it
is ready, and stops it (and deletes the store) on exit. Production runs a
configured, clustered server instead; see docs/scale-out.md.

Example:
    >>> find_nats_server(["/nonexistent/nats-server"]) is None
    True
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
import time
from abc import ABC, abstractmethod
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Self

__all__ = ["LocalNats", "LocalServer", "NatsServerError", "find_nats_server"]

_CANDIDATES = ("/usr/sbin/nats-server", "/usr/bin/nats-server")
_LISTENING = re.compile(rb"Listening for client connections on ([0-9.]+):(\d+)")


class NatsServerError(RuntimeError):
    """The nats-server binary is missing, or it did not start."""


def find_nats_server(candidates: Sequence[str] = _CANDIDATES) -> str | None:
    """The nats-server binary: one of ``candidates`` or on PATH; None when absent."""
    for path in candidates:
        if Path(path).is_file():
            return path
    return shutil.which("nats-server") if candidates == _CANDIDATES else None


class LocalServer(ABC):
    """A server process a test or benchmark starts for itself: ``with`` starts it, and
    stops it on the way out, error or not."""

    @abstractmethod
    def start(self) -> Self:
        """Start the server; return once it answers."""

    @abstractmethod
    def stop(self) -> None:
        """Stop the server and remove what it wrote that is not kept."""

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.stop()


class LocalNats(LocalServer):
    """A nats-server with JetStream on 127.0.0.1 and a random port; a context manager.

    ``url`` is valid between :meth:`start` and :meth:`stop`. The store
    directory survives :meth:`kill` + :meth:`start` (a server crash and
    restart keeps the stream); :meth:`stop` deletes it.
    """

    def __init__(self, binary: str | None = None, *, ready_timeout_s: float = 10.0,
                 port: int = -1, store: Path | None = None,
                 extra_args: Sequence[str] = ()) -> None:
        found = binary or find_nats_server()
        if found is None:
            raise NatsServerError("nats-server not found: install the Debian package nats-server")
        self.binary = found
        self.ready_timeout_s = ready_timeout_s
        self.store = store or Path(tempfile.mkdtemp(prefix="auctioneer-nats-"))
        self.store.mkdir(parents=True, exist_ok=True)
        self.port = port
        self.extra_args = tuple(extra_args)
        self._log = self.store / "server.log"
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """``nats://127.0.0.1:PORT``."""
        if self._process is None:
            raise NatsServerError("the server is not running")
        return f"nats://127.0.0.1:{self.port}"

    def start(self) -> LocalNats:
        """Start the server (reusing the last port and the store, if any); wait until ready."""
        if self._process is not None:
            return self
        args = [self.binary, "-js", "-a", "127.0.0.1", "-p", str(self.port),
                "-sd", str(self.store / "js"), "-l", str(self._log), *self.extra_args]
        self._log.unlink(missing_ok=True)
        self._process = subprocess.Popen(args, stdin=subprocess.DEVNULL,
                                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + self.ready_timeout_s
        while time.monotonic() < deadline:
            log = self.log_bytes()
            found = _LISTENING.search(log)
            if found and b"Server is ready" in log:
                self.port = int(found.group(2))
                return self
            if self._process.poll() is not None:
                break
            time.sleep(0.02)
        self.kill()
        tail = self._log.read_text(errors="replace")[-2000:] if self._log.exists() else ""
        raise NatsServerError(f"nats-server did not start: {tail.strip() or 'no log'}")

    @property
    def pid(self) -> int:
        """The running server's process id (for signals: SIGSTOP, SIGCONT)."""
        if self._process is None:
            raise NatsServerError("the server is not running")
        return self._process.pid

    def kill(self) -> None:
        """Stop the server abruptly (SIGKILL), keeping its store; ``start`` restarts it."""
        if self._process is not None:
            self._process.kill()
            self._process.wait()
            self._process = None

    def log_bytes(self) -> bytes:
        """The server's log so far (b"" before it wrote one)."""
        return self._log.read_bytes() if self._log.exists() else b""

    def stop(self, *, keep_store: bool = False) -> None:
        """Stop the server (SIGTERM, then SIGKILL) and delete its store unless ``keep_store``."""
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.kill()
            self._process = None
        if not keep_store:
            shutil.rmtree(self.store, ignore_errors=True)
