"""A VM's bid region over a mapped file: layout, per-VM agent ids, and a producer process.

The real thing (a guest pushing through QEMU's ivshmem-plain BAR) is
``make scx-vm-ivshmem``; here another process maps the same file, as the
guest's BAR maps it, and nothing may be lost, duplicated or reordered.
"""

from __future__ import annotations

import multiprocessing as mp
import time
from pathlib import Path

import pytest

from auctioneer.tick import IndexedHeap
from auctioneer.tick.vmregion import RING_OFFSET, VmRegion, find_ivshmem, region_nbytes

pytestmark = pytest.mark.native

_CTX = mp.get_context("fork" if "fork" in mp.get_all_start_methods() else "spawn")
BIDS = 20_000
AGENTS = 64


def _guest(path: str, count: int) -> None:
    region = VmRegion.attach(path)
    for i in range(count):
        while not region.ring.push(i % AGENTS, i + 1, 1 + i % 3):
            time.sleep(0)
    region.close()


def test_a_producer_process_loses_duplicates_and_reorders_nothing(tmp_path: Path) -> None:
    path = str(tmp_path / "vm")
    host = VmRegion.create(path, 64)                 # laps the ring hundreds of times
    proc = _CTX.Process(target=_guest, args=(path, BIDS))
    proc.start()
    got: list[tuple[int, int, int]] = []
    deadline = time.monotonic() + 30
    while len(got) < BIDS and time.monotonic() < deadline:
        got += host.ring.drain()
    proc.join(10)
    assert got == [(i % AGENTS, i + 1, 1 + i % 3) for i in range(BIDS)]
    assert len(host.ring) == 0 and proc.exitcode == 0
    host.close()


def test_agents_are_numbered_per_vm_and_foreign_ids_refused(tmp_path: Path) -> None:
    book = IndexedHeap(3 * AGENTS)
    regions = [VmRegion.create(tmp_path / f"vm{v}", 8) for v in range(3)]
    for v, region in enumerate(regions):
        guest = VmRegion.attach(tmp_path / f"vm{v}")
        guest.ring.push(5, 100 + v, 1)               # every VM's local agent 5
        guest.ring.push(AGENTS, 999, 1)              # not one of this VM's agents
        guest.close()
        assert region.drain_into(book, v, AGENTS) == ([(5, 100 + v, 1), (AGENTS, 999, 1)], 1)
    assert book.select(3) == ([2 * AGENTS + 5, AGENTS + 5, 5], [102, 101, 100])
    with pytest.raises(ValueError, match="vm"):
        regions[0].drain_into(book, 2**64, AGENTS)
    for region in regions:
        region.close()


def test_the_page_crosses_and_a_bad_region_is_refused(tmp_path: Path) -> None:
    host = VmRegion.create(tmp_path / "vm", 16)
    host.page.publish(7, 20_000, 3_000, 2_000_000, 1_000_000)
    guest = VmRegion.attach(tmp_path / "vm")
    assert guest.page.read() == (7, 20_000, 3_000, 2_000_000, 1_000_000)
    guest.close()
    host.close()
    (tmp_path / "blank").write_bytes(bytes(region_nbytes(16)))
    with pytest.raises(ValueError):
        VmRegion.attach(tmp_path / "blank")


@pytest.mark.parametrize("capacity", [16, 1024, 65536])
def test_region_sizes_are_powers_of_two_past_the_page(capacity: int) -> None:
    n = region_nbytes(capacity)
    assert n & (n - 1) == 0 and n > RING_OFFSET


def test_find_ivshmem_reads_sysfs_and_enables_the_device(tmp_path: Path) -> None:
    other, dev = tmp_path / "0000:00:02.0", tmp_path / "0000:00:05.0"
    for d, ids in ((other, ("0x1af4", "0x1009")), (dev, ("0x1af4", "0x1110"))):
        d.mkdir()
        (d / "vendor").write_text(ids[0] + "\n")
        (d / "device").write_text(ids[1] + "\n")
        (d / "resource2").write_bytes(b"")
        (d / "enable").write_text("0\n")
    assert find_ivshmem(tmp_path) == dev / "resource2"
    assert (dev / "enable").read_text() == "1" and (other / "enable").read_text() == "0\n"
    (dev / "device").write_text("0x1111\n")
    with pytest.raises(FileNotFoundError, match="no ivshmem device"):
        find_ivshmem(tmp_path)
