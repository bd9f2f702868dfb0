"""The command journal: an append-only, checksummed, sequenced log in rotating segments.

A journal is a directory of segment files ``journal-<first seq>.log``. Each
record is a 16-byte header -- payload length (u32), CRC-32 of the sequence
number and payload (u32), sequence number (u64), little-endian -- followed by
the payload, the command's canonical JSON (:func:`~auctioneer.exchange.codec.encode_command_json`).
Sequence numbers start at 1 and rise by one across segments.

**Group commit**: :meth:`Journal.append_many` writes a batch in one ``write``
and makes it durable with one ``fsync``. **Fsync policy**
(:class:`FsyncPolicy`): every append reaches the operating system before it
returns (the file is unbuffered), so a killed process loses nothing it was
told was written; the policy decides what a power failure may lose:
ALWAYS -- nothing (fsync per append call); BATCH -- the appends of about the
last ``batch_ms`` (an append fsyncs when that long has passed since the last
fsync, and otherwise a timer thread fsyncs ``batch_ms`` after it, so the last
group before a quiet spell waits no longer; and on close); NEVER -- whatever
the OS had not yet flushed.

**Torn tails**: a crash mid-write leaves a short or mis-checksummed final
record. :func:`replay` stops before it, and opening a :class:`Journal`
truncates it away; damage followed by more data is corruption and raises
:class:`JournalError`.

Example:
    >>> import tempfile
    >>> from auctioneer.exchange.commands import Deposit, Tick
    >>> d = tempfile.mkdtemp()
    >>> with Journal(d, FsyncPolicy.NEVER) as j:
    ...     j.append_many([Deposit("a", 5), Tick(10)])
    [1, 2]
    >>> [(seq, cmd.kind) for seq, cmd in replay(d)]
    [(1, 'deposit'), (2, 'tick')]
"""

from __future__ import annotations

import enum
import mmap
import os
import struct
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from auctioneer.exchange._engine import place_records, scan
from auctioneer.exchange.closing import Closing
from auctioneer.exchange.codec import CommandError, decode_command_json, encode_command_json
from auctioneer.exchange.commands import Command
from auctioneer.exchange.files import numbered_files, sync_directory

__all__ = [
    "FsyncPolicy",
    "Journal",
    "JournalError",
    "JournalReader",
    "Segment",
    "Tail",
    "encode_record",
    "replay",
    "segments",
]

_HEADER = struct.Struct("<IIQ")
_SEQ = struct.Struct("<Q")
_MAX_RECORD = 1 << 24
Segment = bytes | mmap.mmap
"""A segment's bytes as a reader holds them: read, or mapped (see :class:`JournalReader`)."""
Bulk = Callable[[Segment, int, int], tuple[int, int]]
"""What applies records in bulk for a reader: ``(data, pos, last_seq) -> (pos, last_seq)``."""
_PREFIX, _SUFFIX = "journal-", ".log"
_SETTLE_NS = 1_000_000_000
"""How long after a directory's mtime a reader lists it at every poll (see
:meth:`JournalReader._listing_due`): far longer than any file system's timestamp tick."""


class FsyncPolicy(enum.Enum):
    """When appended records are forced to disk (see the module docstring)."""

    ALWAYS = "always"
    BATCH = "batch"
    """Appends are on disk at most ``batch_ms`` (plus one fsync's time) after they return."""
    NEVER = "never"


class JournalError(RuntimeError):
    """The journal is damaged other than by a torn final record, or out of sequence."""


def encode_record(seq: int, command: Command) -> bytes:
    """One journal record: header then the command's canonical JSON.

    Example:
        >>> from auctioneer.exchange.commands import Tick
        >>> encode_record(7, Tick(5))[16:]
        b'{"ts_ns":5,"type":"tick"}'
    """
    payload = encode_command_json(command)
    crc = zlib.crc32(payload, zlib.crc32(_SEQ.pack(seq)))
    return _HEADER.pack(len(payload), crc, seq) + payload


def segments(directory: str | os.PathLike[str]) -> list[Path]:
    """The segment files of the journal in ``directory``, oldest first."""
    return [path for _, path in numbered_files(directory, _PREFIX, _SUFFIX)]


def _scan(data: Segment, name: str, pos: int = 0) -> Iterator[tuple[int, int, bytes]]:
    """``(seq, end offset, payload)`` per whole record from offset ``pos`` on; stops at a torn
    tail (a short or mis-checksummed final record); raises :class:`JournalError` on damage
    before the end."""
    size = len(data)
    while pos < size:
        if size - pos < _HEADER.size:
            return  # torn header
        length, crc, seq = _HEADER.unpack_from(data, pos)
        end = pos + _HEADER.size + length
        if length > _MAX_RECORD:
            raise JournalError(f"{name}: record at byte {pos} claims {length} bytes")
        if end > size:
            return  # torn payload
        payload = data[pos + _HEADER.size:end]
        if zlib.crc32(payload, zlib.crc32(_SEQ.pack(seq))) != crc:
            if end == size:
                return  # the final record was not completely written (or is being written)
            raise JournalError(f"{name}: checksum mismatch in the record at byte {pos}")
        yield seq, end, payload
        pos = end


class JournalReader(Closing):
    """The journal's records after ``after``, read incrementally as the journal grows.

    ``path`` is a journal directory or one segment file. Each :meth:`poll`
    reads from where the last one stopped (by file offset) to the last whole
    record, across segment rotations; a record not yet completely written
    waits for the next poll. Every record's sequence number must follow the
    one before it, and the first one returned must be ``after + 1``;
    damage other than a torn tail raises :class:`JournalError`. Recovery
    (:func:`replay`), the journal's own opening and the SQL follower all
    read through it.

    ``bulk(data, pos, last_seq) -> (pos, last_seq)``, when given, applies
    records itself before each one the reader would decode: the whole ones
    from offset ``pos`` of a segment's bytes that follow ``last_seq`` and that
    it takes (the native engine's
    :meth:`~auctioneer.exchange.native.NativeExchange.replay_bytes`); the
    reader never returns those and goes on where it stopped.

    ``exclusive`` says that nothing writes the journal while this reader reads it
    (recovery, before the journal opens for appending): each segment is then mapped
    (``mmap``), not read into a copy. Copying the bench's 21 MB segment cost a fresh
    buffer's page faults and the copy, 4-20 ms of a 50 ms recovery. A reader beside a
    writer copies, since a writer that reopens the journal truncates its torn tail and a
    mapped page past the new end would fault (SIGBUS) when read.
    """

    def __init__(self, path: str | os.PathLike[str], after: int = 0,
                 bulk: Bulk | None = None, exclusive: bool = False) -> None:
        self.path = Path(path)
        self._bulk = bulk
        self._exclusive = exclusive
        self.last_seq = after
        self._previous: int | None = None  # the last record seen, returned or not
        self._current: Path | None = None
        self._file: IO[bytes] | None = None
        self._data: Segment = b""  # the current segment's bytes from the last whole record on
        self._base = 0  # where in the segment _data starts
        self._offset = 0  # how much of it is consumed
        self._listed = -1  # the directory's mtime when it was last listed

    def _next_path(self) -> Path | None:
        """The segment after the current one (or the first), if it exists."""
        if not self._listing_due():
            return None
        if not self.path.is_dir():
            return self.path if self._current is None else None
        files = segments(self.path)
        if self._current is not None:
            files = [f for f in files if f.name > self._current.name]
        return files[0] if files else None

    def _listing_due(self) -> bool:
        """Whether a segment may have been added since the directory was last listed: its
        mtime moved, or was less than :data:`_SETTLE_NS` old then.

        A poll that lists the directory cost 34 us, several times what a poll with nothing
        new costs else, and segments are added once per snapshot. Timestamps come from a
        clock that may tick only every few ms, so a segment added in the same tick as the
        listing leaves the mtime as it was: while it is that recent, every poll lists.
        """
        if self._current is None:
            return True
        try:
            mtime = os.stat(self.path).st_mtime_ns
        except FileNotFoundError:
            return True  # the reader's own checks say what is missing
        due = mtime != self._listed or time.time_ns() - mtime < _SETTLE_NS
        self._listed = mtime
        return due

    def _switch(self, path: Path) -> None:
        if self._file is not None:
            if self._offset < len(self._data):  # a segment is complete once a newer one exists
                raise JournalError(f"{self._current.name if self._current else ''}: "
                                   "torn record before a later segment")
            self._file.close()
        self._release()
        self._current = path
        self._file = open(path, "rb")  # noqa: SIM115 - held open while reading
        self._data, self._base, self._offset = b"", 0, 0

    def _release(self) -> None:
        if isinstance(self._data, mmap.mmap):
            self._data.close()
        self._data = b""

    def _read(self) -> Iterator[tuple[int, Command]]:
        assert self._file is not None and self._current is not None
        self._base += self._offset
        size = os.fstat(self._file.fileno()).st_size if self._exclusive and not self._base else 0
        data: Segment
        if size:
            # The whole segment, mapped at its size now; a later read goes on from there.
            data = mmap.mmap(self._file.fileno(), size, access=mmap.ACCESS_READ)
            self._file.seek(size)
        else:
            data = self._data[self._offset:] + self._file.read()
        self._release()
        self._data = data
        self._offset = 0
        bulk, name = self._bulk, self._current.name
        while True:
            # The records a reader skips (up to last_seq) pass the same checks in C.
            skipped, passed = scan(data, self._offset,
                                   -1 if self._previous is None else self._previous,
                                   self.last_seq)
            if skipped != self._offset:
                self._offset, self._previous = skipped, passed
            if bulk is not None and self._previous in (None, self.last_seq):
                end, last = bulk(data, self._offset, self.last_seq)
                if end != self._offset:
                    self._offset, self._previous, self.last_seq = end, last, last
            record = next(_scan(data, name, self._offset), None)
            if record is None:
                return
            seq, end, payload = record
            self._offset = end  # kept per record: a reader may stop between records
            previous = self._previous
            if previous is not None and seq != previous + 1:
                raise JournalError(f"{name}: sequence {seq} follows {previous}")
            self._previous = seq
            if seq > self.last_seq:
                if seq != self.last_seq + 1:
                    raise JournalError(f"journal resumes at {seq}, after {self.last_seq} "
                                       f"{self.last_seq + 1} was needed")
                self.last_seq = seq
                try:
                    command = decode_command_json(payload)
                except CommandError as exc:  # checksummed, so written so: not a torn tail
                    raise JournalError(f"{name}: record {seq} is not a "
                                       f"command: {exc}") from None
                yield seq, command

    def records(self) -> Iterator[tuple[int, Command]]:
        """The whole records appended since the last read, in order, one segment in memory
        at a time."""
        if self._file is None:
            first = self._next_path()
            if first is None:
                return
            self._switch(first)
        yield from self._read()
        # A newer segment exists only once the current one is complete: read the current
        # one to its end once more (it may have grown since), then move on.
        while (following := self._next_path()) is not None:
            yield from self._read()
            self._switch(following)
            yield from self._read()

    def poll(self) -> list[tuple[int, Command]]:
        """The whole records appended since the last call, in order."""
        return list(self.records())

    def tail(self) -> Tail | None:
        """Where this reader stopped, once :meth:`records` has read the whole journal
        directory: the newest segment and the end of its last whole record; None before."""
        if self._current is None or self._next_path() is not None or not self.path.is_dir():
            return None
        end = self._base + self._offset
        return Tail(self._current, end, self._previous if end else None)

    def close(self) -> None:
        """Close the open segment."""
        if self._file is not None:
            self._file.close()
        self._release()



def replay(path: str | os.PathLike[str], after: int = 0, bulk: Bulk | None = None
           ) -> Iterator[tuple[int, Command]]:
    """``(seq, command)`` for every whole record with ``seq > after``, in order (but those
    ``bulk`` applied, as :class:`JournalReader` says).

    ``path`` is a journal directory or one segment file. A torn final record
    of the last segment is skipped; other damage raises :class:`JournalError`
    (:class:`JournalReader` reads it).
    """
    with JournalReader(path, after, bulk) as reader:
        yield from reader.records()


@dataclass(frozen=True, slots=True)
class Tail:
    """Where a :class:`JournalReader` that read a whole journal stopped: its newest segment,
    the end of the last whole record there, and that record's sequence number (None when
    the segment holds none)."""

    segment: Path
    end: int
    last_seq: int | None


class Journal(Closing):
    """Appends commands to the journal in ``directory`` (created if missing).

    Opening finds the last sequence number and cuts off a torn tail. Given the
    :class:`Tail` of a reader that has just read the whole journal (recovery's
    replay), it trusts that reader's checks instead of reading everything again.
    """

    def __init__(self, directory: str | os.PathLike[str],
                 fsync: FsyncPolicy = FsyncPolicy.ALWAYS, batch_ms: float = 10.0,
                 tail: Tail | None = None) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.fsync = fsync
        self.batch_ms = batch_ms
        self._last_sync = time.monotonic()
        self._dirty = False
        # The BATCH timer fsyncs from its own thread: the lock orders it with appends,
        # rotation and close (an fsync between a write and its dirty mark would be lost).
        self._lock = threading.Lock()
        self._timer: threading.Timer | None = None
        self.last_seq = 0
        files = segments(self.directory)
        if files and (tail is None or tail.segment != files[-1]):
            with JournalReader(self.directory, after=2**63, exclusive=True) as reader:
                reader.poll()  # checks checksums and sequence; nothing is past 2**63
                tail = reader.tail()
        if files:
            assert tail is not None and tail.segment == files[-1]
            self.last_seq = self._recover_tail(tail)
        path = files[-1] if files else self._segment_path(1)
        self._file = open(path, "ab", buffering=0)  # noqa: SIM115 - held open for appends
        if not files:
            sync_directory(self.directory)

    def _segment_path(self, first_seq: int) -> Path:
        return self.directory / f"{_PREFIX}{first_seq:020d}{_SUFFIX}"

    def _recover_tail(self, tail: Tail) -> int:
        """Cut the torn record after ``tail`` (the reader stopped before it); the last
        sequence number."""
        last_file = tail.segment
        if last_file.stat().st_size != tail.end:
            with open(last_file, "r+b") as f:
                f.truncate(tail.end)
                os.fsync(f.fileno())
        if tail.last_seq is None:
            first = int(last_file.name[len(_PREFIX):-len(_SUFFIX)])
            return first - 1
        return tail.last_seq

    def append(self, command: Command) -> int:
        """Append one command; return its sequence number."""
        return self.append_many((command,))[0]

    def append_many(self, commands: Iterable[Command]) -> list[int]:
        """Append a batch with one write and (policy permitting) one fsync; their seqs."""
        batch = commands if isinstance(commands, list) else list(commands)
        first = self.last_seq + 1
        chunks = []
        i = 0
        while i < len(batch):
            # A run of orders is written in C (place_records: the same bytes), the rest here.
            records, stop = place_records(batch, i, first + i)
            if stop == i:
                records, stop = encode_record(first + i, batch[i]), i + 1
            chunks.append(records)
            i = stop
        seqs = list(range(first, first + len(batch)))
        if not chunks:
            return seqs
        seq = seqs[-1]
        data = b"".join(chunks)
        with self._lock:
            written = self._file.write(data)
            while written is not None and written < len(data):  # pragma: no cover - rare
                data = data[written:]
                written = self._file.write(data)
            self.last_seq = seq
            self._dirty = True
            policy = self.fsync
            if policy is FsyncPolicy.ALWAYS:
                self._sync()
            elif policy is FsyncPolicy.BATCH:
                wait = self.batch_ms / 1000 - (time.monotonic() - self._last_sync)
                if wait <= 0:
                    self._sync()
                elif self._timer is None:  # the group after this one may never come
                    self._timer = threading.Timer(wait, self._on_timer)
                    self._timer.daemon = True
                    self._timer.start()
        return seqs

    def _on_timer(self) -> None:
        with self._lock:
            self._timer = None
            if not self._file.closed:
                self._sync()

    def _sync(self) -> None:
        """:meth:`sync`, the lock held."""
        if self._dirty:
            os.fsync(self._file.fileno())
            self._dirty = False
        self._last_sync = time.monotonic()

    def sync(self) -> None:
        """Force what was appended to disk now."""
        with self._lock:
            self._sync()

    def rotate(self) -> Path:
        """Start a new segment at the next sequence number; return its path."""
        with self._lock:
            self._sync()
            self._file.close()
            path = self._segment_path(self.last_seq + 1)
            self._file = open(path, "ab", buffering=0)  # noqa: SIM115 - held open for appends
        sync_directory(self.directory)
        return path

    def prune(self, upto_seq: int) -> list[Path]:
        """Delete the segments holding only records ``<= upto_seq``; return them."""
        files = segments(self.directory)
        gone = []
        for file, following in zip(files, files[1:], strict=False):
            first_next = int(following.name[len(_PREFIX):-len(_SUFFIX)])
            if first_next - 1 <= upto_seq:
                file.unlink()
                gone.append(file)
        return gone

    def close(self) -> None:
        """Sync (unless the policy is NEVER) and close."""
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            if not self._file.closed:
                if self.fsync is not FsyncPolicy.NEVER:
                    self._sync()
                self._file.close()

