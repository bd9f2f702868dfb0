"""``auctioneer serve`` as a child process: start it on a free port, wait until it answers.

Used by ``auctioneer load`` (which measures a server in its own process, as
a client would) and by the crash test (which kills it with SIGKILL).

Example:
    >>> 1024 <= free_port() <= 65535
    True
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

__all__ = ["children", "free_port", "spawn_echo", "spawn_server", "wait_ready"]

_MAIN = "import sys; from auctioneer.cli import main; sys.exit(main(sys.argv[1:]))"


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nothing listens on now (the OS's pick)."""
    with socket.socket() as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
        return port


def spawn_server(data_dir: Path, port: int, *extra: str, log: Path | None = None
                 ) -> subprocess.Popen[bytes]:
    """Start ``auctioneer serve`` on ``127.0.0.1:port`` with ``data_dir`` (and ``extra``)."""
    args = [sys.executable, "-c", _MAIN, "serve", "--host", "127.0.0.1", "--port", str(port),
            "--data-dir", str(data_dir), *extra]
    out = open(log, "ab") if log is not None else subprocess.DEVNULL  # noqa: SIM115
    try:
        return subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT)
    finally:
        if log is not None:
            out.close()  # type: ignore[union-attr]


def children(pid: int) -> list[int]:
    """The child processes of ``pid`` (Linux ``/proc``; none where it cannot tell)."""
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(child) for child in text.split()]


def spawn_echo(port: int, batch: int) -> subprocess.Popen[bytes]:
    """Start the trivial server of ``auctioneer load --echo`` (module ``loadecho``)."""
    code = "from auctioneer.service.loadecho import main; main()"
    return subprocess.Popen([sys.executable, "-c", code, str(port), str(batch)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)


def wait_ready(url: str, process: subprocess.Popen[bytes] | None = None,
               timeout_s: float = 30.0) -> None:
    """Return once ``url`` answers ``/openapi.json``; RuntimeError if it dies or times out."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"the server exited with status {process.returncode}")
        try:
            if httpx.get(f"{url}/openapi.json", timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"{url} did not answer within {timeout_s:g} s")
