"""Snapshots, recovery and a durable exchange: journal first, then apply.

A snapshot file ``snapshot-<seq>.json`` holds the exchange's
:meth:`~auctioneer.exchange.Exchange.snapshot` after command ``seq``, its
state hash and the sequence number; it is written to a temporary file,
fsynced and renamed, so a crash never leaves a half snapshot under the real
name. :func:`open_exchange` loads the newest snapshot whose hash verifies
and replays only the journal records after it: snapshots bound replay time.
Both run the engine :func:`~auctioneer.exchange.native.engine` picks (the native
one unless ``AUCTIONEER_ENGINE=python``).

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

from auctioneer.exchange import _engine
from auctioneer.exchange.closing import Closing
from auctioneer.exchange.commands import Command
from auctioneer.exchange.engine import Exchange
from auctioneer.exchange.events import Event
from auctioneer.exchange.files import numbered_files, write_atomic
from auctioneer.exchange.journal import (
    FsyncPolicy,
    Journal,
    JournalError,
    JournalReader,
)
from auctioneer.exchange.native import NativeExchange, engine
from auctioneer.exchange.snapshot import (
    SNAPSHOT_VERSION,
    Saved,
    canonical_json,
    decode_saved,
    digest_of,
    saved_of,
    saved_pieces,
    upgraded,
)

__all__ = [
    "DurableExchange",
    "ReplayError",
    "load_snapshot",
    "open_exchange",
    "restore_saved",
    "snapshot_and_prune",
    "snapshot_files",
    "split_saved",
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
    state = exchange.snapshot_pieces()  # encoded once: hashed, then written as it is
    data = saved_pieces(seq, digest_of(state), state)
    return write_atomic(Path(directory) / f"{_PREFIX}{seq:020d}{_SUFFIX}", data)


Spans = tuple[bytes, tuple[int, int], tuple[int, int]]
"""A saved file's bytes, and where in them its state's open orders and used ids are."""


def split_saved(data: bytes) -> tuple[Saved, Spans] | None:
    """What :func:`~auctioneer.exchange.snapshot.decode_saved` reads from ``data``, but for the
    state's open orders and used ids, which the native engine reads from ``data`` itself
    (:meth:`~auctioneer.exchange.native.NativeExchange.restore_parts`): the state without
    them, and where they are. None unless ``data`` is canonical JSON of the current version
    (``decode_saved`` reads any form); ValueError when a part is not JSON."""
    top = _engine.spans(data, 0, len(data))
    parts = None if top is None or "state" not in top else _engine.spans(data, *top["state"])
    if top is None or parts is None or not {"orders", "used_ids", "version"} <= parts.keys():
        return None
    orders, used = parts.pop("orders"), parts.pop("used_ids")
    state = {key: json.loads(data[a:b]) for key, (a, b) in parts.items()}
    if state["version"] != SNAPSHOT_VERSION:
        return None
    body = {key: json.loads(data[a:b]) for key, (a, b) in top.items() if key != "state"}
    return saved_of({**body, "state": state}), (data, orders, used)


def restore_saved(saved: Saved, engine_class: type[Exchange] | None = None,
                  spans: Spans | None = None) -> Exchange:
    """The exchange ``saved`` holds (run by ``engine_class``, default
    :func:`~auctioneer.exchange.native.engine`'s pick); ValueError (naming its ``seq``) when
    it does not restore to its recorded hash, or is malformed. With ``spans``, ``saved`` is
    what :func:`split_saved` split off them."""
    try:
        exchange, want = _restored(saved, engine_class or engine(), spans)
        # Hashing walks the whole state: a value of the wrong type fails here, if not before.
        digest = exchange.state_hash()
    except (LookupError, TypeError, ValueError, AttributeError, OverflowError) as exc:
        # OverflowError: an int past 64 bits where C takes one (a price of 2**64, say)
        raise ValueError(f"the state saved at {saved.seq} does not restore: {exc!r}") from None
    if digest != want:
        raise ValueError(f"the state saved at {saved.seq} restores to a different state hash")
    return exchange


def _restored(saved: Saved, engine_class: type[Exchange], spans: Spans | None
              ) -> tuple[Exchange, str]:
    """The exchange ``saved`` holds, and the state hash it must have."""
    state, want = saved.state, saved.state_hash
    if spans is not None:
        if issubclass(engine_class, NativeExchange):
            exchange = engine_class.restore_parts(state, *spans)
            if exchange is not None:
                return exchange, want
        state = decode_saved(spans[0]).state  # C does not take its parts: read it whole
    if state.get("version") != SNAPSHOT_VERSION:  # an older form: checked as it was written
        if hashlib.sha256(canonical_json(state)).hexdigest() != want:
            raise ValueError("its state hash is not that of the state it holds")
        state = upgraded(state)
        want = hashlib.sha256(canonical_json(state)).hexdigest()
    return engine_class.restore(state), want


def load_snapshot(directory: str | os.PathLike[str], upto: int | None = None,
                  engine_class: type[Exchange] | None = None) -> tuple[int, Exchange] | None:
    """``(seq, exchange)`` from the newest snapshot (not after ``upto``, when given) that
    verifies; None if there is none. A damaged one is passed over for an older one, and a
    longer replay. The native engine reads the open orders and used ids in C
    (:func:`split_saved`)."""
    run = engine_class or engine()
    native = issubclass(run, NativeExchange)
    for seq, path in reversed(snapshot_files(directory)):
        if upto is not None and seq > upto:
            continue
        try:
            data = path.read_bytes()
            split = split_saved(data) if native else None
            saved = decode_saved(data) if split is None else split[0]
            if saved.seq != seq:
                continue  # renamed or copied: its name and its content disagree
            return seq, restore_saved(saved, run, None if split is None else split[1])
        except (OSError, ValueError):
            continue
    return None


def open_exchange(directory: str | os.PathLike[str],
                  fsync: FsyncPolicy = FsyncPolicy.ALWAYS,
                  engine_class: type[Exchange] | None = None) -> tuple[Exchange, Journal]:
    """Recover the exchange kept in ``directory``: newest snapshot plus the journal's tail.

    ``engine_class`` runs it (default: :func:`~auctioneer.exchange.native.engine`'s pick).

    Returns the exchange and the journal, open for appending after the last
    whole record. Raises :class:`JournalError` if the journal does not reach
    back to the snapshot, :class:`ReplayError` if applying a record raises.
    """
    Path(directory).mkdir(parents=True, exist_ok=True)
    loaded = load_snapshot(directory, engine_class=engine_class)
    start, exchange = loaded if loaded else (0, (engine_class or engine())())
    # The native engine applies the records it takes straight from the journal's bytes.
    bulk = exchange.replay_bytes if isinstance(exchange, NativeExchange) else None
    with JournalReader(directory, start, bulk, exclusive=True) as reader:
        for seq, command in reader.records():
            try:
                exchange.apply(command)
            except Exception as exc:
                raise ReplayError(seq, getattr(command, "kind", type(command).__name__),
                                  exc) from exc
        tail = reader.tail()  # what it read and checked, so the journal opens without again
    exchange.check()
    journal = Journal(directory, fsync, tail=tail)
    if journal.last_seq < start:
        raise JournalError(f"journal ends at {journal.last_seq}, before the snapshot {start}")
    return exchange, journal


def snapshot_and_prune(exchange: Exchange, journal: Journal, keep_upto: int | None) -> Path:
    """Check ``exchange``'s invariants, snapshot it after the journal's last record and start a
    new segment; then delete the segments and snapshots older than the newest snapshot at or
    before ``keep_upto`` (None keeps everything). Returns the new snapshot.

    Recovery needs the newest snapshot and the journal after it; a reader that
    restarts from an older one (the SQL follower) passes how far it got.
    """
    exchange.check()
    directory = journal.directory
    path = write_snapshot(directory, journal.last_seq, exchange)
    journal.rotate()
    if keep_upto is None:
        return path
    keep = max((seq for seq, _ in snapshot_files(directory) if seq <= keep_upto), default=0)
    if keep:
        journal.prune(keep)
        for seq, file in snapshot_files(directory):
            if seq < keep:
                file.unlink()
    return path


class DurableExchange(Closing):
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

    def submit(self, command: Command) -> Sequence[Event]:
        """Journal then apply one command; its events."""
        return self.submit_many((command,))[0]

    def submit_many(self, commands: Sequence[Command] | Iterable[Command]
                    ) -> list[Sequence[Event]]:
        """Journal a batch in one group commit, then apply each; the events of each."""
        batch = list(commands)
        self.journal.append_many(batch)
        out = self.exchange.apply_many(batch)
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
        # The previous snapshot stays, with the journal after it.
        return snapshot_and_prune(self.exchange, self.journal, self.journal.last_seq - 1)

    def close(self) -> None:
        """Close the journal (syncing it unless the policy is NEVER)."""
        self.journal.close()

