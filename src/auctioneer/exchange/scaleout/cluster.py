"""A three-node NATS JetStream cluster on loopback ports, for tests, benchmarks and people.

Each node is a :class:`~auctioneer.exchange.scaleout.server.LocalNats` with a
fixed client port, a cluster port and routes to the other two; JetStream
then keeps R3 streams (and KV buckets, which are streams) on all three and
acknowledges a write once two of them stored it. :meth:`LocalCluster.start`
returns once every node has seen a JetStream metadata leader, so streams can
be created at once. ``make cluster`` (``auctioneer cluster``) runs one in
the foreground.

Example:
    >>> urls(["nats://127.0.0.1:1", "nats://127.0.0.1:2"])
    'nats://127.0.0.1:1,nats://127.0.0.1:2'
"""

from __future__ import annotations

import shutil
import socket
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType

from auctioneer.exchange.scaleout.server import LocalNats, NatsServerError, find_nats_server

__all__ = ["CLUSTER_NAME", "LocalCluster", "free_ports", "urls"]

CLUSTER_NAME = "auctioneer"
_LEADER_SEEN = (b"JetStream cluster new metadata leader", b"new JetStream cluster metadata leader")


def free_ports(count: int) -> list[int]:
    """``count`` distinct loopback ports that were free a moment ago."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def urls(addresses: Sequence[str]) -> str:
    """Server URLs as one ``--nats`` value (comma-separated)."""
    return ",".join(addresses)


class LocalCluster:
    """Three JetStream nodes ``n0..n2`` routed to each other; a context manager.

    Stores live under ``root`` (a fresh temporary directory by default):
    :meth:`kill` + :meth:`restart` of one node keeps its store, as a
    machine's reboot would; :meth:`stop` deletes a temporary root.
    """

    def __init__(self, size: int = 3, *, root: Path | None = None,
                 binary: str | None = None, ready_timeout_s: float = 20.0) -> None:
        found = binary or find_nats_server()
        if found is None:
            raise NatsServerError("nats-server not found: install the Debian package nats-server")
        self._temporary = root is None
        self.root = root or Path(tempfile.mkdtemp(prefix="auctioneer-cluster-"))
        self.ready_timeout_s = ready_timeout_s
        ports = free_ports(2 * size)
        clients, routes = ports[:size], ports[size:]
        self.nodes: list[LocalNats] = []
        for i in range(size):
            others = ",".join(f"nats://127.0.0.1:{p}" for j, p in enumerate(routes) if j != i)
            args = ["-n", f"n{i}", "--cluster_name", CLUSTER_NAME,
                    "--cluster", f"nats://127.0.0.1:{routes[i]}", "--routes", others]
            self.nodes.append(LocalNats(found, port=clients[i], store=self.root / f"n{i}",
                                        extra_args=args, ready_timeout_s=ready_timeout_s))

    @property
    def urls(self) -> list[str]:
        """Every node's client URL, in node order."""
        return [f"nats://127.0.0.1:{node.port}" for node in self.nodes]

    @property
    def url(self) -> str:
        """Every node's URL as one comma-separated ``--nats`` value."""
        return urls(self.urls)

    def start(self) -> LocalCluster:
        """Start every node; wait until each has seen a JetStream metadata leader."""
        for node in self.nodes:
            node.start()
        self._wait_for_leader(self.nodes)
        return self

    def kill(self, i: int) -> None:
        """SIGKILL node ``i``, keeping its store."""
        self.nodes[i].kill()

    def restart(self, i: int) -> None:
        """Start node ``i`` again on its ports and store; wait until it rejoined."""
        self.nodes[i].start()
        self._wait_for_leader([self.nodes[i]])

    def _wait_for_leader(self, nodes: Sequence[LocalNats]) -> None:
        deadline = time.monotonic() + self.ready_timeout_s
        waiting = list(nodes)
        while waiting and time.monotonic() < deadline:
            waiting = [n for n in waiting
                       if not any(s in n.log_bytes() for s in _LEADER_SEEN)]
            time.sleep(0.05)
        if waiting:
            tails = "; ".join(n.log_bytes()[-400:].decode(errors="replace") for n in waiting)
            raise NatsServerError(f"no JetStream metadata leader within "
                                  f"{self.ready_timeout_s:g} s: {tails}")

    def stop(self) -> None:
        """Stop every node; delete the stores when the root is temporary."""
        for node in self.nodes:
            node.stop(keep_store=not self._temporary)
        if self._temporary:
            shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> LocalCluster:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.stop()
