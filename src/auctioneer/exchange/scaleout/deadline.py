"""A deadline on awaited work that cannot be lost.

``asyncio.wait_for`` on Python 3.11 cancels the work at its deadline and then
*waits for the work to finish*. nats-py wraps every request in its own
``wait_for``, which swallows a cancellation that arrives just as its inner
future completes; a coroutine that has swallowed its cancellation and then
waits on something that never arrives (a key listing's next message) keeps the
outer ``wait_for`` waiting forever, deadline or not. That hung the cluster
benchmark's test in a loaded full-suite run.

:func:`within` gives up instead: at the deadline it cancels the work again and
again for a short grace period and, if the work still has not ended, leaves it
behind (its result or error is consumed, so nothing is logged) and raises.
:func:`stopped` is that grace period alone, for tasks being shut down: one
``cancel()`` and a ``gather`` hang a close on the same swallowed cancellation
(the coordinator test, after a NATS server restart: a replica's feed took the
cancel while it subscribed, then waited for messages that never came).

Example:
    >>> import asyncio
    >>> asyncio.run(within(asyncio.sleep(0, "done"), 1, "a nap"))
    'done'
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, TypeVar

__all__ = ["stopped", "within"]

_T = TypeVar("_T")

GRACE_S = 2.0
"""How long cancelled work gets to end before it is left behind."""


async def within(work: Awaitable[_T], seconds: float, what: str, *,
                 at_deadline: Callable[[], object] | None = None) -> _T:
    """``work``'s result, or TimeoutError naming ``what`` once ``seconds`` pass.

    Returns or raises within ``seconds`` plus :data:`GRACE_S`, whatever ``work``
    does with its cancellation. ``at_deadline`` runs when the deadline passes,
    before the work is cancelled (so it still sees where the work is stuck).
    Cost: one task.
    """
    task = asyncio.ensure_future(work)
    done, _ = await asyncio.wait([task], timeout=seconds)
    if done:
        return task.result()
    if at_deadline is not None:
        at_deadline()
    # Ended by the cancellation or left behind: its outcome is not this caller's any more.
    with contextlib.suppress(TimeoutError):
        await stopped([task], what)
    raise TimeoutError(f"{what}: not within {seconds:g} s")


async def stopped(tasks: Iterable[asyncio.Future[Any]], what: str) -> None:
    """Cancel ``tasks`` and wait until they end, cancelling again every 0.1 s.

    Their results and errors are consumed. TimeoutError naming ``what`` when some
    are still running after :data:`GRACE_S`; those are left behind.
    """
    tasks = list(tasks)
    loop = asyncio.get_running_loop()
    give_up = loop.time() + GRACE_S
    running = {task for task in tasks if not task.done()}
    while running and loop.time() < give_up:
        for task in running:
            task.cancel()
        _, running = await asyncio.wait(running, timeout=0.1)
    for task in tasks:
        task.add_done_callback(_consume)
    if running:
        raise TimeoutError(f"{what}: {len(running)} of {len(tasks)} still running "
                           f"{GRACE_S:g} s after being cancelled")


def _consume(task: asyncio.Future[Any]) -> None:
    if not task.cancelled():
        task.exception()
