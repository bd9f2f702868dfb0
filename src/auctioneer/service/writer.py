"""The journal's own writer thread: the sequencer's group commit without a pool hand-off.

The sequencer journals each group (one write, one fsync) off the event loop, so the loop
keeps reading the requests that make up the next group. ``asyncio.to_thread`` did that
with a context copy, an executor work item and two chained futures per group, about 5 %
of the served process under batches (py-spy, ``auctioneer load --batch 200``).
:class:`JournalWriter` is one thread for the sequencer's life, fed through a queue; it
settles each group's future on the loop when the group is written (and synced, as the
journal's policy says), or with what the journal raised.

Example:
    >>> import asyncio, tempfile
    >>> from pathlib import Path
    >>> from auctioneer.exchange.commands import Deposit
    >>> from auctioneer.exchange.journal import FsyncPolicy, Journal
    >>> async def demo() -> int:
    ...     journal = Journal(Path(tempfile.mkdtemp()), FsyncPolicy.NEVER)
    ...     writer = JournalWriter(journal)
    ...     await writer.append([Deposit("a", 5), Deposit("a", 6)])
    ...     writer.close()
    ...     journal.close()
    ...     return journal.last_seq
    >>> asyncio.run(demo())
    2
"""

from __future__ import annotations

import asyncio
import queue
import threading

from auctioneer.exchange.commands import Command
from auctioneer.exchange.journal import Journal

__all__ = ["JournalWriter"]

_Group = tuple[list[Command], "asyncio.Future[None]"]


class JournalWriter:
    """Appends groups of commands to ``journal`` in a thread of its own, started here on the
    running loop; see the module docstring. One group at a time is the caller's rule (the
    sequencer awaits each), so the journal is never written from two threads."""

    def __init__(self, journal: Journal) -> None:
        self._journal = journal
        self._loop = asyncio.get_running_loop()
        self._queue: queue.SimpleQueue[_Group | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="journal-writer", daemon=True)
        self._thread.start()

    def append(self, commands: list[Command]) -> asyncio.Future[None]:
        """Done when ``commands`` are appended as :meth:`Journal.append_many` appends them;
        it raises what that raised."""
        future: asyncio.Future[None] = self._loop.create_future()
        self._queue.put((commands, future))
        return future

    def close(self) -> None:
        """End the thread once what was handed to it is written."""
        self._queue.put(None)
        self._thread.join()

    def _run(self) -> None:
        while (group := self._queue.get()) is not None:
            commands, future = group
            failed: BaseException | None = None
            try:
                self._journal.append_many(commands)
            except BaseException as exc:  # the sequencer stops on any of them
                failed = exc
            try:
                self._loop.call_soon_threadsafe(_settle, future, failed)
            except RuntimeError:  # the loop is closed: nobody waits for this group
                return


def _settle(future: asyncio.Future[None], exc: BaseException | None) -> None:
    if future.done():  # cancelled: the sequencer's task was, at shutdown
        return
    if exc is None:
        future.set_result(None)
    else:
        future.set_exception(exc)
