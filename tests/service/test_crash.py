"""Crash test: ``kill -9`` the server during a load, restart it: every acknowledged order and
trade is there and no capacity is allocated twice."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from auctioneer.service.process import free_port, spawn_server, wait_ready
from auctioneer.service.runtime import admin_key_of

MARKET = "us-east-1/gpu.a100"
PROVIDED = 100_000


def setup(url: str, admin: str, traders: int) -> tuple[str, list[tuple[str, str]]]:
    with httpx.Client(base_url=url, headers={"X-API-Key": admin}, timeout=30) as c:
        c.post("/admin/markets", json={"region": "us-east-1", "instance_type": "gpu.a100",
                                       "tick_size": 1_000, "base_price": 2_000_000}
               ).raise_for_status()
        seller = c.post("/admin/accounts", json={"id": "seller", "role": "provider"}).json()
        c.post("/admin/capacity", json={"account": "seller", "market": MARKET,
                                        "quantity": PROVIDED}).raise_for_status()
        keys = []
        for i in range(traders):
            made = c.post("/admin/accounts", json={"id": f"t{i}", "deposit": 10**14}).json()
            keys.append((made["id"], made["api_key"]))
    return seller["api_key"], keys


def drive(url: str, key: str, side: str, seed: int, acked: list[dict[str, Any]],
          stop: threading.Event) -> None:
    rng = random.Random(seed)
    with httpx.Client(base_url=url, headers={"X-API-Key": key}, timeout=10) as c:
        while not stop.is_set():
            orders = [{"side": side, "market": MARKET,
                       "price": 2_000_000 + 1_000 * rng.randint(-5, 5),
                       "quantity": rng.randint(1, 4),
                       "tif": rng.choice(["gtc", "ioc"])} for _ in range(20)]
            try:
                response = c.post("/orders/batch", json={"orders": orders})
            except httpx.HTTPError:
                return  # the server is gone: this request was never acknowledged
            if response.status_code == 200:
                acked.extend(response.json()["results"])


def test_kill_9_loses_nothing_acknowledged(tmp_path: Path) -> None:
    data = tmp_path / "data"
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = tmp_path / "server.log"
    args = ("--snapshot-every", "400", "--rate", "1e9", "--burst", "1000000")
    server = spawn_server(data, port, *args, log=log)
    try:
        wait_ready(url, server)
        seller, traders = setup(url, admin_key_of(data), 3)
        acked: dict[str, list[dict[str, Any]]] = {}
        stop = threading.Event()
        threads = []
        for i, (name, key) in enumerate([("seller", seller), *traders]):
            acked[key] = []
            side = "sell" if name == "seller" else "buy"
            threads.append(threading.Thread(target=drive,
                                            args=(url, key, side, i, acked[key], stop)))
        for t in threads:
            t.start()
        # Killed once the load has placed enough to test, however loaded the machine is.
        deadline = time.monotonic() + 30
        while sum(map(len, acked.values())) <= 100 and time.monotonic() < deadline:
            time.sleep(0.05)
        os.kill(server.pid, signal.SIGKILL)
        server.wait(10)
        stop.set()
        for t in threads:
            t.join(15)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
    assert sum(map(len, acked.values())) > 100, "the load placed too little to test"

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = spawn_server(data, port, *args, log=log)
    try:
        wait_ready(url, server)
        admin = {"X-API-Key": admin_key_of(data)}
        with httpx.Client(base_url=url, timeout=30) as c:
            deadline = time.monotonic() + 20
            while True:
                state = c.get("/admin/state", headers=admin).json()
                if state["projected_seq"] == state["seq"] or time.monotonic() > deadline:
                    break
                time.sleep(0.1)
            assert state["projected_seq"] == state["seq"], state
            capacity = c.get("/account/capacity", headers={"X-API-Key": seller}).json()
            for key, results in acked.items():
                for r in results[:: max(1, len(results) // 50)]:
                    got = c.get(f"/orders/{r['order_id']}", headers={"X-API-Key": key})
                    assert got.status_code == 200, (r, got.text)
    finally:
        server.terminate()
        server.wait(30)
    with sqlite3.connect(data / "exchange.sqlite") as db:
        order_ids = {row[0] for row in db.execute("SELECT id FROM orders")}
        trades = dict(db.execute("SELECT id, quantity FROM trades").fetchall())
        sold = db.execute("SELECT COALESCE(SUM(filled), 0) FROM orders WHERE side = 'sell'"
                          ).fetchone()[0]
        overfilled = db.execute("SELECT count(*) FROM orders WHERE filled > quantity"
                                ).fetchone()[0]
    for results in acked.values():
        for r in results:
            if r["status"] != "rejected":
                assert r["order_id"] in order_ids
            for t in r["trades"]:
                assert trades.get(t["id"]) == t["quantity"]
    # Every instance sold was allocated exactly once, and no more than was provided.
    [cap] = capacity
    assert cap["allocated"] == sum(trades.values()) == sold <= PROVIDED
    assert overfilled == 0
