"""A real three-node NATS JetStream cluster for the served scale-out's tests, one per test.

Import the fixture into a test module (``from .cluster_fixture import nats_cluster``).
Tests skip, saying why, only when the nats-server binary is not installed
(CI installs it: ``.ci/system-packages``); a cluster that fails to form is
an error, not a skip.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from auctioneer.exchange.scaleout.cluster import LocalCluster
from auctioneer.exchange.scaleout.server import find_nats_server

__all__ = ["nats_cluster", "require_nats_server"]


def require_nats_server() -> None:
    """Skip the calling test, saying why, when nats-server is not installed."""
    if find_nats_server() is None:
        pytest.skip("nats-server is not installed (Debian package nats-server; "
                    ".ci/system-packages installs it)")


@pytest.fixture
def nats_cluster() -> Iterator[LocalCluster]:
    """Three nats-server -js nodes routed to each other on loopback ports."""
    require_nats_server()
    with LocalCluster() as cluster:
        yield cluster
