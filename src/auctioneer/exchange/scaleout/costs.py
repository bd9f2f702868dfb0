"""CPU cost per command of each stage of the scale-out path, for sizing a deployment.

``python -m auctioneer.exchange.scaleout.costs [--orders N] [--runs N] [--json F]``
runs a seeded workload through each stage (``--runs`` times, each run's figures
kept in the JSON's ``runs``) and reports CPU microseconds per command (CPU time,
not wall time: on a machine shared with other jobs, CPU time per operation
moves far less than throughput does):

* **apply**: the engine applying partition 0's commands in-process;
* **publish (client)** and **publish (nats-server)**: every message
  published pipelined and acknowledged, the client's CPU and the
  nats-server's (R1, file store; read from ``/proc``);
* **replay (client)**: a fresh engine consuming partition 0 from the stream
  (decode and apply included; the server's CPU for it reported too).

Multiplying by a target rate gives cores, which is how docs/scale-out.md
sizes 100 partitions at 1,000,000 orders/s.

Example:
    >>> cpu_seconds([]) == 0.0
    True
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from auctioneer.exchange.codec import decode_command_json, encode_command
from auctioneer.exchange.engine import Exchange
from auctioneer.exchange.scaleout.node import connect
from auctioneer.exchange.scaleout.partition import PartitionMap, Router
from auctioneer.exchange.scaleout.publisher import Publisher
from auctioneer.exchange.scaleout.replica import PartitionEngine
from auctioneer.exchange.scaleout.server import LocalNats
from auctioneer.exchange.scaleout.stream import encode_payload
from auctioneer.exchange.scaleout.workload import REGIONS, workload

__all__ = ["cpu_seconds", "main", "processes_with", "process_tree"]

_TICK = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may hold spaces; the fields after its ')' do not.
    return text[text.rindex(")") + 2:].split()


def cpu_seconds(pids: Iterable[int]) -> float:
    """User + system CPU seconds the live processes ``pids`` have used."""
    total = 0
    for pid in pids:
        fields = _stat(pid)
        if fields is not None:
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / _TICK


def processes_with(marker: str) -> list[int]:
    """The processes whose command line contains ``marker``."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if marker.encode() in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def process_tree(root: int) -> list[int]:
    """``root`` and its direct children (a server and its worker processes)."""
    children = [int(e.name) for e in Path("/proc").iterdir()
                if e.name.isdigit() and (s := _stat(int(e.name))) is not None
                and int(s[1]) == root]
    return [root, *children]


async def _measure(url: str, store: str, orders: int) -> dict[str, Any]:
    partitions = PartitionMap.spread(2, list(REGIONS))
    items = workload(partitions, orders=orders, seed=0)
    router = Router(partitions)
    mine = [encode_payload(encode_command(i.command)) for i in items
            if 0 in router.route(i.command, i.partition)]
    server = processes_with(store)
    result: dict[str, Any] = {"orders": orders, "partition0_commands": len(mine)}

    started = time.process_time()
    exchange = Exchange()
    for payload in mine:
        exchange.apply(decode_command_json(payload))
    result["apply_us"] = (time.process_time() - started) / len(mine) * 1e6

    nc = await connect(url)
    try:
        js = nc.jetstream()
        publisher = await Publisher.open(js, partitions)
        cpu, srv, wall = time.process_time(), cpu_seconds(server), time.perf_counter()
        landed = await publisher.publish_many(items)
        wall = time.perf_counter() - wall
        result["messages"] = len(landed)
        result["publish_per_s"] = len(landed) / wall
        result["publish_client_us"] = (time.process_time() - cpu) / len(landed) * 1e6
        result["publish_server_us"] = (cpu_seconds(server) - srv) / len(landed) * 1e6

        engine = PartitionEngine(0)
        cpu, srv, wall = time.process_time(), cpu_seconds(server), time.perf_counter()
        await engine.catch_up(js)
        wall = time.perf_counter() - wall
        result["replay_per_s"] = engine.applied / wall
        result["replay_client_us"] = (time.process_time() - cpu) / engine.applied * 1e6
        result["replay_server_us"] = (cpu_seconds(server) - srv) / engine.applied * 1e6
    finally:
        await nc.close()
    return result


def main(argv: Sequence[str] | None = None) -> int:
    """The command line (see the module docstring)."""
    parser = argparse.ArgumentParser(prog="python -m auctioneer.exchange.scaleout.costs")
    parser.add_argument("--orders", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=1,
                        help="measure this many times (each run its own nats-server)")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    if args.json is not None and not args.json.parent.is_dir():
        parser.error(f"--json: directory {str(args.json.parent)!r} does not exist")
    if args.runs < 1:
        parser.error(f"--runs: {args.runs} is not a whole number of at least 1")
    runs = []
    for _ in range(args.runs):
        with LocalNats() as server:
            result = asyncio.run(_measure(server.url, str(server.store), args.orders))
        load = os.getloadavg()[0]
        runs.append({**result, "load_average": load})
        print(f"costs: {args.orders:,} orders, 2 partitions; load average {load:.1f}; "
              "CPU microseconds per command")
        print(f"  apply in-process (engine, partition 0): {result['apply_us']:7.1f} us")
        print(f"  publish, client:                        {result['publish_client_us']:7.1f} us"
              f"   ({result['publish_per_s']:,.0f} messages/s wall)")
        print(f"  publish, nats-server (R1, file store):  {result['publish_server_us']:7.1f} us")
        print(f"  replay, client (consume+decode+apply):  {result['replay_client_us']:7.1f} us"
              f"   ({result['replay_per_s']:,.0f} commands/s wall)")
        print(f"  replay, nats-server:                    {result['replay_server_us']:7.1f} us")
    if args.json is not None:
        args.json.write_text(json.dumps({"orders": args.orders, "runs": runs}, indent=2))
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
