"""A real nats-server with JetStream for the scale-out tests, started and stopped per test.

Import the fixture into a test module (``from .nats_fixture import nats_server``).
Tests skip, saying why, only when the nats-server binary is not installed
(CI installs it: ``.ci/system-packages``); a server that is installed but
fails to start is an error, not a skip.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from typing import TypeVar

import nats
import pytest
from nats.aio.client import Client
from nats.js import JetStreamContext

from auctioneer.exchange.scaleout.server import LocalNats, find_nats_server

__all__ = ["connected", "nats_server"]

_T = TypeVar("_T")


@pytest.fixture
def nats_server() -> Iterator[LocalNats]:
    """A fresh nats-server -js on a random loopback port, with its own store directory."""
    if find_nats_server() is None:
        pytest.skip("nats-server is not installed (Debian package nats-server; "
                    ".ci/system-packages installs it)")
    with LocalNats() as server:
        yield server


def connected(url: str, body: Callable[[Client, JetStreamContext], Awaitable[_T]]) -> _T:
    """Run ``body(nc, js)`` on a fresh event loop with a connection to ``url``; its result."""

    async def run() -> _T:
        nc = await nats.connect(url, max_reconnect_attempts=3, reconnect_time_wait=0.2)
        try:
            return await body(nc, nc.jetstream())
        finally:
            await nc.close()

    return asyncio.run(run())
