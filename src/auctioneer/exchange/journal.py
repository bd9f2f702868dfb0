"""The command journal: an append-only, checksummed, sequenced log in rotating segments.

A journal is a directory of segment files ``journal-<first seq>.log``. Each
record is a 16-byte header -- payload length (u32), CRC-32 of the sequence
number and payload (u32), sequence number (u64), little-endian -- followed by
the payload, the command's canonical JSON (:func:`~auctioneer.exchange.codec.encode_command`).
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
import json
import os
import struct
import threading
import time
import zlib
from collections.abc import Iterable, Iterator
from pathlib import Path
from types import TracebackType

from auctioneer.exchange.codec import decode_command, encode_command
from auctioneer.exchange.commands import Command
from auctioneer.exchange.files import numbered_files, sync_directory

__all__ = [
    "FsyncPolicy",
    "Journal",
    "JournalError",
    "encode_record",
    "replay",
    "segments",
]

_HEADER = struct.Struct("<IIQ")
_SEQ = struct.Struct("<Q")
_MAX_RECORD = 1 << 24
_PREFIX, _SUFFIX = "journal-", ".log"
# One encoder for every record (``json.dumps`` with options builds one per call); no
# ``sort_keys``, as ``encode_command`` already returns its keys in sorted order.
_JSON = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


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
    payload = _JSON(encode_command(command)).encode()
    crc = zlib.crc32(payload, zlib.crc32(_SEQ.pack(seq)))
    return _HEADER.pack(len(payload), crc, seq) + payload


def segments(directory: str | os.PathLike[str]) -> list[Path]:
    """The segment files of the journal in ``directory``, oldest first."""
    return [path for _, path in numbered_files(directory, _PREFIX, _SUFFIX)]


def _scan(data: bytes, name: str) -> Iterator[tuple[int, int, bytes]]:
    """``(seq, end offset, payload)`` per whole record; stops at a torn tail."""
    pos, size = 0, len(data)
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
                return  # the final record was not completely written
            raise JournalError(f"{name}: checksum mismatch in the record at byte {pos}")
        yield seq, end, payload
        pos = end


def replay(path: str | os.PathLike[str], after: int = 0) -> Iterator[tuple[int, Command]]:
    """``(seq, command)`` for every whole record with ``seq > after``, in order.

    ``path`` is a journal directory or one segment file. A torn final record
    of the last segment is skipped; other damage raises :class:`JournalError`.
    """
    files = segments(path) if Path(path).is_dir() else [Path(path)]
    expected = None
    for i, file in enumerate(files):
        data = file.read_bytes()
        last = i == len(files) - 1
        end = 0
        for seq, record_end, payload in _scan(data, file.name):
            end = record_end
            if expected is not None and seq != expected:
                raise JournalError(f"{file.name}: sequence {seq} follows {expected - 1}")
            expected = seq + 1
            if seq > after:
                yield seq, decode_command(json.loads(payload))
        if end != len(data) and not last:
            raise JournalError(f"{file.name}: torn record before a later segment")


class Journal:
    """Appends commands to the journal in ``directory`` (created if missing).

    Opening finds the last sequence number and cuts off a torn tail.
    """

    def __init__(self, directory: str | os.PathLike[str],
                 fsync: FsyncPolicy = FsyncPolicy.ALWAYS, batch_ms: float = 10.0) -> None:
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
        if files:
            for _ in replay(self.directory, after=2**63):  # checks checksums and sequence
                pass  # pragma: no cover - nothing is past 2**63
            self.last_seq = self._recover_tail(files[-1])
        path = files[-1] if files else self._segment_path(1)
        self._file = open(path, "ab", buffering=0)  # noqa: SIM115 - held open for appends
        if not files:
            sync_directory(self.directory)

    def _segment_path(self, first_seq: int) -> Path:
        return self.directory / f"{_PREFIX}{first_seq:020d}{_SUFFIX}"

    def _recover_tail(self, last_file: Path) -> int:
        data = last_file.read_bytes()
        end, last = 0, 0
        for seq, record_end, _ in _scan(data, last_file.name):
            end, last = record_end, seq
        if end != len(data):
            with open(last_file, "r+b") as f:
                f.truncate(end)
                os.fsync(f.fileno())
        if not last:
            first = int(last_file.name[len(_PREFIX):-len(_SUFFIX)])
            return first - 1
        return last

    def append(self, command: Command) -> int:
        """Append one command; return its sequence number."""
        return self.append_many((command,))[0]

    def append_many(self, commands: Iterable[Command]) -> list[int]:
        """Append a batch with one write and (policy permitting) one fsync; their seqs."""
        seq = self.last_seq
        chunks = []
        seqs = []
        for command in commands:
            seq += 1
            chunks.append(encode_record(seq, command))
            seqs.append(seq)
        if not chunks:
            return seqs
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

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()
