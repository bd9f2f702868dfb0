"""The follower process: it dies with its parent (even waiting for the lock), and tables
ahead of the journal are rebuilt in place, never dropped."""

from __future__ import annotations

import fcntl
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import select

from auctioneer.exchange.commands import Command, Deposit, OpenAccount
from auctioneer.exchange.journal import FsyncPolicy, Journal
from auctioneer.exchange.model import Role
from auctioneer.service.follower import catch_up
from auctioneer.service.store import accounts, connect, fetch, projected_seq

_PARENT = """
import sys, time
from pathlib import Path
from auctioneer.service.follower import Follower
follower = Follower(Path(sys.argv[1]), sys.argv[2])
follower.start()
print(follower.process.pid, flush=True)
time.sleep(60)
"""


def _journal(directory: Path, commands: list[Command]) -> None:
    with Journal(directory, FsyncPolicy.NEVER) as journal:
        journal.append_many(commands)


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def test_the_follower_dies_with_its_parent(tmp_path: Path) -> None:
    """Even blocked on ``projection.lock`` (behind another follower) it goes at once."""
    journal_dir = tmp_path / "journal"
    journal_dir.mkdir()
    with open(journal_dir / "projection.lock", "wb") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        with subprocess.Popen([sys.executable, "-c", _PARENT, str(journal_dir),
                               f"sqlite:///{tmp_path / 'tables.sqlite'}"],
                              stdout=subprocess.PIPE) as parent:
            try:
                assert parent.stdout is not None
                pid = int(parent.stdout.readline())
                assert _running(pid)
            finally:
                parent.kill()
        deadline = time.monotonic() + 20
        while _running(pid) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert not _running(pid)


def test_tables_ahead_of_the_journal_are_rebuilt_in_place(tmp_path: Path) -> None:
    db = connect(f"sqlite:///{tmp_path / 'tables.sqlite'}")
    other, mine = tmp_path / "other", tmp_path / "mine"
    _journal(other, [OpenAccount("x", Role.TRADER, 1), Deposit("x", 5, 2), Deposit("x", 6, 3)])
    _journal(mine, [OpenAccount("y", Role.TRADER, 1), Deposit("y", 7, 2)])
    source, projector = catch_up(other, db)
    projector.project_changes(*source.poll())
    source.close()
    assert projected_seq(db) == 3
    source, projector = catch_up(mine, db)
    assert projected_seq(db) == 2
    assert [tuple(r) for r in fetch(db, select(accounts.c.id, accounts.c.balance))] == [("y", 7)]
    assert source.exchange.account("y").balance == 7
    # The replica continues: a record appended later is projected on top.
    _journal(mine, [Deposit("y", 1, 3)])
    projector.project_changes(*source.poll())
    assert projector.balance("y") == 8
    source.close()
    db.dispose()
