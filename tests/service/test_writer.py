"""The journal's writer thread: each group is appended, in order, before its future is done;
what the journal raises reaches the awaiting sequencer (which then stops); close ends the
thread; and a sequencer's journal error fails the group and every later submit."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest

from auctioneer.exchange.commands import Command, Deposit, OpenAccount
from auctioneer.exchange.engine import Exchange
from auctioneer.exchange.journal import FsyncPolicy, Journal, replay
from auctioneer.exchange.model import Role
from auctioneer.service.broadcast import Hub
from auctioneer.service.sequencer import Sequencer, SequencerStopped, stamped
from auctioneer.service.writer import JournalWriter


def test_groups_are_written_in_order_before_they_are_done(tmp_path: Path) -> None:
    async def run() -> list[int]:
        journal = Journal(tmp_path, FsyncPolicy.ALWAYS)
        writer = JournalWriter(journal)
        seqs = []
        for group in range(3):
            await writer.append([Deposit("a", group * 10 + k + 1) for k in range(group + 1)])
            seqs.append(journal.last_seq)
        writer.close()
        journal.close()
        assert not any(t.name == "journal-writer" for t in threading.enumerate())
        return seqs

    assert asyncio.run(run()) == [1, 3, 6]
    deposits = [c for _, c in replay(tmp_path) if isinstance(c, Deposit)]
    assert [c.amount for c in deposits] == [1, 11, 12, 21, 22, 23]


class _Broken(Journal):
    def append_many(self, commands: object) -> list[int]:
        raise OSError(28, "No space left on device")


def test_a_journal_error_reaches_the_awaiting_caller_and_stops_the_sequencer(
        tmp_path: Path) -> None:
    async def run() -> None:
        journal = _Broken(tmp_path, FsyncPolicy.ALWAYS)
        writer = JournalWriter(journal)
        with pytest.raises(OSError, match="No space left"):
            await writer.append([Deposit("a", 1)])
        writer.close()
        sequencer = Sequencer(Exchange(), journal, Hub(), 10**6, None)
        sequencer.start()
        with pytest.raises(SequencerStopped, match="No space left"):
            await sequencer.submit([stamped(OpenAccount, "a", Role.TRADER)])
        with pytest.raises(SequencerStopped, match="not accepting"):
            await sequencer.submit([stamped(Deposit, "a", 5)])
        await sequencer.stop()
        journal.close()

    asyncio.run(run())
    assert list(replay(tmp_path)) == []


def test_a_sequencer_stop_writes_what_is_queued_and_ends_the_thread(tmp_path: Path) -> None:
    async def run() -> None:
        journal = Journal(tmp_path, FsyncPolicy.NEVER)
        sequencer = Sequencer(Exchange(), journal, Hub(), 10**6, None)
        sequencer.start()
        opened = asyncio.ensure_future(sequencer.submit([stamped(OpenAccount, "a",
                                                                 Role.TRADER)]))
        await asyncio.sleep(0)
        await sequencer.stop()
        journal.close()
        assert len(await opened) == 1
        assert not any(t.name == "journal-writer" for t in threading.enumerate())

    asyncio.run(run())
    commands: list[Command] = [c for _, c in replay(tmp_path)]
    assert [type(c) for c in commands] == [OpenAccount]
