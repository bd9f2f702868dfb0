"""The SQL projection as a follower process that tails the journal.

The service's process only journals and matches; a second process (the
*follower*) reads the journal as it grows, applies each command to its own
replica of the exchange -- the engine is deterministic, so the replica
produces exactly the events the service saw -- and projects them into the
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

from auctioneer.exchange.commands import Command
from auctioneer.exchange.durable import load_snapshot
from auctioneer.exchange.engine import Exchange
from auctioneer.exchange.journal import JournalReader
from auctioneer.exchange.native import engine
from auctioneer.service.projector import Applied, Projector
from auctioneer.service.sqliteprojector import projector_for
from auctioneer.service.store import connect, projected_seq

__all__ = ["Follower", "catch_up", "follow", "main"]

_MAIN = "from auctioneer.service.follower import main; main()"
_CHUNK = 20_000
_STOP = b"s"


def _project(projector: Projector, exchange: Exchange, records: list[tuple[int, Command]],
             reset: bool = False) -> None:
    """Apply ``records`` to ``exchange`` and project them, a transaction per chunk (the first
    one also emptying the tables when ``reset``)."""
    for i in range(0, len(records), _CHUNK):
        chunk = records[i:i + _CHUNK]
        events = exchange.apply_many(cmd for _, cmd in chunk)
        projector.project([(seq, cmd, ev) for (seq, cmd), ev in zip(chunk, events, strict=True)],
                          reset=reset and not i)
    if reset and not records:
        projector.project([], reset=True)


def catch_up(journal_dir: Path, db: Engine) -> tuple[Exchange, Projector, JournalReader]:
    """The follower's start: a replica at the tables' ``projected_seq``, tables caught up to
    what it read.

    Every record the tables reflect was read from the journal, so a journal
    that ends before ``projected_seq`` is another one (another data
    directory, or one that lost its tail): the tables are then rebuilt from
    the journal's first record, and the transaction that empties them also
    writes the first chunk, so readers see the old rows or the new ones,
    never missing tables. Raises :class:`JournalError` when the journal no
    longer reaches back to a snapshot the tables can continue from (segments
    pruned past them). Call it holding ``projection.lock``: another follower
    could otherwise move ``projected_seq`` on.
    """
    projected = projected_seq(db)
    loaded = load_snapshot(journal_dir, upto=projected)
    start, exchange = loaded if loaded else (0, engine()())
    tail = JournalReader(journal_dir, start)
    projector = projector_for(db)
    pending: list[Applied] = []
    while tail.last_seq < projected:
        records = tail.poll()
        if not records:
            tail.close()
            exchange, tail = engine()(), JournalReader(journal_dir, 0)
            _project(projector, exchange, tail.poll(), reset=True)
            return exchange, projector, tail
        for seq, command in records:
            events = exchange.apply(command)
            if seq > projected:
                pending.append((seq, command, events))
    projector.project(pending)
    return exchange, projector, tail


def follow(journal_dir: Path, db_url: str, stop: threading.Event,
           poll_s: float = 0.005, gather_s: float = 0.05) -> None:
    """Catch up, then project new records until ``stop`` is set and nothing is left.

    After a transaction the next one waits ``gather_s``: under a steady trickle of orders a
    transaction per poll cost more than the orders in it (its fixed cost, on the cores the
    service needs), so the tables lag by up to ``gather_s`` plus a batch, written in fewer
    and larger transactions. Each commit writes every table and index page the batch
    touched, so a batch of 20 orders cost 1.8x the CPU per order of one of 100 (on a
    captured journal): 50 ms gathers 100 orders at 2,000 orders/s.
    """
    db = connect(db_url)
    exchange, projector, tail = catch_up(journal_dir, db)
    try:
        while True:
            records = tail.poll()
            if records:
                _project(projector, exchange, records)
                stop.wait(gather_s)
                continue
            if stop.is_set():
                return
            time.sleep(poll_s)
    finally:
        tail.close()
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
