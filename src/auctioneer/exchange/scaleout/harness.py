"""Processes and checks for running the served scale-out on one machine: tests and benchmarks.

:func:`spawn` starts an ``auctioneer`` subcommand as its own process (so a
test can SIGKILL or SIGSTOP it); :func:`reports` reads what every engine
last reported; :func:`read_log` reads a partition's whole event log; and
:func:`audit` checks a log the way the chaos tests require: every command
of the partition applied exactly once, in order, and the state rebuilt from
the log passes the engine's invariants (money and capacity conserved) with
no trade twice.

Example:
    >>> spawn_args("engine", "--partition", "0")[-3:]
    ['engine', '--partition', '0']
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from nats.js import JetStreamContext
from nats.js.errors import NoKeysError
from nats.js.kv import KeyValue

from auctioneer.exchange.codec import decode_command
from auctioneer.exchange.commands import MarketOrder, PlaceOrder
from auctioneer.exchange.engine import Exchange
from auctioneer.exchange.scaleout.deadline import within
from auctioneer.exchange.scaleout.eventlog import (
    Entry,
    EventSpec,
    Projection,
    decode_batch,
    encode_batch,
    last_batch,
)
from auctioneer.exchange.scaleout.leader import EngineReport, status_bucket
from auctioneer.exchange.scaleout.partition import PartitionMap
from auctioneer.exchange.scaleout.stream import Feed, StreamMessage, StreamSpec, last_sequence

__all__ = ["Audit", "audit", "read_log", "reports", "spawn", "spawn_args", "wait_for"]

_EVENTS = EventSpec()
_COMMANDS = StreamSpec()
_CLI = "import sys; from auctioneer.cli import main; sys.exit(main(sys.argv[1:]))"


def spawn_args(*args: str) -> list[str]:
    """The argv that runs ``auctioneer *args`` with this interpreter."""
    return [sys.executable, "-c", _CLI, *args]


def spawn(*args: str) -> subprocess.Popen[bytes]:
    """``auctioneer *args`` as a child process (stdout and stderr to DEVNULL/inherited)."""
    return subprocess.Popen(spawn_args(*args), stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL)


async def reports(js: JetStreamContext, partition: int) -> dict[str, EngineReport]:
    """``partition``'s engines' last reports, by node."""
    kv = await status_bucket(js)
    out = {}
    for key in await _keys(kv):
        if key.startswith(f"p{partition}."):
            entry = await kv.get(key)
            if entry.value:
                report = EngineReport.parse(entry.value)
                out[report.node] = report
    return out


async def _keys(kv: KeyValue) -> list[str]:
    try:
        return list(await kv.keys())
    except NoKeysError:
        return []


async def wait_for(check: Callable[[], Awaitable[bool]], timeout_s: float, what: str,
                   poll_s: float = 0.05) -> None:
    """Await ``check()`` until true; TimeoutError naming ``what`` (and the last error the check
    raised: a cluster recovering from a fault answers some requests late) after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    last: Exception | None = None
    while True:
        try:  # a check stuck on an unanswered request is cut off at the deadline
            left = max(deadline - time.monotonic(), poll_s)
            if await within(check(), left, what):
                return
        except Exception as exc:  # not answered yet: try again until the deadline
            last = exc
        if time.monotonic() >= deadline:
            cause = "" if last is None else f" (last error: {type(last).__name__}: {last})"
            raise TimeoutError(f"{what}: not within {timeout_s:g} s{cause}")
        await asyncio.sleep(poll_s)


async def read_log(js: JetStreamContext, partition: int,
                   spec: EventSpec = _EVENTS) -> list[Entry]:
    """Every entry of ``partition``'s event log, in log order."""
    tip, _ = await last_batch(js, partition, spec)
    entries: list[Entry] = []
    if tip == 0:
        return entries
    feed = await Feed.open(js, spec.name, spec.subject(partition), 0)
    try:
        seen = 0
        while seen < tip:
            if not await feed.wait(10.0):
                raise TimeoutError(f"the log of partition {partition} stopped at {seen}")
            for message in feed.take(1000):
                if message.seq <= seen:  # the ordered consumer recreated (a paused node)
                    continue             # redelivers; a command twice is two messages
                entries.extend(decode_batch(message.data))
                seen = message.seq
    finally:
        await feed.close()
    return entries


@dataclass(frozen=True, slots=True)
class Audit:
    """What a partition's log holds: its commands (``seq``s), placed orders and final state."""

    seqs: tuple[int, ...]
    orders: Counter[str]
    state_hash: str
    exchange: Exchange


async def audit(js: JetStreamContext, partition: int, partitions: PartitionMap,
                commands: StreamSpec = _COMMANDS,
                events: EventSpec = _EVENTS) -> Audit:
    """Read and check ``partition``'s log; AssertionError naming what is wrong.

    Checks: command sequences strictly rise (none applied twice); the log
    covers every command the partition's subject holds (none lost); the
    state rebuilt from the log reproduces every batch's events and passes
    the exchange's full invariant check (money and capacity conserved); no
    trade id appears twice and no order fills beyond its quantity.
    """
    async def answering() -> bool:
        await last_batch(js, partition, events)
        await last_sequence(js, partition, commands)
        return True

    # Just after a fault JetStream may still be electing leaders and answer 503
    # ("temporarily unavailable", 10008) for a while; the audit starts once it answers.
    await wait_for(answering, 30, f"JetStream answering for partition {partition}'s logs")
    entries = await read_log(js, partition, events)
    seqs = tuple(e.seq for e in entries)
    assert all(a < b for a, b in zip(seqs, seqs[1:], strict=False)), \
        f"partition {partition}: a command is in the log twice or out of order"
    newest = await last_sequence(js, partition, commands)
    assert (seqs[-1] if seqs else 0) == newest, \
        f"partition {partition}: the log ends at command {seqs[-1] if seqs else 0}, " \
        f"the stream at {newest}"
    projection = Projection(partition, partitions)
    projection.apply_batch(StreamMessage(1, encode_batch(entries)))
    projection.exchange.check()
    trades = Counter(ev["trade_id"] for e in entries for ev in e.events
                     if ev["type"] == "traded")
    assert not [t for t, n in trades.items() if n > 1], f"partition {partition}: a trade twice"
    orders: Counter[str] = Counter()
    quantity: dict[str, int] = {}
    filled: Counter[str] = Counter()
    for entry in entries:
        command = None if entry.command is None else decode_command(entry.command)
        if isinstance(command, PlaceOrder | MarketOrder):
            orders[command.order_id] += 1
            quantity.setdefault(command.order_id, command.quantity or 0)
        for ev in entry.events:
            if ev["type"] == "traded":
                filled[ev["buy_order"]] += ev["quantity"]
                filled[ev["sell_order"]] += ev["quantity"]
    over = [o for o, q in filled.items() if quantity.get(o) and q > quantity[o]]
    assert not over, f"partition {partition}: orders filled beyond their quantity: {over[:5]}"
    return Audit(seqs, orders, projection.exchange.state_hash(), projection.exchange)
