"""What one periodic snapshot of the native engine costs, by how many order ids it has used.

``python -m tools.snapshot_cost [--used 100000,1000000] [--every 100000] [--rounds 3]``

For each count of used ids, a native exchange is filled with that many orders (15,000 of
them resting, the rest trading in pairs, ids ``o<stamp in hex>`` as the service makes
them, stamps 50 us apart), then ``rounds`` times: ``every`` more orders are applied (what
the service applies between snapshots), and the snapshot is written twice into a
temporary directory -- by :func:`~auctioneer.exchange.durable.write_snapshot` (the C
writer) and by the way it was written before it (the state copied into Python objects,
``snapshot()``, canonical JSON twice: for the hash and for the file) -- each measured in
CPU seconds of this process (``time.process_time``, the fsync's wait excluded) and wall
seconds, alternating which goes first. Restoring the newest file
(:func:`~auctioneer.exchange.durable.load_snapshot`) is timed last. Prints medians.
"""

from __future__ import annotations

import argparse
import hashlib
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from auctioneer.exchange import (
    AddCapacity,
    Command,
    Deposit,
    Exchange,
    ListMarket,
    Market,
    NativeExchange,
    OpenAccount,
    PlaceOrder,
    Role,
    Side,
)
from auctioneer.exchange.durable import load_snapshot, write_snapshot
from auctioneer.exchange.files import write_atomic
from auctioneer.exchange.snapshot import Saved, canonical_json, encode_saved

RESTING = 15_000
START_NS = 1_700_000_000_000_000_000
STEP_NS = 50_000
MARKET = Market.of("r/x", tick_size=1, base_price=1_000)


def commands(first: int, count: int) -> list[Command]:
    """Orders ``first`` .. ``first + count``: the first RESTING bids rest, the rest trade."""
    out: list[Command] = []
    for i in range(first, first + count):
        ts = START_NS + i * STEP_NS
        if i < RESTING:
            out.append(PlaceOrder(f"o{ts:x}", "t", Side.BUY, (MARKET.id,), 500 + i % 100, 1,
                                  ts_ns=ts))
        else:
            sell = i % 2 == 0
            out.append(PlaceOrder(f"o{ts:x}", "p" if sell else "t",
                                  Side.SELL if sell else Side.BUY, (MARKET.id,), 1_000, 1,
                                  ts_ns=ts))
    return out


def fill(ex: Exchange, first: int, count: int) -> None:
    for start in range(first, first + count, 50_000):
        ex.apply_many(commands(start, min(50_000, first + count - start)))


def before(directory: Path, seq: int, ex: Exchange) -> Path:
    """write_snapshot as it was before engine_snapshot.c."""
    state = ex.snapshot()
    data = encode_saved(Saved(seq, hashlib.sha256(canonical_json(state)).hexdigest(), state))
    return write_atomic(directory / f"snapshot-{seq:020d}.json", data)


def timed(run: Callable[[], object]) -> tuple[float, float]:
    cpu, wall = time.process_time(), time.perf_counter()
    run()
    return time.process_time() - cpu, time.perf_counter() - wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--used", default="100000,1000000")
    parser.add_argument("--every", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    for used in (int(n) for n in args.used.split(",")):
        ex = NativeExchange()
        ex.apply_many([ListMarket(MARKET), OpenAccount("p", Role.PROVIDER),
                       AddCapacity("p", MARKET.id, 10**9), OpenAccount("t", Role.TRADER),
                       Deposit("t", 10**15)])
        placed = used - args.every
        fill(ex, 0, placed)
        with tempfile.TemporaryDirectory() as tmp:
            old_dir, new_dir = Path(tmp, "before"), Path(tmp, "c")
            old_dir.mkdir()
            new_dir.mkdir()
            write_snapshot(new_dir, 0, ex)  # as the service's previous snapshot ...
            before(old_dir, 0, ex)  # ... by either way
            figures: dict[str, list[tuple[float, float]]] = {"c": [], "before": []}
            for r in range(args.rounds):
                fill(ex, placed, args.every)
                placed += args.every
                runs = [("c", lambda: write_snapshot(new_dir, placed, ex)),
                        ("before", lambda: before(old_dir, placed, ex))]
                for name, run in runs if r % 2 == 0 else runs[::-1]:
                    ex._dirty = True  # as after the orders: the Python copy is stale
                    figures[name].append(timed(run))
            size = max(new_dir.iterdir()).stat().st_size
            restore = timed(lambda: load_snapshot(new_dir, engine_class=NativeExchange))
        for name, runs in figures.items():
            print(f"used ids {used:>9,} ({used:,}..{placed:,}): {name:>6} "
                  f"cpu {statistics.median(c for c, _ in runs) * 1e3:8.1f} ms, "
                  f"wall {statistics.median(w for _, w in runs) * 1e3:8.1f} ms "
                  f"(median of {len(runs)})")
        print(f"used ids {used:>9,}: file {size / 1e6:.1f} MB; restore (load_snapshot, "
              f"native) cpu {restore[0] * 1e3:.0f} ms, wall {restore[1] * 1e3:.0f} ms")


if __name__ == "__main__":
    main()
