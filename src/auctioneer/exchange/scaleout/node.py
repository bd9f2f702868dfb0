"""The processes of the scale-out mode: a partition's engine, and a batch publisher.

:func:`run_engine` is ``auctioneer stream engine``: connect, make sure the
stream exists, resume the partition from its checkpoint (or start empty),
follow the subject, checkpoint every N commands and once more on a clean
stop. :func:`publish_items` is ``auctioneer stream publish``. Both are
plain coroutines so tests drive them in-process and the CLI in a process.

Example:
    >>> EngineStatus(0, 12, 12, 0, "ab").line()
    '{"applied":12,"partition":0,"seq":12,"state_hash":"ab","undecodable":0}'
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import nats
from nats.aio.client import Client

from auctioneer.exchange.scaleout.checkpoint import write_checkpoint
from auctioneer.exchange.scaleout.deadline import within
from auctioneer.exchange.scaleout.partition import PartitionMap
from auctioneer.exchange.scaleout.publisher import Published, Publisher, Routed
from auctioneer.exchange.scaleout.replica import PartitionEngine
from auctioneer.exchange.scaleout.stream import StreamSpec, ensure_stream

__all__ = ["EngineStatus", "NatsConnectError", "connect", "publish_items", "run_engine"]


class NatsConnectError(ConnectionError):
    """No NATS server answered at the URL in time."""


async def _quiet(_: Exception) -> None:
    """Connection errors surface as NatsConnectError or as failed requests, not as logs."""


async def connect(url: str, timeout_s: float = 5.0) -> Client:
    """A connection to one of the servers in ``url`` (comma-separated), reconnecting to any
    of them if it drops later; NatsConnectError if none answers.

    A server that stops answering (paused, or cut off) is given up after two missed
    pings a second apart, so a client moves to a live node within about 2 s.
    """
    servers = [u.strip() for u in url.split(",") if u.strip()]
    try:
        return await within(
            nats.connect(servers=servers, error_cb=_quiet, connect_timeout=min(timeout_s, 2.0),
                         max_reconnect_attempts=-1, reconnect_time_wait=0.25,
                         ping_interval=1, max_outstanding_pings=2),
            timeout_s, f"connecting to {url}")
    except (TimeoutError, OSError, nats.errors.Error) as exc:
        raise NatsConnectError(f"cannot connect to {url} within {timeout_s:g} s "
                               f"({type(exc).__name__})") from None


@dataclass(frozen=True, slots=True)
class EngineStatus:
    """Where an engine stopped: its partition, position, counts and state hash."""

    partition: int
    seq: int
    applied: int
    undecodable: int
    state_hash: str

    def line(self) -> str:
        """One JSON line, as ``auctioneer stream engine`` prints it on exit."""
        return json.dumps(asdict(self), separators=(",", ":"), sort_keys=True)


async def run_engine(url: str, partition: int, spec: StreamSpec, *,
                     checkpoint_dir: Path | None, checkpoint_every: int,
                     idle_s: float | None = None, stop: asyncio.Event | None = None,
                     started: asyncio.Event | None = None) -> EngineStatus:
    """Run ``partition``'s engine until idle for ``idle_s`` or until ``stop`` is set.

    On either, writes a final checkpoint (when a directory is given) and
    returns the status. A crash (the process killed) leaves the last periodic
    checkpoint, from which the next run resumes.
    """
    engine = PartitionEngine.open(checkpoint_dir, partition, spec.name)
    nc = await connect(url)
    try:
        js = nc.jetstream()
        await ensure_stream(js, spec)
        if started is not None:
            started.set()
        follow = asyncio.ensure_future(engine.follow(
            js, spec, idle_s=idle_s, checkpoint_dir=checkpoint_dir,
            checkpoint_every=checkpoint_every))
        waiters: list[asyncio.Future[Any]] = [follow]
        if stop is not None:
            waiters.append(asyncio.ensure_future(stop.wait()))
        await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        for waiter in waiters:
            waiter.cancel()
        await asyncio.gather(*waiters, return_exceptions=True)
        if follow.done() and not follow.cancelled() and follow.exception() is not None:
            raise follow.exception()  # type: ignore[misc]
    finally:
        await nc.close()
    # apply() is synchronous, so a cancelled follow stopped between two commands.
    if checkpoint_dir is not None:
        write_checkpoint(checkpoint_dir, engine.checkpoint())
    return EngineStatus(partition, engine.seq, engine.applied, engine.undecodable,
                        engine.state_hash())


async def publish_items(url: str, partitions: PartitionMap, spec: StreamSpec,
                        items: Sequence[Routed]) -> list[Published]:
    """Publish ``items`` in order, pipelined; every copy's acknowledgement."""
    nc = await connect(url)
    try:
        js = nc.jetstream()
        publisher = await Publisher.open(js, partitions, spec)
        return await publisher.publish_many(items)
    finally:
        await nc.close()
