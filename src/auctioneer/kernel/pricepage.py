"""Publish the tick's price page into the scheduler's mmapable map, under its seqlock.

The map is opened from its pin with ``BPF_OBJ_GET`` and its value mapped
with ``mmap``; a publication bumps
``seq`` to odd, writes the fields, and bumps it to even, as ring.h's
``price_page_publish``: the BPF reader retries on an odd or changed ``seq``.

The thermal multiplier comes from :mod:`auctioneer.thermal`'s controller
driven by a simulated plant (:func:`thermal_multiplier_ppm`).
"""

from __future__ import annotations

import mmap
import os
import struct
from pathlib import Path

from auctioneer.checks import require_int, require_number
from auctioneer.kernel.bpfsys import obj_get
from auctioneer.kernel.layout import PAGE_SEQ_OFFSET, PPM_ONE, U32_MAX, pack_page

__all__ = ["publish", "thermal_multiplier_ppm"]

def publish(pinned: Path, *, tick: int, cpu_price: int, cpu_multiplier_ppm: int) -> int:
    """Write one publication into the pinned price page map; return the new (even) seq."""
    page = pack_page(0, tick, cpu_price, cpu_multiplier_ppm)
    fd = obj_get(pinned)
    try:
        with mmap.mmap(fd, mmap.PAGESIZE, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE) as m:
            seq = struct.unpack_from("<Q", m, PAGE_SEQ_OFFSET)[0]
            seq = seq + 1 if seq % 2 == 0 else seq  # a writer that died mid-write left it odd
            m[:PAGE_SEQ_OFFSET] = page[:PAGE_SEQ_OFFSET]
            struct.pack_into("<Q", m, PAGE_SEQ_OFFSET, seq)
            m[PAGE_SEQ_OFFSET + 8:len(page)] = page[PAGE_SEQ_OFFSET + 8:]
            struct.pack_into("<Q", m, PAGE_SEQ_OFFSET, seq + 1)
            return int(seq + 1)
    finally:
        os.close(fd)


def thermal_multiplier_ppm(seconds: float, cpu_util: float, gpu_util: float,
                           target_c: float = 85.0) -> int:
    """The PID controller's multiplier (ppm) after ``seconds`` of the plant at fixed loads."""
    from auctioneer.thermal import ONE, PriceController, Sensor, ThermalPlant

    require_number(seconds, "seconds", 0, 3600)
    plant, sensor = ThermalPlant(), Sensor(rate_hz=100, seed=7)
    controller = PriceController(target_c=target_c, period_s=sensor.period_s)
    steps = round(seconds / sensor.period_s)
    for i in range(steps):
        temps = plant.step(sensor.period_s, cpu_util=cpu_util, gpu_util=gpu_util)
        controller.update(sensor.sample((i + 1) * sensor.period_s, temps.cpu).milli_c)
    ppm = controller.multiplier * PPM_ONE // ONE
    return require_int(ppm, "cpu_multiplier", 0, U32_MAX)
