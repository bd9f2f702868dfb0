"""``within``: a deadline that holds even against work that swallows its cancellation."""

from __future__ import annotations

import asyncio
import contextlib
import time

import pytest

from auctioneer.exchange.scaleout import deadline
from auctioneer.exchange.scaleout.deadline import stopped, within


async def _stubborn(forever: asyncio.Event) -> None:
    """Swallows every cancellation, as a nats-py request can on Python 3.11, and then
    waits on something that never comes."""
    while not forever.is_set():
        try:
            await forever.wait()
        except asyncio.CancelledError:
            continue


def test_work_in_time_gives_its_result_and_its_error() -> None:
    async def fails() -> None:
        raise ValueError("no")

    assert asyncio.run(within(asyncio.sleep(0.01, "done"), 5, "a nap")) == "done"
    with pytest.raises(ValueError, match="no"):
        asyncio.run(within(fails(), 5, "a failure"))


def test_a_deadline_is_kept_against_work_that_swallows_its_cancellation(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(deadline, "GRACE_S", 0.3)

    async def run() -> asyncio.Task[None]:
        forever = asyncio.Event()
        started = time.monotonic()
        with pytest.raises(TimeoutError, match=r"the stubborn work: not within 0\.2 s"):
            await within(_stubborn(forever), 0.2, "the stubborn work")
        assert time.monotonic() - started < 2
        [left] = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        assert not left.done()  # left behind, still waiting: the caller was not
        # asyncio.wait_for would still be waiting here; end the stubborn task for the test.
        forever.set()
        await asyncio.wait([left], timeout=1)
        return left

    assert asyncio.run(run()).done()


def test_cancelled_work_that_ends_is_not_left_behind() -> None:
    async def run() -> None:
        with pytest.raises(TimeoutError):
            await within(asyncio.sleep(10), 0.05, "a long nap")
        assert [t for t in asyncio.all_tasks() if t is not asyncio.current_task()] == []

    asyncio.run(run())


async def _swallows_once(forever: asyncio.Event) -> None:
    """Takes its first cancellation as a nats-py request can, then waits on."""
    with contextlib.suppress(asyncio.CancelledError):
        await asyncio.sleep(10)
    await forever.wait()


def test_stopped_cancels_again_until_a_swallowing_task_ends() -> None:
    async def run() -> None:
        forever = asyncio.Event()
        tasks = [asyncio.ensure_future(_swallows_once(forever)),
                 asyncio.ensure_future(asyncio.sleep(10))]
        await asyncio.sleep(0)
        started = time.monotonic()
        await stopped(tasks, "the replicas")
        assert time.monotonic() - started < 1
        assert all(t.cancelled() for t in tasks)

    asyncio.run(run())


def test_stopped_names_what_would_not_stop_and_leaves_it_behind(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(deadline, "GRACE_S", 0.3)

    async def run() -> None:
        forever = asyncio.Event()
        stubborn = asyncio.ensure_future(_stubborn(forever))
        await asyncio.sleep(0)
        with pytest.raises(TimeoutError, match=r"the replicas: 1 of 1 still running 0\.3 s"):
            await stopped([stubborn], "the replicas")
        assert not stubborn.done()
        forever.set()
        await asyncio.wait([stubborn], timeout=1)

    asyncio.run(run())


def test_at_deadline_runs_before_the_work_is_cancelled() -> None:
    seen: list[bool] = []

    async def run() -> None:
        napping = asyncio.ensure_future(asyncio.sleep(10))
        with pytest.raises(TimeoutError, match=r"a long nap: not within 0\.05 s"):
            await within(napping, 0.05, "a long nap",
                         at_deadline=lambda: seen.append(napping.cancelled()))
        assert seen == [False] and napping.cancelled()

    asyncio.run(run())
