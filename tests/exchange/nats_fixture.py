"""A real nats-server with JetStream for the scale-out tests, started and stopped per test.

Import the fixture into a test module (``from .nats_fixture import nats_server``).
Tests skip, saying why, only when the nats-server binary is not installed
(CI installs it: ``.ci/system-packages``); a server that is installed but
fails to start is an error, not a skip.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import Awaitable, Callable, Iterator
from typing import TypeVar

import nats
import pytest
from nats.aio.client import Client
from nats.js import JetStreamContext

from auctioneer.exchange.scaleout.deadline import within
from auctioneer.exchange.scaleout.server import LocalNats, find_nats_server

__all__ = ["bounded", "connected", "nats_server"]

_T = TypeVar("_T")


@pytest.fixture
def nats_server() -> Iterator[LocalNats]:
    """A fresh nats-server -js on a random loopback port, with its own store directory."""
    if find_nats_server() is None:
        pytest.skip("nats-server is not installed (Debian package nats-server; "
                    ".ci/system-packages installs it)")
    with LocalNats() as server:
        yield server


async def bounded(work: Awaitable[_T], seconds: float, what: str) -> _T:
    """``work``'s result, or TimeoutError naming ``what`` and every task's stack: the
    deadline of :func:`~auctioneer.exchange.scaleout.deadline.within`, which cannot be lost,
    with what the test's tasks were doing when it passed (taken before they are cancelled,
    which unwinds the stuck one)."""
    stacks = io.StringIO()

    def take_stacks() -> None:
        for other in asyncio.all_tasks():
            other.print_stack(limit=12, file=stacks)

    try:
        return await within(work, seconds, what, at_deadline=take_stacks)
    except TimeoutError as exc:
        if not stacks.getvalue():  # the work's own TimeoutError, not this deadline's
            raise
        raise TimeoutError(f"{exc}; the tasks were:\n{stacks.getvalue()}") from exc


def connected(url: str, body: Callable[[Client, JetStreamContext], Awaitable[_T]]) -> _T:
    """Run ``body(nc, js)`` on a fresh event loop with a connection to ``url``; its result."""

    async def run() -> _T:
        nc = await nats.connect(url, max_reconnect_attempts=3, reconnect_time_wait=0.2)
        try:
            return await body(nc, nc.jetstream())
        finally:
            await nc.close()

    return asyncio.run(run())
