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

Example:
    >>> import asyncio
    >>> asyncio.run(within(asyncio.sleep(0, "done"), 1, "a nap"))
    'done'
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any, TypeVar

__all__ = ["within"]

_T = TypeVar("_T")

GRACE_S = 2.0
"""How long cancelled work gets to end before it is left behind."""


async def within(work: Awaitable[_T], seconds: float, what: str) -> _T:
    """``work``'s result, or TimeoutError naming ``what`` once ``seconds`` pass.

    Returns or raises within ``seconds`` plus :data:`GRACE_S`, whatever ``work``
    does with its cancellation. Cost: one task.
    """
    task = asyncio.ensure_future(work)
    done, _ = await asyncio.wait([task], timeout=seconds)
    if done:
        return task.result()
    loop = asyncio.get_running_loop()
    give_up = loop.time() + GRACE_S
    while not task.done() and loop.time() < give_up:
        task.cancel()
        await asyncio.wait([task], timeout=0.1)
    # Left behind or ended by the cancellation: its outcome is not this caller's any more.
    task.add_done_callback(_consume)
    raise TimeoutError(f"{what}: not within {seconds:g} s")


def _consume(task: asyncio.Future[Any]) -> None:
    if not task.cancelled():
        task.exception()
