"""Bids from inside a VM over ivshmem: the host and guest halves of kernel/vm/ivshmem.sh.

    python kernel/vm/ivshmem.py host  REGION --count N [--vm V --agents A --json F]
    python kernel/vm/ivshmem.py guest --count N [--agents A --json F]

The host creates REGION (a file under /dev/shm that QEMU maps into the guest
as an ivshmem-plain BAR: auctioneer.tick.vmregion's layout), publishes a
price page, prints "ready", then drains the ring into a tick book as VM V's
agents while the guest runs, until N records or the timeout. The guest
finds the device, checks the host's price page, and pushes N tagged bids
(bid i: local agent i % A, price i + 1, units 1 + i % 3), retrying while the
ring is full, timing every push. Each side writes JSON; the host's verdict
is exit 0 only when every record arrived exactly once and in order (record
j equal to bid j), none was refused, and the book's top is the last bid.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from auctioneer.tick import IndexedHeap
from auctioneer.tick.vmregion import VmRegion, find_ivshmem

PRICES = (1, 20_000, 7_000, 1_250_000, 1_000_000)
"""What the host publishes: tick, CPU and GPU price, CPU and GPU multiplier (ppm)."""


def bid(i: int, agents: int) -> tuple[int, int, int]:
    """The guest's bid number i."""
    return i % agents, i + 1, 1 + i % 3


def host(args: argparse.Namespace) -> int:
    region = VmRegion.create(args.region, args.capacity)
    region.page.publish(*PRICES)
    print("ready", flush=True)
    book = IndexedHeap((args.vm + 1) * args.agents)
    got = refused = mismatches = 0
    first_bad = None
    started = deadline = time.monotonic()
    deadline += args.timeout
    while got < args.count and time.monotonic() < deadline:
        records, bad = region.drain_into(book, args.vm, args.agents, 4096)
        if not records:
            time.sleep(0.001)
            continue
        for j, record in enumerate(records, got):
            if record != bid(j, args.agents):
                mismatches += 1
                first_bad = first_bad or {"index": j, "got": record,
                                          "want": bid(j, args.agents)}
        refused += bad
        got += len(records)
    last_agent, last_price, _ = bid(args.count - 1, args.agents)
    top = [x[0] for x in book.select(1)] if got else None
    report = {"received": got, "expected": args.count, "mismatches": mismatches,
              "first_mismatch": first_bad, "refused": refused,
              "left_in_ring": len(region.ring), "book_top": top,
              "want_top": (args.vm * args.agents + last_agent, last_price),
              "seconds": round(time.monotonic() - started, 3)}
    report["ok"] = (got == args.count and not mismatches and not refused
                    and not report["left_in_ring"] and top == list(report["want_top"]))
    region.close()
    Path(args.json).write_text(json.dumps(report, indent=1) + "\n")
    print(json.dumps(report))
    return 0 if report["ok"] else 1


def guest(args: argparse.Namespace) -> int:
    bar = find_ivshmem()
    region = VmRegion.attach(bar)
    prices = region.page.read()
    clock = time.perf_counter_ns
    push = region.ring.push
    times, full = [], 0
    started = clock()
    for i in range(args.count):
        record = bid(i, args.agents)
        while True:
            t0 = clock()
            ok = push(*record)
            t1 = clock()
            if ok:
                break
            full += 1
            time.sleep(0)
        times.append(t1 - t0)
    elapsed = clock() - started
    times.sort()
    pct = {f"p{q}": times[min(len(times) - 1, int(len(times) * q / 100))] for q in (50, 99)}
    report = {"device": str(bar), "prices_read": prices, "prices_ok": list(prices) == list(PRICES),
              "pushed": args.count, "full_retries": full, "push_ns": pct,
              "push_ns_p999": times[min(len(times) - 1, int(len(times) * 0.999))],
              "bids_per_s": round(args.count / (elapsed / 1e9)),
              "timing": "emulated: QEMU TCG guest, Python perf_counter_ns around each push"}
    region.close()
    Path(args.json).write_text(json.dumps(report, indent=1) + "\n")
    print(json.dumps(report))
    return 0 if report["prices_ok"] else 1


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="ivshmem.py", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="side", required=True)
    h = sub.add_parser("host")
    h.add_argument("region")
    h.add_argument("--capacity", type=int, default=1024)
    h.add_argument("--vm", type=int, default=3)
    h.add_argument("--timeout", type=float, default=600.0)
    g = sub.add_parser("guest")
    for p in (h, g):
        p.add_argument("--count", type=int, required=True)
        p.add_argument("--agents", type=int, default=64)
        p.add_argument("--json", default="ivshmem.json")
    args = parser.parse_args(argv)
    return host(args) if args.side == "host" else guest(args)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
