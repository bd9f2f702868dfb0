"""The sequencer stamps at submission: the journal is in stamp order, a refused build queues
nothing, and its stamps are never reused."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from auctioneer.exchange.commands import Command, Deposit, OpenAccount, Tick
from auctioneer.exchange.engine import Exchange
from auctioneer.exchange.journal import FsyncPolicy, Journal, replay
from auctioneer.exchange.model import Role
from auctioneer.service.broadcast import Hub
from auctioneer.service.sequencer import Sequencer, stamped


class Refused(Exception):
    pass


def test_stamps_follow_submission_order(tmp_path: Path) -> None:
    # A clock that stands still (and once goes back): every stamp is the last one plus one.
    readings = iter([100, 100, 50, 100])

    async def run() -> list[int]:
        journal = Journal(tmp_path, FsyncPolicy.NEVER)
        sequencer = Sequencer(Exchange(), journal, Hub(), 10**6, None,
                              clock=lambda: next(readings))
        sequencer.start()
        seen: list[int] = []

        def build(first: int) -> list[Command]:
            seen.append(first)
            return [Deposit("a", 5, ts_ns=first), Deposit("a", 6, ts_ns=first + 1)]

        def refuse(first: int) -> list[Command]:
            seen.append(first)
            raise Refused

        opened = asyncio.ensure_future(sequencer.submit([stamped(OpenAccount, "a",
                                                                 Role.TRADER)]))
        built = asyncio.ensure_future(sequencer.submit_built(2, build))
        await asyncio.sleep(0)  # both tasks stamp and queue their commands
        with pytest.raises(Refused):
            await sequencer.submit_built(3, refuse)
        ticked = asyncio.ensure_future(sequencer.submit([Tick]))
        outcomes = await asyncio.gather(opened, built, ticked)
        await sequencer.stop()
        journal.close()
        assert [len(o) for o in outcomes] == [1, 2, 1]
        assert seen == [101, 103]  # the refused build's three stamps (103-105) stay unused
        return [command.ts_ns for _, command in replay(tmp_path)]

    assert asyncio.run(run()) == [100, 101, 102, 106]
