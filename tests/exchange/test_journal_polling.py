"""The journal reader lists its directory only when a segment may have been added since."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from auctioneer.exchange import journal
from auctioneer.exchange.commands import Tick
from auctioneer.exchange.journal import FsyncPolicy, Journal, JournalReader


def _age(directory: Path, seconds: float) -> int:
    """Set the directory's mtime ``seconds`` back; that mtime."""
    mtime = time.time_ns() - int(seconds * 1e9)
    os.utime(directory, ns=(mtime, mtime))
    return mtime


def test_a_quiet_directory_is_not_listed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                         ) -> None:
    listings = []
    real = journal.segments
    monkeypatch.setattr(journal, "segments", lambda d: listings.append(d) or real(d))
    with Journal(tmp_path, FsyncPolicy.NEVER) as j, JournalReader(tmp_path) as reader:
        j.append_many([Tick(1)])
        assert [seq for seq, _ in reader.poll()] == [1]
        _age(tmp_path, 10)
        reader.poll()  # the mtime moved since the last listing: listed once more
        listings.clear()
        for ts in range(2, 12):
            j.append_many([Tick(ts)])
            assert [seq for seq, _ in reader.poll()] == [ts]
        assert listings == []


def test_a_segment_added_in_the_listing_tick_is_found(tmp_path: Path) -> None:
    """A file system whose clock did not tick between the listing and the new segment leaves
    the mtime as the reader saw it: a recent mtime is listed again at every poll."""
    with Journal(tmp_path, FsyncPolicy.NEVER) as j, JournalReader(tmp_path) as reader:
        j.append_many([Tick(1)])
        seen = _age(tmp_path, 0.01)
        assert [seq for seq, _ in reader.poll()] == [1]
        j.rotate()
        j.append_many([Tick(2)])
        os.utime(tmp_path, ns=(seen, seen))  # the same tick as the listing
        assert [seq for seq, _ in reader.poll()] == [2]
