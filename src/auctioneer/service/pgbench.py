"""How fast partitions' event logs project into PostgreSQL, against SQLite in the same process.

``python -m auctioneer.service.pgbench [--orders N] [--url URL] [--json F] [--plot F]``
builds each partition's event log for a seeded workload exactly as a
partition leader writes it (:func:`leader_logs`), then times projecting
partition 0's log in batches of 1, 100 and 1,000 entries into a fresh
database: the single-process SQLite store (the baseline) and a partition
schema in PostgreSQL (a throwaway cluster unless ``--url`` names one);
median of ``--repeats`` runs each, and every partition projected at once,
one thread each (PostgreSQL takes concurrent writers; SQLite does not).
Prints entries/s, the ratio to the baseline, PASS/MISS against the target
(a partition's projection keeps up with 5,000 commands/s, the served path's
target), and writes JSON and a PNG.

Example:
    >>> from auctioneer.exchange.scaleout import PartitionMap, workload
    >>> logs, _ = leader_logs(PartitionMap(2), workload(PartitionMap(2), orders=5, seed=1))
    >>> sorted(logs), logs[0][0].seq
    ([0, 1], 1)
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

from auctioneer.exchange import Exchange
from auctioneer.exchange.codec import encode_command
from auctioneer.exchange.scaleout import PartitionMap, Routed, Router, workload
from auctioneer.exchange.scaleout.costs import cpu_seconds, process_tree
from auctioneer.exchange.scaleout.eventlog import Entry, entry_of
from auctioneer.exchange.scaleout.stream import StreamMessage, encode_payload
from auctioneer.service.pgprojector import PartitionProjector, to_applied
from auctioneer.service.pgserver import LocalPostgres
from auctioneer.service.pgstore import MERGED, PartitionedStore, schema_of
from auctioneer.service.projector import Projector
from auctioneer.service.store import connect

__all__ = ["TARGET", "leader_logs", "main"]

TARGET = 5_000
"""Entries/s a partition's projection must sustain (the served path's target)."""
BATCHES = (1, 100, 1_000)


def leader_logs(partitions: PartitionMap, items: Sequence[Routed]
                ) -> tuple[dict[int, list[Entry]], dict[int, Exchange]]:
    """Each partition's event log for ``items`` as its leader writes it (the commands routed,
    one stream sequence for all partitions, applied), and each partition's final exchange."""
    router = Router(partitions)
    exchanges = {p: Exchange() for p in partitions.all}
    logs: dict[int, list[Entry]] = {p: [] for p in partitions.all}
    seq = 0
    for item in items:
        payload = encode_payload(encode_command(item.command))
        for p in router.route(item.command, item.partition):
            seq += 1
            entry, _ = entry_of(exchanges[p], partitions, p, StreamMessage(seq, payload))
            logs[p].append(entry)
    return logs, exchanges


def _batches(log: list[Entry], size: int) -> list[list[Entry]]:
    return [log[i:i + size] for i in range(0, len(log), size)]


def _sqlite_run(log: list[Entry], size: int) -> float:
    """Seconds to decode and project ``log`` into a fresh single-process SQLite store."""
    with tempfile.TemporaryDirectory() as tmp:
        db = connect(f"sqlite:///{tmp}/bench.db")
        projector = Projector(db)
        started = time.perf_counter()
        for batch in _batches(log, size):
            projector.project(to_applied(batch, 0, 0))
        elapsed = time.perf_counter() - started
        db.dispose()
    return elapsed


class _Databases:
    """Empty partition schemas, again and again, in the database at ``base``.

    Each run starts from empty tables: the bench's own schemas are dropped
    and created anew (cheaper than a database per run). The database must
    be one the bench may write: a throwaway cluster, or one named for it.
    """

    def __init__(self, base: str) -> None:
        self.base = base

    def fresh(self, partitions: int) -> PartitionedStore:
        admin = create_engine(self.base)
        with admin.begin() as conn:
            for schema in [MERGED, *(schema_of(p) for p in range(partitions))]:
                conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()
        return PartitionedStore.open(self.base, partitions)


def _pg_run(dbs: _Databases, logs: dict[int, list[Entry]], size: int,
            which: Sequence[int], server: Sequence[int] = ()
            ) -> tuple[float, float, float, int]:
    """Project the logs of partitions ``which`` (one thread each) into PostgreSQL: seconds,
    CPU seconds of the projector threads and of the ``server`` processes, WAL bytes."""
    store = dbs.fresh(len(logs))
    wal = _wal(store)
    projectors = {p: PartitionProjector(store, p) for p in which}
    used: list[float] = []

    def run(p: int) -> None:
        cpu = time.thread_time()
        for batch in _batches(logs[p], size):
            projectors[p].project(batch)
        used.append(time.thread_time() - cpu)

    threads = [threading.Thread(target=run, args=(p,)) for p in which]
    pids = [q for pid in server for q in process_tree(pid)]
    server_cpu = cpu_seconds(pids)
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    server_cpu = cpu_seconds(pids) - server_cpu
    wal = _wal(store) - wal
    for projector in projectors.values():
        projector.close()
    store.dispose()
    return elapsed, sum(used), server_cpu, wal


def _wal(store: PartitionedStore) -> int:
    """The server's WAL position, in bytes."""
    with store.engine.connect() as conn:
        return int(conn.execute(text("SELECT pg_current_wal_lsn() - '0/0'::pg_lsn")).scalar()
                   or 0)


def _median(run: Callable[[], float], repeats: int) -> float:
    return statistics.median(run() for _ in range(repeats))


def _measure(base: str, logs: dict[int, list[Entry]], repeats: int,
             server: Sequence[int] = ()) -> dict[str, Any]:
    dbs = _Databases(base)
    first = logs[0]
    rows: list[dict[str, Any]] = []
    for size in BATCHES:
        sqlite_s = _median(lambda size=size: _sqlite_run(first, size), repeats)  # type: ignore[misc]
        runs = sorted(_pg_run(dbs, logs, size, [0], server) for _ in range(repeats))
        pg_s, client_cpu, server_cpu, wal = runs[len(runs) // 2]
        rows.append({"batch": size, "entries": len(first),
                     "sqlite_per_s": len(first) / sqlite_s, "pg_per_s": len(first) / pg_s,
                     "pg_vs_sqlite": sqlite_s / pg_s,
                     "projector_cpu_us": client_cpu / len(first) * 1e6,
                     "server_cpu_us": server_cpu / len(first) * 1e6,
                     "wal_bytes": wal / len(first)})
    every = sum(len(log) for log in logs.values())
    all_s = _median(lambda: _pg_run(dbs, logs, BATCHES[-1], sorted(logs))[0], repeats)
    return {"rows": rows, "all_partitions": {"partitions": len(logs), "entries": every,
                                             "pg_per_s": every / all_s}}


def _plot(result: dict[str, Any], path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    rows = result["rows"]
    labels = [str(r["batch"]) for r in rows]
    x = range(len(rows))
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.bar([i - 0.2 for i in x], [r["sqlite_per_s"] for r in rows], 0.4, label="SQLite")
    ax.bar([i + 0.2 for i in x], [r["pg_per_s"] for r in rows], 0.4, label="PostgreSQL")
    ax.axhline(TARGET, color="grey", linestyle="--", label=f"target {TARGET:,}/s")
    ax.set_xticks(list(x), labels)
    ax.set_xlabel("entries per transaction (batch size)")
    ax.set_ylabel("entries projected per second, one partition")
    ax.set_title("Event-log projection rate")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def main(argv: Sequence[str] | None = None) -> int:
    """The command line (see the module docstring). A MISS is reported, not an exit
    status, as by ``auctioneer bench``: 0 once the measurement is written."""
    parser = argparse.ArgumentParser(prog="python -m auctioneer.service.pgbench")
    parser.add_argument("--orders", type=int, default=10_000)
    parser.add_argument("--partitions", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--url", help="a PostgreSQL database the bench may empty: it drops "
                        "and recreates the partition schemas (default: a throwaway cluster)")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--plot", type=Path, default=Path("out/bench-pg.png"))
    args = parser.parse_args(argv)
    for path in (args.json, args.plot):
        if path is not None and not path.parent.is_dir():
            parser.error(f"--json/--plot: directory {str(path.parent)!r} does not exist")
    partitions = PartitionMap.spread(args.partitions, ["us-east-1", "us-west-2", "eu-west-1",
                                                       "ap-south-1"])
    logs, _ = leader_logs(partitions, workload(partitions, orders=args.orders, seed=0))
    if args.url:
        result = _measure(args.url, logs, args.repeats)
    else:
        with LocalPostgres() as server:
            result = _measure(server.url, logs, args.repeats, [server.pid])
    print(f"pgbench: {args.orders:,} orders, {args.partitions} partitions; partition 0: "
          f"{len(logs[0]):,} entries; median of {args.repeats}; load average "
          f"{os.getloadavg()[0]:.1f}; CPU per entry")
    print(f"{'batch':>6} {'SQLite /s':>12} {'PostgreSQL /s':>14} {'PG / SQLite':>12} "
          f"{'projector CPU':>14} {'server CPU':>11} {'WAL':>8}")
    for r in result["rows"]:
        print(f"{r['batch']:>6} {r['sqlite_per_s']:>12,.0f} {r['pg_per_s']:>14,.0f} "
              f"{r['pg_vs_sqlite']:>11.2f}x {r['projector_cpu_us']:>11.0f} us "
              f"{r['server_cpu_us']:>8.0f} us {r['wal_bytes']:>6.0f} B")
    every = result["all_partitions"]
    print(f"all {every['partitions']} partitions at once (a thread each, batch "
          f"{BATCHES[-1]}): {every['pg_per_s']:,.0f} entries/s")
    best = max(r["pg_per_s"] for r in result["rows"])
    ok = best >= TARGET
    print(f"{'PASS' if ok else 'MISS'}  a partition projects >= {TARGET:,} entries/s into "
          f"PostgreSQL: {best:,.0f}/s (batch {BATCHES[-1]})")
    if args.json is not None:
        args.json.write_text(json.dumps({"orders": args.orders, **result}, indent=2))
        print(f"wrote {args.json}")
    if args.plot is not None:
        _plot(result, args.plot)
        print(f"wrote {args.plot}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
