"""What one periodic snapshot of the native engine costs, by how many order ids it has used.

``python -m tools.snapshot_cost [--used 100000,1000000] [--every 100000] [--rounds 3]
[--ids stamps|uuids] [--keep DIR]``; ``python -m tools.snapshot_cost --restore DIR
[--rounds 5]``

For each count of used ids, a native exchange is filled with that many orders (15,000 of
them resting, the rest trading in pairs; ids ``o<stamp in hex>`` as the service makes
them, a batch of 200 consecutive stamps every 10 ms; or, with ``--ids uuids``, random
UUIDs, which hold no counter), then ``rounds`` times: ``every``
more orders are applied (what the service applies between snapshots) and
:func:`~auctioneer.exchange.durable.write_snapshot` writes the snapshot, measured in CPU
seconds of this process (``time.process_time``: the fsync's wait is not CPU) and wall
seconds. Restoring the newest file (:func:`~auctioneer.exchange.durable.load_snapshot`)
is timed last. Prints medians. It uses only what the code before ``engine_snapshot.c``
had, so the same file run against a checkout of that code (``PYTHONPATH``) gives the
baseline. ``--keep DIR`` leaves the newest snapshot of each count in ``DIR/<used>``;
``--restore DIR`` only restores the newest snapshot there, ``rounds`` times, so checkouts
can be compared on the same file, interleaved.
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from functools import partial
from pathlib import Path

from auctioneer.exchange import Exchange, NativeExchange
from auctioneer.exchange import commands as c
from auctioneer.exchange.durable import load_snapshot, write_snapshot
from auctioneer.exchange.model import Market, Role, Side

RESTING = 15_000
START_NS = 1_700_000_000_000_000_000
BATCH, BATCH_NS = 200, 10_000_000
MARKET = Market.of("r/x", tick_size=1, base_price=1_000)


def commands(first: int, count: int, uuids: bool) -> list[c.Command]:
    """Orders ``first`` .. ``first + count``: the first RESTING bids rest, the rest trade."""
    out: list[c.Command] = []
    rng = random.Random(first)
    for i in range(first, first + count):
        ts = START_NS + i // BATCH * BATCH_NS + i % BATCH
        oid = str(uuid.UUID(int=rng.getrandbits(128), version=4)) if uuids else f"o{ts:x}"
        if i < RESTING:
            out.append(c.PlaceOrder(oid, "t", Side.BUY, (MARKET.id,), 500 + i % 100, 1,
                                  ts_ns=ts))
        else:
            sell = i % 2 == 0
            out.append(c.PlaceOrder(oid, "p" if sell else "t",
                                  Side.SELL if sell else Side.BUY, (MARKET.id,), 1_000, 1,
                                  ts_ns=ts))
    return out


def fill(ex: Exchange, first: int, count: int, uuids: bool) -> None:
    for start in range(first, first + count, 50_000):
        ex.apply_many(commands(start, min(50_000, first + count - start), uuids))


def timed(run: Callable[[], object]) -> tuple[float, float]:
    cpu, wall = time.process_time(), time.perf_counter()
    run()
    return time.process_time() - cpu, time.perf_counter() - wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--used", default="100000,1000000")
    parser.add_argument("--every", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--ids", choices=("stamps", "uuids"), default="stamps")
    parser.add_argument("--keep", type=Path)
    parser.add_argument("--restore", type=Path)
    args = parser.parse_args()
    if args.restore:
        times = [timed(partial(load_snapshot, args.restore, engine_class=NativeExchange))
                 for _ in range(args.rounds)]
        print(f"restore {args.restore}: cpu {statistics.median(t[0] for t in times) * 1e3:.0f} "
              f"ms, wall {statistics.median(t[1] for t in times) * 1e3:.0f} ms "
              f"(median of {len(times)})")
        return
    for used in (int(n) for n in args.used.split(",")):
        ex = NativeExchange()
        ex.apply_many([c.ListMarket(MARKET), c.OpenAccount("p", Role.PROVIDER),
                       c.AddCapacity("p", MARKET.id, 10**9), c.OpenAccount("t", Role.TRADER),
                       c.Deposit("t", 10**15)])
        placed = used - args.every
        fill(ex, 0, placed, args.ids == "uuids")
        with tempfile.TemporaryDirectory() as tmp:
            directory = Path(tmp)
            write_snapshot(directory, 0, ex)  # as the service's previous snapshot
            times = []
            for _ in range(args.rounds):
                fill(ex, placed, args.every, args.ids == "uuids")
                placed += args.every
                times.append(timed(partial(write_snapshot, directory, placed, ex)))
            newest = max(directory.iterdir())
            size = newest.stat().st_size
            if args.keep:
                (args.keep / str(used)).mkdir(parents=True, exist_ok=True)
                shutil.copy(newest, args.keep / str(used) / newest.name)
            restore = timed(partial(load_snapshot, directory, engine_class=NativeExchange))
        print(f"{args.ids}: used ids {used:>9,} ({used:,}..{placed:,}): snapshot "
              f"cpu {statistics.median(cpu for cpu, _ in times) * 1e3:8.1f} ms, "
              f"wall {statistics.median(wall for _, wall in times) * 1e3:8.1f} ms "
              f"(median of {len(times)})")
        print(f"{args.ids}: used ids {used:>9,}: file {size / 1e6:.1f} MB; restore (load_snapshot, "
              f"native) cpu {restore[0] * 1e3:.0f} ms, wall {restore[1] * 1e3:.0f} ms")


if __name__ == "__main__":
    main()
