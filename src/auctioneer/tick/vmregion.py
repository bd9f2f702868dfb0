"""One VM's bid region: a price page and an SPSC bid ring in one shared block.

A VMM maps a host file into its guest as device memory (QEMU's
``ivshmem-plain`` device: a PCI BAR backed by a shared ``memory-backend-file``;
Firecracker would need its own shared region). The block holds the same
structures as :mod:`auctioneer.tick.ring`, at fixed offsets, with no pointer
in them, so each side maps it wherever it likes:

* offset 0: the price page (``ring.h``'s ``struct price_page``; the host
  publishes, the guest reads),
* offset :data:`RING_OFFSET`: one SPSC ring (the guest pushes, the host
  drains).

**Agents are identified per VM.** A guest numbers its agents ``0 ..
agents_per_vm - 1``; the host knows which VM a region belongs to because it
created the file that VM's device maps, and drains that region into the
book as agent ``vm * agents_per_vm + local``. A guest cannot name another
VM's agents (a local id past ``agents_per_vm`` is refused and counted), and
the VMM's threads play no part.

The host creates the region (:meth:`VmRegion.create`, before the guest
boots); the guest attaches to the mapped BAR (:meth:`VmRegion.attach` on
its PCI ``resource2`` file, found by :func:`find_ivshmem`). ``kernel/vm/
ivshmem.sh`` runs both sides against a real guest.

Example:
    >>> import tempfile, os
    >>> from auctioneer.tick import IndexedHeap
    >>> path = os.path.join(tempfile.mkdtemp(), "vm0")
    >>> host = VmRegion.create(path, 64)
    >>> guest = VmRegion.attach(path)              # as the guest maps its BAR
    >>> guest.ring.push(3, 910_000, 1), guest.ring.push(64, 5, 1)
    (True, True)
    >>> book = IndexedHeap(4 * 64)
    >>> host.drain_into(book, vm=2, agents_per_vm=64)   # local 64 is not VM 2's: refused
    ([(3, 910000, 1), (64, 5, 1)], 1)
    >>> book.select(1)
    ([131], [910000])
    >>> guest.close(); host.close()
"""

from __future__ import annotations

import mmap
import os
from pathlib import Path
from typing import Any, Self

import auctioneer.tick._ring as _ring
from auctioneer.checks import require_int
from auctioneer.tick.limits import AGENT_MAX, check_capacity
from auctioneer.tick.ring_reference import BidSink, apply_bids

__all__ = ["IVSHMEM_DEVICE", "RING_OFFSET", "VmRegion", "find_ivshmem", "region_nbytes"]

RING_OFFSET = 4096
"""Where the ring starts: the page gets its own 4 KiB, so the two never share a line."""
IVSHMEM_DEVICE = ("0x1af4", "0x1110")
"""PCI vendor and device id of QEMU's ivshmem (plain and doorbell)."""


def region_nbytes(capacity: int) -> int:
    """Bytes a region with a ring of ``capacity`` records needs, rounded up to a power
    of two (ivshmem's BAR size must be one)."""
    need = RING_OFFSET + _ring.nbytes(_ring.KIND_SPSC, check_capacity(capacity))
    return 1 << (need - 1).bit_length()


class VmRegion:
    """A mapped region: ``page`` (native ``PricePage``) and ``ring`` (native ``SpscRing``)."""

    __slots__ = ("_map", "page", "ring")

    def __init__(self, mapping: mmap.mmap, capacity: int | None) -> None:
        self._map = mapping
        view = memoryview(mapping)
        self.page: Any = _ring.PricePage(view[:_ring.PAGE_NBYTES], capacity is not None)
        self.ring: Any = _ring.SpscRing(view[RING_OFFSET:], capacity)

    @classmethod
    def create(cls, path: str | os.PathLike[str], capacity: int) -> Self:
        """Create (or overwrite) the file at ``path`` as an empty region; host side."""
        nbytes = region_nbytes(capacity)
        with open(path, "wb") as f:
            f.truncate(nbytes)
        return cls(_map_file(path, nbytes), capacity)

    @classmethod
    def attach(cls, path: str | os.PathLike[str]) -> Self:
        """Map an existing region (the host's file, or the guest's BAR); ValueError if
        its page or ring header is not valid."""
        return cls(_map_file(path, os.path.getsize(path)), None)

    def drain_into(self, book: BidSink, vm: int, agents_per_vm: int,
                   max_records: int | None = None) -> tuple[list[tuple[int, int, int]], int]:
        """Apply this VM's pending bids to ``book`` as agents ``vm * agents_per_vm +
        local``, in ring order; return the records as the guest wrote them and how many
        were refused: those whose local agent is not below ``agents_per_vm``, and those
        the book refuses (see :func:`~auctioneer.tick.ring_reference.apply_bids`)."""
        require_int(agents_per_vm, "agents_per_vm", 1, AGENT_MAX + 1)
        base = require_int(vm, "vm", 0, AGENT_MAX // agents_per_vm) * agents_per_vm
        records = self.ring.drain(max_records)
        mine = [(base + a, p, u) for a, p, u in records if a < agents_per_vm]
        return records, len(records) - len(mine) + apply_bids(book, mine)

    def close(self) -> None:
        """Let go of the mapping (the structures first: they hold views of it)."""
        self.ring.release()
        self.page.release()
        self._map.close()


def _map_file(path: str | os.PathLike[str], nbytes: int) -> mmap.mmap:
    fd = os.open(path, os.O_RDWR)
    try:
        return mmap.mmap(fd, nbytes, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
    finally:
        os.close(fd)


def find_ivshmem(sysfs: str | os.PathLike[str] = "/sys/bus/pci/devices") -> Path:
    """The ``resource2`` file (the shared-memory BAR) of the first ivshmem device, its
    memory decoding enabled; FileNotFoundError if there is none."""
    for device in sorted(Path(sysfs).iterdir()):
        ids = tuple((device / name).read_text().strip() for name in ("vendor", "device"))
        if ids == IVSHMEM_DEVICE and (device / "resource2").exists():
            enable = device / "enable"
            if enable.exists() and enable.read_text().strip() == "0":
                enable.write_text("1")
            return device / "resource2"
    raise FileNotFoundError(f"no ivshmem device (vendor:device {':'.join(IVSHMEM_DEVICE)}) "
                            f"under {sysfs}")
