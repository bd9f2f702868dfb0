"""The SQL projection as a follower process that tails the journal.

The service's process only journals and matches; a second process (the
*follower*) reads the journal as it grows, applies each command to its own
replica of the exchange -- the engine is deterministic, so the replica
produces exactly the events the service saw -- and projects what they change
(:mod:`~auctioneer.service.changes`, logged in C for the commands the native
engine replays from the journal's bytes: :class:`JournalChanges`) into the
tables (:class:`~auctioneer.service.projector.Projector`), one transaction per
batch, each recording its last sequence number (``meta.projected_seq``).

That makes the projection crash-consistent for free: on start the follower
restores the newest snapshot not ahead of ``projected_seq`` (or starts
empty), replays the journal silently up to ``projected_seq`` and projects
from there on. It also keeps SQL work off the sequencer's core. The tables
lag the journal by the follower's poll interval (after a transaction, its
gathering time, 50 ms) plus one batch. It reads
snapshots and the journal as recovery does
(:func:`~auctioneer.exchange.durable.load_snapshot`,
:class:`~auctioneer.exchange.journal.JournalReader`), and its replica runs the
service's engine (:func:`~auctioneer.exchange.native.engine`: native unless
``AUCTIONEER_ENGINE=python``), so both produce the same events at the same cost.
"""

from __future__ import annotations

import contextlib
import fcntl
import gc
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

from sqlalchemy import Engine

from auctioneer.exchange.closing import Closing
from auctioneer.exchange.durable import load_snapshot
from auctioneer.exchange.engine import Exchange
from auctioneer.exchange.journal import JournalReader, Segment
from auctioneer.exchange.native import NativeExchange, engine
from auctioneer.service.changes import Change, changes
from auctioneer.service.projector import Projector
from auctioneer.service.sqliteprojector import projector_for
from auctioneer.service.store import connect, projected_seq

__all__ = ["Follower", "JournalChanges", "catch_up", "follow", "main"]

_MAIN = "from auctioneer.service.follower import main; main()"
_STOP = b"s"


class JournalChanges(Closing):
    """The journal's records after ``after``, applied to ``exchange`` and read as their
    changes to the projection (:mod:`~auctioneer.service.changes`).

    The native engine replays the records it takes straight from the journal's
    bytes and logs their changes in C
    (:meth:`~auctioneer.exchange.native.NativeExchange.replay_bytes`); the others
    (a refusal, an account opened, a market listed, any engine but the native one)
    are decoded, applied, and their changes derived from their events. Either way
    the changes come in journal order.
    """

    def __init__(self, journal_dir: Path, exchange: Exchange, after: int) -> None:
        self.exchange = exchange
        self._log: list[Change] = []
        bulk = self._replay if isinstance(exchange, NativeExchange) else None
        self._reader = JournalReader(journal_dir, after, bulk)

    def _replay(self, data: Segment, pos: int, last_seq: int) -> tuple[int, int]:
        assert isinstance(self.exchange, NativeExchange)
        return self.exchange.replay_bytes(data, pos, last_seq, self._log)

    @property
    def last_seq(self) -> int:
        """The last record applied."""
        return self._reader.last_seq

    def poll(self) -> tuple[list[Change], int, int]:
        """The changes of the records appended since the last call, and the first and last
        of those records' seqs (``last < first`` when there were none)."""
        first = self._reader.last_seq + 1
        log = self._log
        for seq, command in self._reader.records():
            log += changes(seq, command, self.exchange.apply(command))
        self._log = []
        return log, first, self._reader.last_seq

    def close(self) -> None:
        """Close the journal."""
        self._reader.close()


def catch_up(journal_dir: Path, db: Engine) -> tuple[JournalChanges, Projector]:
    """The follower's start: a replica at the tables' ``projected_seq``, tables caught up to
    what it read.

    Every record the tables reflect was read from the journal, so a journal
    that ends before ``projected_seq`` is another one (another data
    directory, or one that lost its tail): the tables are then rebuilt from
    the journal's first record, and the transaction that empties them also
    writes the rows, so readers see the old rows or the new ones,
    never missing tables. Raises :class:`JournalError` when the journal no
    longer reaches back to a snapshot the tables can continue from (segments
    pruned past them). Call it holding ``projection.lock``: another follower
    could otherwise move ``projected_seq`` on.
    """
    projected = projected_seq(db)
    loaded = load_snapshot(journal_dir, upto=projected)
    start, exchange = loaded if loaded else (0, engine()())
    source = JournalChanges(journal_dir, exchange, start)
    projector = projector_for(db)
    pending: list[Change] = []
    while source.last_seq < projected:
        log, first, last = source.poll()
        if last < first:
            source.close()
            source = JournalChanges(journal_dir, engine()(), 0)
            projector.project_changes(*source.poll(), reset=True)
            return source, projector
        # The tables hold the records up to projected_seq: their changes only move the replica.
        pending += [change for change in log if change[1] > projected]
    projector.project_changes(pending, projected + 1, source.last_seq)
    return source, projector


def follow(journal_dir: Path, db_url: str, stop: threading.Event,
           poll_s: float = 0.005, gather_s: float = 0.05) -> None:
    """Catch up, then project new records until ``stop`` is set and nothing is left.

    After a transaction the next one waits ``gather_s``: under a steady trickle of orders a
    transaction per poll cost more than the orders in it (its fixed cost, on the cores the
    service needs), so the tables lag by up to ``gather_s`` plus a batch, written in fewer
    and larger transactions. Each commit writes every table and index page the batch
    touched, so a batch of 20 orders cost 1.8x the CPU per order of one of 100 (on a
    captured journal): 50 ms gathers 100 orders at 2,000 orders/s. A follower that fell
    behind writes everything journaled since its last poll in one transaction.
    """
    db = connect(db_url)
    source, projector = catch_up(journal_dir, db)
    try:
        while True:
            log, first, last = source.poll()
            if last >= first:
                projector.project_changes(log, first, last)
                stop.wait(gather_s)
                continue
            if stop.is_set():
                return
            time.sleep(poll_s)
    finally:
        source.close()
        db.dispose()


def _watch_parent(stop: threading.Event) -> None:
    """Set ``stop`` when the parent asks (a byte, then its end of the pipe closes); end the
    process at once when the pipe closes without it: the parent died (even by SIGKILL).

    An orphan must not go on projecting: a restarted service appends to the
    same journal, and its follower waits for ``projection.lock``. Dying
    mid-transaction loses nothing; the next follower resumes from
    ``projected_seq``. Raw reads: a daemon thread blocked in ``sys.stdin``
    would hold its lock at exit.
    """
    asked = False
    while data := os.read(0, 4096):
        asked = asked or _STOP in data
    if not asked:
        os._exit(1)
    stop.set()


def main(argv: list[str] | None = None) -> None:
    """The follower process: ``JOURNAL_DIR DB_URL``; see :func:`_watch_parent` for stopping."""
    journal_dir, db_url = argv if argv is not None else sys.argv[1:3]
    # The tables may lag; orders may not: on a small machine the sequencer's core comes first.
    os.nice(10)
    # Its records are short-lived and acyclic: a collection per 700 allocations, each also
    # walking every module and SQLAlchemy object loaded by now, cost more than it ever
    # freed (about a fifth of the CPU per order, measured on a captured journal).
    gc.freeze()
    gc.set_threshold(10_000, 10, 10)
    stop = threading.Event()
    threading.Thread(target=_watch_parent, args=(stop,), name="parent", daemon=True).start()
    # One follower per journal: a restarted one waits for the last one to finish.
    with open(Path(journal_dir) / "projection.lock", "wb") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        follow(Path(journal_dir), db_url, stop)


class Follower:
    """The follower process's handle: started after the journal is opened, stopped last."""

    def __init__(self, journal_dir: Path, db_url: str) -> None:
        self.journal_dir = journal_dir
        self._args = [sys.executable, "-c", _MAIN, str(journal_dir), db_url]
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start the process."""
        self.process = subprocess.Popen(self._args, stdin=subprocess.PIPE)

    @property
    def alive(self) -> bool:
        """Whether the process runs."""
        return self.process is not None and self.process.poll() is None

    def stop(self, timeout_s: float = 60.0) -> None:
        """Ask it to project what is journaled and exit; kill it if it does not in time."""
        if self.process is None:
            return
        stdin = self.process.stdin
        assert stdin is not None
        with contextlib.suppress(BrokenPipeError):  # it died already
            stdin.write(_STOP)
            stdin.flush()
        with contextlib.suppress(BrokenPipeError):
            stdin.close()
        try:
            self.process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            print("auctioneer: the projection did not stop in time; killing it",
                  file=sys.stderr)
            self.process.kill()
            self.process.wait()
