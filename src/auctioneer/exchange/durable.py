"""Snapshots, recovery and a durable exchange: journal first, then apply.

A snapshot file ``snapshot-<seq>.json`` holds the exchange's
:meth:`~auctioneer.exchange.Exchange.snapshot` after command ``seq``, its
state hash and the sequence number; it is written to a temporary file,
fsynced and renamed, so a crash never leaves a half snapshot under the real
name. :func:`open_exchange` loads the newest snapshot whose hash verifies
and replays only the journal records after it: snapshots bound replay time.

:class:`DurableExchange` is the write path the service uses: a batch of
commands is appended to the journal in one group commit *before* any of them
is applied, so whatever a client was told is durable under the fsync policy;
replay applies the same commands -- rejected ones included, which reject
again -- and reaches the identical state. It snapshots every
``snapshot_every`` commands (then rotates the journal and drops segments
older than the previous snapshot). Invariants
(:meth:`~auctioneer.exchange.Exchange.check`): the ledger part, O(accounts
+ capacity records), every ``check_every`` commands; the full check, O(open
orders), before every snapshot and after recovery.

Example:
    >>> import tempfile
    >>> from auctioneer.exchange.commands import OpenAccount, Deposit
    >>> from auctioneer.exchange.model import Role
    >>> d = tempfile.mkdtemp()
    >>> with DurableExchange.open(d, FsyncPolicy.NEVER) as dx:
    ...     _ = dx.submit_many([OpenAccount("a", Role.TRADER), Deposit("a", 7)])
    ...     before = dx.exchange.state_hash()
    >>> with DurableExchange.open(d) as dx:
    ...     dx.exchange.state_hash() == before, dx.exchange.account("a").balance
    (True, 7)
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from types import TracebackType

from auctioneer.exchange.commands import Command
from auctioneer.exchange.engine import Exchange
from auctioneer.exchange.events import Event
from auctioneer.exchange.files import numbered_files, write_atomic
from auctioneer.exchange.journal import FsyncPolicy, Journal, JournalError, replay
from auctioneer.exchange.snapshot import canonical_json

__all__ = [
    "DurableExchange",
    "ReplayError",
    "load_snapshot",
    "open_exchange",
    "snapshot_files",
    "write_snapshot",
]

_PREFIX, _SUFFIX = "snapshot-", ".json"


class ReplayError(JournalError):
    """Applying a journaled command raised during recovery: a bug, named by seq and type.

    Every recovery would stop at the same command, so it is reported, never skipped.
    """

    def __init__(self, seq: int, kind: str, cause: BaseException) -> None:
        super().__init__(f"replaying journal record {seq} ({kind}) raised "
                         f"{type(cause).__name__}: {cause}")
        self.seq = seq
        self.kind = kind


def snapshot_files(directory: str | os.PathLike[str]) -> list[tuple[int, Path]]:
    """``(seq, path)`` of the snapshots in ``directory``, oldest first."""
    return numbered_files(directory, _PREFIX, _SUFFIX)


def write_snapshot(directory: str | os.PathLike[str], seq: int, exchange: Exchange) -> Path:
    """Write ``exchange``'s state after command ``seq`` atomically; return the file."""
    state = exchange.snapshot()
    digest = hashlib.sha256(canonical_json(state)).hexdigest()
    data = canonical_json({"hash": digest, "seq": seq, "state": state})
    return write_atomic(Path(directory) / f"{_PREFIX}{seq:020d}{_SUFFIX}", data)


def load_snapshot(directory: str | os.PathLike[str]) -> tuple[int, Exchange] | None:
    """``(seq, exchange)`` from the newest snapshot that verifies; None if there is none."""
    for seq, path in reversed(snapshot_files(directory)):
        try:
            data = json.loads(path.read_bytes())
            exchange = Exchange.restore(data["state"])
        except (ValueError, KeyError, TypeError):
            continue  # damaged: fall back to an older snapshot and a longer replay
        if data.get("seq") == seq and exchange.state_hash() == data.get("hash"):
            return seq, exchange
    return None


def open_exchange(directory: str | os.PathLike[str],
                  fsync: FsyncPolicy = FsyncPolicy.ALWAYS) -> tuple[Exchange, Journal]:
    """Recover the exchange kept in ``directory``: newest snapshot plus the journal's tail.

    Returns the exchange and the journal, open for appending after the last
    whole record. Raises :class:`JournalError` if the journal does not reach
    back to the snapshot, :class:`ReplayError` if applying a record raises.
    """
    Path(directory).mkdir(parents=True, exist_ok=True)
    loaded = load_snapshot(directory)
    start, exchange = loaded if loaded else (0, Exchange())
    expected = start + 1
    for seq, command in replay(directory, after=start):
        if seq != expected:
            raise JournalError(f"journal resumes at {seq}, the snapshot needs {expected}")
        try:
            exchange.apply(command)
        except Exception as exc:
            raise ReplayError(seq, getattr(command, "kind", type(command).__name__),
                              exc) from exc
        expected += 1
    exchange.check()
    journal = Journal(directory, fsync)
    if journal.last_seq < start:
        raise JournalError(f"journal ends at {journal.last_seq}, before the snapshot {start}")
    return exchange, journal


class DurableExchange:
    """An exchange whose every command is journaled before it is applied."""

    def __init__(self, exchange: Exchange, journal: Journal, snapshot_every: int = 100_000,
                 check_every: int = 1_000) -> None:
        self.exchange = exchange
        self.journal = journal
        self.snapshot_every = snapshot_every
        self.check_every = check_every
        self._since_snapshot = 0
        self._since_check = 0

    @classmethod
    def open(cls, directory: str | os.PathLike[str],
             fsync: FsyncPolicy = FsyncPolicy.ALWAYS, snapshot_every: int = 100_000,
             check_every: int = 1_000) -> DurableExchange:
        """Recover from ``directory`` (:func:`open_exchange`) and wrap the result."""
        exchange, journal = open_exchange(directory, fsync)
        return cls(exchange, journal, snapshot_every, check_every)

    def submit(self, command: Command) -> list[Event]:
        """Journal then apply one command; its events."""
        return self.submit_many((command,))[0]

    def submit_many(self, commands: Sequence[Command] | Iterable[Command]) -> list[list[Event]]:
        """Journal a batch in one group commit, then apply each; the events of each."""
        batch = list(commands)
        self.journal.append_many(batch)
        apply = self.exchange.apply
        out = [apply(command) for command in batch]
        self._since_snapshot += len(batch)
        self._since_check += len(batch)
        if self.check_every and self._since_check >= self.check_every:
            self._since_check = 0
            self.exchange.check(full=False)
        if self.snapshot_every and self._since_snapshot >= self.snapshot_every:
            self.snapshot()
        return out

    def snapshot(self) -> Path:
        """Snapshot now, start a new journal segment, drop what the older snapshot covers."""
        self._since_snapshot = 0
        self.exchange.check()
        seq = self.journal.last_seq
        path = write_snapshot(self.journal.directory, seq, self.exchange)
        self.journal.rotate()
        older = [s for s, _ in snapshot_files(self.journal.directory) if s < seq]
        if older:
            keep = older[-1]  # the previous snapshot stays, with the journal after it
            self.journal.prune(keep)
            for s, file in snapshot_files(self.journal.directory):
                if s < keep:
                    file.unlink()
        return path

    def close(self) -> None:
        """Close the journal (syncing it unless the policy is NEVER)."""
        self.journal.close()

    def __enter__(self) -> DurableExchange:
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()
