"""A three-node NATS JetStream cluster on loopback ports, for tests, benchmarks and people.

Each node is a :class:`~auctioneer.exchange.scaleout.server.LocalNats` with a
fixed client port, a cluster port and routes to the other two; JetStream
then keeps R3 streams (and KV buckets, which are streams) on all three and
acknowledges a write once two of them stored it. :meth:`LocalCluster.start`
returns once every node's monitoring endpoint (``/jsz``) names a JetStream
metadata leader and all three peers, so streams can be created at once.
``make cluster`` (``auctioneer cluster``) runs one in the foreground.

Example:
    >>> urls(["nats://127.0.0.1:1", "nats://127.0.0.1:2"])
    'nats://127.0.0.1:1,nats://127.0.0.1:2'
    >>> replicas_for("nats://a:1,nats://b:2,nats://c:3"), replicas_for("nats://a:1")
    (3, 1)
"""

from __future__ import annotations

import json
import shutil
import socket
import tempfile
import time
import urllib.request
from collections.abc import Iterable, Sequence
from pathlib import Path

from auctioneer.exchange.scaleout.server import (
    LocalNats,
    LocalServer,
    NatsServerError,
    find_nats_server,
)

__all__ = ["CLUSTER_NAME", "LocalCluster", "free_ports", "replicas_for", "urls"]

CLUSTER_NAME = "auctioneer"


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


def replicas_for(url: str) -> int:
    """Streams' replication for a ``--nats`` value: R3 on three or more servers, else R1."""
    return 3 if len([u for u in url.split(",") if u.strip()]) >= 3 else 1


def urls(addresses: Sequence[str]) -> str:
    """Server URLs as one ``--nats`` value (comma-separated)."""
    return ",".join(addresses)


class LocalCluster(LocalServer):
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
        ports = free_ports(3 * size)
        clients, routes, self._monitors = ports[:size], ports[size:2 * size], ports[2 * size:]
        self.nodes: list[LocalNats] = []
        for i in range(size):
            others = ",".join(f"nats://127.0.0.1:{p}" for j, p in enumerate(routes) if j != i)
            args = ["-n", f"n{i}", "--cluster_name", CLUSTER_NAME, "-m", str(self._monitors[i]),
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
        """Start every node; wait until each knows the JetStream metadata leader and all peers.

        NatsServerError (every node stopped again) when that takes longer than the timeout.
        """
        try:
            for node in self.nodes:
                node.start()
            self._wait_for_leader(range(len(self.nodes)))
        except BaseException:
            self.stop()
            raise
        return self

    def kill(self, i: int) -> None:
        """SIGKILL node ``i``, keeping its store."""
        self.nodes[i].kill()

    def restart(self, i: int) -> None:
        """Start node ``i`` again on its ports and store; wait until it rejoined."""
        self.nodes[i].start()
        self._wait_for_leader([i])

    def _ready(self, i: int) -> bool:
        """Node ``i``'s monitoring endpoint names a metadata leader and every peer."""
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self._monitors[i]}/jsz",
                                        timeout=1.0) as answer:
                meta = json.load(answer).get("meta_cluster") or {}
        except (OSError, ValueError):
            return False
        return bool(meta.get("leader")) and meta.get("cluster_size") == len(self.nodes)

    def _wait_for_leader(self, nodes: Iterable[int]) -> None:
        deadline = time.monotonic() + self.ready_timeout_s
        waiting = list(nodes)
        while waiting and time.monotonic() < deadline:
            waiting = [i for i in waiting if not self._ready(i)]
            time.sleep(0.05)
        if waiting:
            tails = "; ".join(self.nodes[i].log_bytes()[-400:].decode(errors="replace")
                              for i in waiting)
            raise NatsServerError(f"no JetStream metadata leader within "
                                  f"{self.ready_timeout_s:g} s: {tails}")

    def stop(self) -> None:
        """Stop every node; delete the stores when the root is temporary."""
        for node in self.nodes:
            node.stop(keep_store=not self._temporary)
        if self._temporary:
            shutil.rmtree(self.root, ignore_errors=True)
