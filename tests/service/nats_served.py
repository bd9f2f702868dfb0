"""The served-cluster fixture for the served and chaos tests (one cluster per test module).

The processes and checks are :class:`~auctioneer.service.servedcluster.Served`
and :class:`~auctioneer.service.clusterload.Load`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from auctioneer.exchange.scaleout.cluster import LocalCluster
from auctioneer.service.clusterload import Load
from auctioneer.service.servedcluster import COMMANDS, Served

from ..exchange.cluster_fixture import require_nats_server

__all__ = ["COMMANDS", "Load", "Served", "served_fixture"]


def served_fixture(**options: int) -> Callable[..., Iterator[Served]]:
    """A module-scoped fixture: a started :class:`Served` on a fresh cluster with ``options``,
    stopped after the module's tests; its :meth:`Served.run` runs a test's coroutine.

    Skips, saying why, when nats-server is not installed.
    """

    @pytest.fixture(scope="module")
    def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
        require_nats_server()
        loop = asyncio.new_event_loop()
        try:
            with LocalCluster() as cluster:
                setup = Served(cluster, Path(tmp_path_factory.mktemp("api")), loop, **options)
                try:
                    loop.run_until_complete(setup.start())
                    yield setup
                finally:
                    setup.stop()
        finally:
            loop.close()

    return served
