"""Several processes on the native rings and page: nothing lost, duplicated, reordered or torn.

Producer processes attach to shared memory by name and submit tagged bids
(agent = producer << 32 | sequence number) to their own SPSC ring and to
one shared MPSC ring, through rings small enough to fill and lap hundreds of
times; the consumer (this process) drains them all and checks every bid
arrived exactly once and in each producer's order. A writer process
publishes price pages whose fields are all derived from one counter while
reader processes check each page they read is whole and no older than the
one before. The same protocols also run on C threads (``run_pair``).
"""

from __future__ import annotations

import multiprocessing as mp
import time
from multiprocessing.connection import Connection
from typing import Any

import numpy as np
import pytest

from auctioneer.tick import _timing, ring

pytestmark = pytest.mark.native

PRODUCERS = 3
BIDS = 20_000
CAPACITY = 64
PAGES = 200_000
READERS = 2
DEADLINE_S = 15.0

_CTX = mp.get_context("fork" if "fork" in mp.get_all_start_methods() else "spawn")


def _produce(kind: str, name: str, producer: int, count: int) -> None:
    target = getattr(ring, kind).attach(name)
    push = target.push
    for seq in range(count):
        while not push(producer << 32 | seq, seq & 0xFFFF_FFFF, 1 + seq % 3):
            time.sleep(0)  # full: let the consumer run
    target.close()


def _consume(rings: list[ring.SpscRing], procs: list[Any], total: int) -> list[list[int]]:
    """Drain round robin until ``total`` bids came; each producer's sequence numbers."""
    seen: list[list[int]] = [[] for _ in range(PRODUCERS)]
    received = 0
    deadline = time.monotonic() + DEADLINE_S
    while received < total:
        got = 0
        for r in rings:
            for agent, price, units in r.drain():
                producer, seq = agent >> 32, agent & 0xFFFF_FFFF
                assert (price, units) == (seq, 1 + seq % 3), "a bid arrived changed"
                seen[producer].append(seq)
                got += 1
        received += got
        if not got:
            assert time.monotonic() < deadline, f"only {received} of {total} bids arrived"
            assert any(p.is_alive() for p in procs) or any(len(r) for r in rings), (
                f"producers exited after {received} of {total} bids"
            )
            time.sleep(0)
    return seen


@pytest.mark.parametrize("kind", ["SpscRing", "MpscRing"])
def test_producer_processes_lose_and_duplicate_nothing(kind: str) -> None:
    cls = getattr(ring, kind)
    shared = kind == "MpscRing"
    rings = [cls.create(CAPACITY) for _ in range(1 if shared else PRODUCERS)]
    procs = [
        _CTX.Process(target=_produce, args=(kind, rings[0 if shared else p].name, p, BIDS))
        for p in range(PRODUCERS)
    ]
    try:
        for proc in procs:
            proc.start()
        seen = _consume(rings, procs, PRODUCERS * BIDS)
        for proc in procs:
            proc.join(DEADLINE_S)
            assert proc.exitcode == 0
        for producer, seqs in enumerate(seen):
            assert seqs == list(range(BIDS)), f"producer {producer}: lost, duplicated or reordered"
        for r in rings:
            assert len(r) == 0
            r.check()
    finally:
        for proc in procs:
            if proc.is_alive():
                proc.kill()
        for r in rings:
            r.unlink()


def _fields(k: int) -> tuple[int, int, int, int, int]:
    """Page number k: every field a different function of k, so a torn page shows."""
    return (k, (k * 2_654_435_761) & 0xFFFF_FFFF, (k * 40_503) & 0xFFFF_FFFF, k ^ 0x5555_5555,
            (k + 123_457) & 0xFFFF_FFFF)


def _write(name: str, pages: int) -> None:
    page = ring.PricePage.attach(name)
    publish = page.publish
    for k in range(1, pages + 1):
        publish(*_fields(k))
    page.close()


def _read(name: str, out: Connection) -> None:
    page = ring.PricePage.attach(name)
    read = page.read
    reads = torn = backwards = distinct = 0
    last = 0
    while last < PAGES:
        snapshot = read()
        reads += 1
        if reads % 64 == 0:
            time.sleep(0)  # spinning readers must not starve the writer on a busy machine
        if snapshot != _fields(snapshot[0]) and snapshot[0] != 0:
            torn += 1
        if snapshot[0] < last:
            backwards += 1
        distinct += snapshot[0] != last
        last = snapshot[0]
    page.close()
    out.send((reads, torn, backwards, distinct))


def test_readers_never_see_a_torn_page() -> None:
    page = ring.PricePage.create()
    pipes = [_CTX.Pipe(duplex=False) for _ in range(READERS)]
    readers = [_CTX.Process(target=_read, args=(page.name, send)) for _, send in pipes]
    writer = _CTX.Process(target=_write, args=(page.name, PAGES))
    try:
        for proc in readers:
            proc.start()
        writer.start()
        writer.join(DEADLINE_S)
        assert writer.exitcode == 0
        assert page.read() == _fields(PAGES)
        assert page.seq == 2 * PAGES
        for (recv, _), proc in zip(pipes, readers, strict=True):
            assert recv.poll(DEADLINE_S), "a reader did not finish"
            reads, torn, backwards, distinct = recv.recv()
            proc.join(DEADLINE_S)
            assert distinct > 1, "the reader never overlapped the writer"
            assert torn == 0, f"{torn} torn pages in {reads} reads"
            assert backwards == 0, "a reader saw an older page after a newer one"
    finally:
        for proc in [writer, *readers]:
            if proc.is_alive():
                proc.kill()
        page.unlink()


@pytest.mark.parametrize(("kind", "producers"), [(_timing.KIND_SPSC, 1), (_timing.KIND_SPSC, 3),
                                                 (_timing.KIND_MPSC, 1), (_timing.KIND_MPSC, 3)])
def test_producer_threads_in_c_lose_and_duplicate_nothing(kind: int, producers: int) -> None:
    """The benchmark's C harness: threads, pinned to cores, no Python in the loop."""
    result = _timing.run_pair(kind, 16, producers, 50_000, True)
    assert result["received"] == producers * 50_000
    assert result["disorder"] == 0
    latency = np.frombuffer(result["latency"], dtype=np.uint64)
    assert latency.size == 50_000 and latency.min() > 0
