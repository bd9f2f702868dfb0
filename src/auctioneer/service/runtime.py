"""The running service's parts, started and stopped together by the app's lifespan.

:class:`Service` recovers the exchange from ``data_dir/journal`` (the newest
snapshot plus the journal's tail, :func:`~auctioneer.exchange.durable.open_exchange`),
starts the SQL follower process (:mod:`~auctioneer.service.follower`), the
sequencer and the clock ticker, opens the admin account on first start, and
stops them in the reverse order: the sequencer drains and snapshots, the
journal closes, the follower projects the rest and exits.

Example:
    >>> import asyncio, tempfile
    >>> from pathlib import Path
    >>> async def demo():
    ...     service = Service(Settings(data_dir=Path(tempfile.mkdtemp())))
    ...     await service.start()
    ...     role = service.exchange.account(ADMIN).role.value
    ...     await service.stop()
    ...     return role, service.keys.account_of(service.admin_key)
    >>> asyncio.run(demo())
    ('admin', 'admin')
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from auctioneer.exchange.commands import OpenAccount
from auctioneer.exchange.durable import open_exchange
from auctioneer.exchange.engine import Exchange
from auctioneer.exchange.model import Role
from auctioneer.service.broadcast import Hub
from auctioneer.service.follower import Follower
from auctioneer.service.keys import KeyRing
from auctioneer.service.projector import Fault, read_fault
from auctioneer.service.ratelimit import RateLimiter
from auctioneer.service.sequencer import Sequencer, stamped
from auctioneer.service.settings import Settings
from auctioneer.service.store import connect, projected_seq

__all__ = ["ADMIN", "Caller", "Service", "admin_key_of"]

ADMIN = "admin"
"""The admin account every service opens on its first start."""
_FOLLOWER_RETRY_S = 10.0
_POLL_S = 0.005  # the follower's own poll interval


@dataclass(frozen=True, slots=True)
class Caller:
    """The account behind a request's API key, and its role (the service keeps each one it
    has found: :attr:`Service.callers`)."""

    account: str
    role: Role


class Service:
    """Everything a request handler needs, and its lifecycle."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.keys = KeyRing.in_dir(settings.data_dir)
        self.admin_key = self.keys.key_for(ADMIN)
        self.limiter = RateLimiter(settings.rate, settings.burst)
        self.hub = Hub()
        self.db = connect(settings.db_url)
        self._tasks: list[asyncio.Task[None]] = []
        self._sequencer: Sequencer | None = None
        self._follower: Follower | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.halted: Fault | None = None
        """The projection's failure when it is halted (fail-stop), else None."""
        self.callers: dict[str, Caller] = {}
        """Each account that has called, as :func:`~auctioneer.service.deps.caller_of` found
        it: read from the engine once (an account's role never changes and no account
        closes), not at every request (an account view built for its role, 4-7 us)."""

    @property
    def sequencer(self) -> Sequencer:
        """The single writer (the service must be started)."""
        if self._sequencer is None:
            raise RuntimeError("the service is not started")
        return self._sequencer

    @property
    def exchange(self) -> Exchange:
        """The engine, for reads (writes go through :attr:`sequencer`)."""
        return self.sequencer.exchange

    @property
    def follower(self) -> Follower:
        """The SQL projection's process."""
        if self._follower is None:
            raise RuntimeError("the service is not started")
        return self._follower

    async def start(self) -> None:
        """Recover, start the follower, the writer and the ticker; open ``admin`` if new."""
        settings = self.settings
        self._loop = asyncio.get_running_loop()
        journal_dir = settings.data_dir / "journal"
        exchange, journal = await asyncio.to_thread(open_exchange, journal_dir, settings.fsync)
        self._follower = Follower(journal_dir, settings.db_url)
        self._follower.start()
        projected = None if settings.keep_journal else lambda: projected_seq(self.db)
        self._sequencer = Sequencer(exchange, journal, self.hub, settings.snapshot_every,
                                    projected)
        self._sequencer.start()
        self._write_admin_key()
        if ADMIN not in {a.id for a in exchange.accounts()}:
            await self.sequencer.submit([stamped(OpenAccount, ADMIN, Role.ADMIN)])
        self._tasks.append(asyncio.get_running_loop().create_task(self._ticker(), name="tick"))

    async def caught_up(self, timeout_s: float = 1.0) -> bool:
        """Wait until the SQL tables reflect every command journaled now; False on timeout
        (a follower that is restarting or stopped)."""
        target = self.sequencer.journal.last_seq
        deadline = time.monotonic() + timeout_s
        while await asyncio.to_thread(projected_seq, self.db) < target:
            if self.halted is not None or time.monotonic() >= deadline:
                return False
            await asyncio.sleep(_POLL_S)
        return True

    def end_streams(self) -> None:
        """End every open event stream (from any thread: the server is shutting down and
        waits for open connections to finish before the lifespan stops the service)."""
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self.hub.close)

    def spawn(self, task: asyncio.Task[None]) -> None:
        """Stop ``task`` (a demo trader, say) when the service stops."""
        self._tasks.append(task)

    async def _ticker(self) -> None:
        """Tick the clock; restart a follower that died (at most every 10 s), unless it
        failed on the same record :data:`~auctioneer.service.projector.HALT_AFTER` times."""
        restarted = -_FOLLOWER_RETRY_S
        while True:
            await asyncio.sleep(self.settings.tick_interval_s)
            await self.sequencer.tick()
            follower = self._follower
            if follower is not None and not follower.alive and self.halted is None \
                    and time.monotonic() - restarted >= _FOLLOWER_RETRY_S:
                fault = await asyncio.to_thread(read_fault, self.db)
                if fault is not None and fault.halted:
                    self.halted = fault
                    print(f"auctioneer: the SQL projection is halted: it failed "
                          f"{fault.count} times at journal seq {fault.seq}: {fault.error}. "
                          "The tables stay as they are; fix the cause, then POST "
                          "/admin/projection/resume or restart the service.",
                          file=sys.stderr, flush=True)
                    continue
                restarted = time.monotonic()
                self.restart_follower()

    def restart_follower(self) -> None:
        """Start a new follower process (the old one, if any, must have exited)."""
        follower = self.follower
        follower.stop()  # already dead: this only closes its pipe
        self._follower = Follower(follower.journal_dir, self.settings.db_url)
        self._follower.start()

    def _write_admin_key(self) -> None:
        path = self.settings.data_dir / "admin.key"
        if not path.exists():
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as out:
                out.write(self.admin_key + "\n")

    async def stop(self) -> None:
        """Stop in reverse order; the journal is closed and the tables caught up after."""
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()
        self.hub.close()
        if self._sequencer is not None:
            await self._sequencer.stop()
            self._sequencer.journal.close()
        if self._follower is not None:
            await asyncio.to_thread(self._follower.stop)
        self.db.dispose()


def admin_key_of(data_dir: Path) -> str:
    """The admin key a service with ``data_dir`` uses (for ``auctioneer load``)."""
    return KeyRing.in_dir(data_dir).key_for(ADMIN)
