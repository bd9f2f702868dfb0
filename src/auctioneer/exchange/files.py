"""Durable files: atomic replacement, directory fsync, and sequence-numbered file names.

The journal's segments, the snapshots and the scale-out checkpoints all need
the same two guarantees: a file written under its real name is whole (write
a temporary file, fsync, rename, fsync the directory), and files named
``<prefix><digits><suffix>`` list in numeric order.

Example:
    >>> import tempfile
    >>> d = Path(tempfile.mkdtemp())
    >>> _ = write_atomic(d / "snap-00000002.json", b"{}")
    >>> _ = write_atomic(d / "snap-00000010.json", b"{}")
    >>> [(n, p.name) for n, p in numbered_files(d, "snap-", ".json")]
    [(2, 'snap-00000002.json'), (10, 'snap-00000010.json')]
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

__all__ = ["numbered_files", "sync_directory", "write_atomic"]


def sync_directory(directory: str | os.PathLike[str]) -> None:
    """fsync ``directory`` itself, so the names created or renamed in it survive a crash."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomic(path: Path, data: bytes | Iterable[bytes]) -> Path:
    """Replace ``path`` with ``data`` (bytes, or pieces written one after another) so that a
    crash leaves the old file or the new one.

    Writes ``path`` with the suffix ``.tmp``, fsyncs it, renames it over
    ``path`` and fsyncs the directory. Returns ``path``.
    """
    tmp = path.with_suffix(".tmp")
    with open(tmp, "wb") as f:
        f.writelines([data] if isinstance(data, bytes) else data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    sync_directory(path.parent)
    return path


def numbered_files(directory: str | os.PathLike[str], prefix: str,
                   suffix: str) -> list[tuple[int, Path]]:
    """``(number, path)`` for each ``<prefix><digits><suffix>`` in ``directory``, in order."""
    found = []
    for path in Path(directory).glob(f"{prefix}*{suffix}"):
        digits = path.name[len(prefix):-len(suffix)]
        if digits.isdigit():
            found.append((int(digits), path))
    return sorted(found)
