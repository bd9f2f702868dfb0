"""The journal and recovery: torn tails, corruption, sequence, snapshots, crash recovery."""

from __future__ import annotations

import mmap
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from auctioneer.exchange import (
    Command,
    Deposit,
    DurableExchange,
    Event,
    Exchange,
    FsyncPolicy,
    Journal,
    JournalError,
    OpenAccount,
    ReplayError,
    Role,
    Tick,
    load_snapshot,
    open_exchange,
    replay,
    write_snapshot,
)
from auctioneer.exchange.durable import snapshot_files
from auctioneer.exchange.journal import JournalReader, encode_record, segments

COMMANDS = [OpenAccount("a", Role.TRADER), *[Deposit("a", i + 1, ts_ns=i) for i in range(20)]]


def write(directory: Path, commands: list[object] = COMMANDS) -> Path:
    with Journal(directory, FsyncPolicy.NEVER) as journal:
        journal.append_many(commands)  # type: ignore[arg-type]
    return segments(directory)[-1]


@pytest.mark.parametrize("policy", list(FsyncPolicy))
def test_appends_replay_in_order_under_every_policy(tmp_path: Path, policy: FsyncPolicy) -> None:
    with Journal(tmp_path, policy, batch_ms=0) as journal:
        assert journal.append(COMMANDS[0]) == 1
        assert journal.append_many(COMMANDS[1:]) == list(range(2, 22))
    assert [(seq, cmd) for seq, cmd in replay(tmp_path)] == list(enumerate(COMMANDS, 1))
    assert [seq for seq, _ in replay(tmp_path, after=19)] == [20, 21]


@settings(max_examples=40)
@given(cut=st.integers(1, 200))
def test_a_torn_tail_is_skipped_and_truncated(tmp_path_factory: pytest.TempPathFactory,
                                              cut: int) -> None:
    directory = tmp_path_factory.mktemp("torn")
    segment = write(directory)
    data = segment.read_bytes()
    last = len(encode_record(21, COMMANDS[-1]))
    cut = min(cut, last - 1)  # somewhere inside the last record
    segment.write_bytes(data[:-cut])
    assert [seq for seq, _ in replay(directory)] == list(range(1, 21))
    with Journal(directory) as journal:
        assert journal.last_seq == 20
        assert journal.append(Tick(99)) == 21
    assert [seq for seq, _ in replay(directory)] == list(range(1, 22))


def test_a_flipped_bit_in_the_last_record_is_a_torn_tail(tmp_path: Path) -> None:
    segment = write(tmp_path)
    data = bytearray(segment.read_bytes())
    data[-1] ^= 1
    segment.write_bytes(bytes(data))
    assert [seq for seq, _ in replay(tmp_path)][-1] == 20


def test_damage_before_the_end_is_an_error(tmp_path: Path) -> None:
    segment = write(tmp_path)
    data = bytearray(segment.read_bytes())
    data[30] ^= 1  # inside the first record's payload
    segment.write_bytes(bytes(data))
    with pytest.raises(JournalError, match="checksum"):
        list(replay(tmp_path))
    with pytest.raises(JournalError):
        Journal(tmp_path)


def test_a_gap_in_the_sequence_is_an_error(tmp_path: Path) -> None:
    segment = write(tmp_path, COMMANDS[:2])
    segment.write_bytes(segment.read_bytes() + encode_record(5, Tick(1)))
    with pytest.raises(JournalError, match="sequence 5"):
        list(replay(tmp_path))


def test_snapshots_bound_replay_and_old_segments_go(tmp_path: Path) -> None:
    with DurableExchange.open(tmp_path, FsyncPolicy.NEVER, snapshot_every=5) as dx:
        for cmd in COMMANDS:
            dx.submit(cmd)
        want = dx.exchange.state_hash()
    snaps = snapshot_files(tmp_path)
    assert [s for s, _ in snaps] == [15, 20]  # the newest two
    assert all(int(p.name[8:-4]) > 15 for p in segments(tmp_path))
    ex, journal = open_exchange(tmp_path)
    assert ex.state_hash() == want and journal.last_seq == 21
    journal.close()


def test_a_damaged_snapshot_falls_back_to_an_older_one(tmp_path: Path) -> None:
    with DurableExchange.open(tmp_path, FsyncPolicy.NEVER, snapshot_every=8) as dx:
        for cmd in COMMANDS:
            dx.submit(cmd)  # snapshots after 8 and 16
        dx.snapshot()  # and after 21
        want = dx.exchange.state_hash()
    newest = snapshot_files(tmp_path)[-1][1]
    newest.write_text(newest.read_text().replace('"balance"', '"bal"')[:-40])
    seq_exchange = load_snapshot(tmp_path)
    assert seq_exchange is not None and seq_exchange[0] == 16
    ex, journal = open_exchange(tmp_path)
    journal.close()
    assert ex.state_hash() == want


def test_write_snapshot_then_load(tmp_path: Path) -> None:
    ex = Exchange()
    for cmd in COMMANDS:
        ex.apply(cmd)
    write_snapshot(tmp_path, 21, ex)
    loaded = load_snapshot(tmp_path)
    assert loaded is not None and loaded[0] == 21
    assert loaded[1].state_hash() == ex.state_hash()


CHILD = """
import sys
from auctioneer.exchange import DurableExchange, FsyncPolicy, Deposit, OpenAccount, Role
dx = DurableExchange.open(sys.argv[1], FsyncPolicy.ALWAYS, snapshot_every=20)
dx.submit(OpenAccount("a", Role.TRADER))
i = 0
while True:
    i += 1
    dx.submit_many([Deposit("a", 1, ts_ns=i), Deposit("a", 2, ts_ns=i)])
    print(i, flush=True)
"""


def test_kill_9_loses_nothing_acknowledged(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2] / "src")}
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(tmp_path)],
                             stdout=subprocess.PIPE, text=True, env=env)
    assert child.stdout is not None
    acked = 0
    for line in child.stdout:
        acked = int(line)
        if acked >= 40:
            break
    child.kill()
    child.wait()
    child.stdout.close()
    ex, journal = open_exchange(tmp_path)
    journal.close()
    # Every acknowledged batch is there; a batch written but not yet acknowledged may be too.
    assert ex.account("a").balance >= 3 * acked
    assert ex.account("a").balance % 3 == 0  # batches are whole: group commit is atomic
    assert snapshot_files(tmp_path)


def test_a_command_that_raises_in_replay_is_named(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path)
    apply = Exchange.apply

    def buggy(self: Exchange, command: Command) -> list[Event]:
        if isinstance(command, Deposit) and command.amount == 13:
            raise ZeroDivisionError("a bug")
        return apply(self, command)

    monkeypatch.setattr(Exchange, "apply", buggy)
    monkeypatch.setenv("AUCTIONEER_ENGINE", "python")  # the engine whose apply is patched
    with pytest.raises(ReplayError, match=r"record 14 \(deposit\) raised ZeroDivisionError: "
                                          "a bug") as caught:
        open_exchange(tmp_path)
    assert (caught.value.seq, caught.value.kind) == (14, "deposit")
    assert isinstance(caught.value, JournalError)
    assert isinstance(caught.value.__cause__, ZeroDivisionError)


def test_batch_fsyncs_the_last_group_before_a_quiet_spell(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    synced: list[threading.Thread] = []
    real = os.fsync

    def fsync(fd: int) -> None:
        real(fd)
        synced.append(threading.current_thread())

    batch_s = 0.5
    with Journal(tmp_path, FsyncPolicy.BATCH, batch_ms=batch_s * 1000) as journal:
        journal.sync()
        start = time.monotonic()
        monkeypatch.setattr(os, "fsync", fsync)
        journal.append(Tick(1))  # then nothing more: no later append will sync it
        inline = time.monotonic() - start >= batch_s  # only on a badly stalled machine
        deadline = time.monotonic() + 10
        while not synced and time.monotonic() < deadline:
            time.sleep(0.01)
        assert len(synced) == 1
        assert (synced[0] is threading.main_thread()) == inline
        assert time.monotonic() - start >= batch_s
        journal.append(Tick(2))  # arms a timer; close cancels it and syncs itself
    assert [seq for seq, _ in replay(tmp_path)] == [1, 2]
    assert len(synced) == 2


def write_rotated(directory: Path, count: int, rotate: int, cut: int) -> None:
    """The first ``count`` commands, a new segment after ``rotate`` of them, and the last
    ``cut`` bytes of the journal torn off."""
    with Journal(directory, FsyncPolicy.NEVER) as journal:
        journal.append_many(COMMANDS[:min(rotate, count)])
        if rotate < count:
            journal.rotate()
            journal.append_many(COMMANDS[rotate:count])
    last = segments(directory)[-1]
    last.write_bytes(last.read_bytes()[:max(0, last.stat().st_size - cut)])


@settings(max_examples=40, deadline=None)
@given(count=st.integers(0, 12), rotate=st.integers(0, 12), after=st.integers(0, 14),
       cut=st.integers(0, 60))
def test_opening_on_a_readers_tail_is_opening_afresh(
        tmp_path_factory: pytest.TempPathFactory, count: int, rotate: int, after: int,
        cut: int) -> None:
    """Recovery hands the journal its replay's :class:`Tail`: the same last sequence
    number, the same torn tail cut, as a journal that reads everything itself."""
    directories = [tmp_path_factory.mktemp("tail"), tmp_path_factory.mktemp("fresh")]
    for directory in directories:
        write_rotated(directory, count, rotate, cut)
    with JournalReader(directories[0], after) as reader:
        reader.poll()
        tail = reader.tail()
    assert tail is not None
    opened = []
    for directory, given_tail in zip(directories, (tail, None), strict=True):
        with Journal(directory, FsyncPolicy.NEVER, tail=given_tail) as journal:
            opened.append((journal.last_seq, segments(directory)[-1].read_bytes()))
    assert opened[0] == opened[1]


@settings(max_examples=40, deadline=None)
@given(count=st.integers(0, 12), rotate=st.integers(0, 12), after=st.integers(0, 14),
       cut=st.integers(0, 60), polls=st.integers(1, 3))
def test_a_mapping_reader_reads_what_a_copying_one_does(
        tmp_path_factory: pytest.TempPathFactory, count: int, rotate: int, after: int,
        cut: int, polls: int) -> None:
    """An ``exclusive`` reader maps its segments instead of copying them: the same records,
    the same errors and the same :class:`Tail`, over rotations, a torn tail and polls that
    find nothing new; closing it unmaps."""
    directory = tmp_path_factory.mktemp("mapped")
    write_rotated(directory, count, rotate, cut)
    read = []
    for exclusive in (False, True):
        held = []
        with JournalReader(directory, after, exclusive=exclusive) as reader:
            try:
                records = []
                for _ in range(polls):
                    records.append(reader.poll())
                    held.append((reader._data, len(reader._data) > 0))
            except JournalError as exc:
                records = [str(exc)]  # type: ignore[list-item]
            read.append((records, reader.tail()))
        maps = [data for data, _ in held if isinstance(data, mmap.mmap)]
        assert all(data.closed for data in maps)
        assert bool(maps) == (exclusive and any(full for _, full in held))
    assert read[0] == read[1]
