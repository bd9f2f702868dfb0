"""Restart recovery: the same state, orders, trades and tables after stop and start."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from .conftest import MARKET, fresh_settings, restarted, start_live, stop_live


def table_counts(path: Path) -> dict[str, int]:
    with sqlite3.connect(path) as db:
        return {t: db.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                for t in ("accounts", "orders", "trades", "ledger", "markets", "capacity")}


def test_restart_recovers_the_same_state(tmp_path: Path) -> None:
    live = start_live(fresh_settings(tmp_path, tick_interval_s=3600.0))
    try:
        live.market(MARKET)
        seller = live.provider("seller")
        buyer = live.account("buyer")
        asks = [{"side": "sell", "market": MARKET, "price": 2_000_000 + 10_000 * i,
                 "quantity": 3} for i in range(5)]
        assert live.post("/orders/batch", {"orders": asks}, seller).status_code == 200
        bids = [{"side": "buy", "market": MARKET, "price": 2_020_000, "quantity": 2,
                 "tif": tif} for tif in ("gtc", "ioc", "gtc", "fok")]
        results = live.post("/orders/batch", {"orders": bids}, buyer).json()["results"]
        trade_ids = {t["id"] for r in results for t in r["trades"]}
        assert trade_ids
        with live.client(buyer) as c:
            open_before = c.get("/orders").json()
            account_before = c.get("/account").json()
        state_before = live.wait_projected()
        counts_before = table_counts(live.settings.data_dir / "exchange.sqlite")
        live = restarted(live)
        state_after = live.wait_projected()
        assert state_after["state_hash"] == state_before["state_hash"]
        with live.client(buyer) as c:
            assert c.get("/orders").json() == open_before
            assert c.get("/account").json() == account_before
            for r in results:
                assert c.get(f"/orders/{r['order_id']}").status_code == 200
        assert table_counts(live.settings.data_dir / "exchange.sqlite") == counts_before
        with sqlite3.connect(live.settings.data_dir / "exchange.sqlite") as db:
            stored = {row[0] for row in db.execute("SELECT id FROM trades")}
            balances = dict(db.execute("SELECT id, balance FROM accounts").fetchall())
        assert stored == trade_ids
        engine = live.service.exchange
        assert balances == {a.id: a.balance for a in engine.accounts()}
    finally:
        stop_live(live)


def test_tables_rebuild_from_the_journal(tmp_path: Path) -> None:
    """Delete the SQLite file: the next start projects the whole (kept) journal again."""
    live = start_live(fresh_settings(tmp_path, tick_interval_s=3600.0, keep_journal=True))
    try:
        live.market(MARKET)
        key = live.account("keeper")
        live.post("/orders", {"side": "buy", "market": MARKET, "price": 1_000_000,
                              "quantity": 4}, key)
        live.wait_projected()
        counts = table_counts(live.settings.data_dir / "exchange.sqlite")
        stop_live(live)
        for suffix in ("", "-wal", "-shm"):
            (live.settings.data_dir / f"exchange.sqlite{suffix}").unlink(missing_ok=True)
        live = start_live(live.settings)
        live.wait_projected()
        assert table_counts(live.settings.data_dir / "exchange.sqlite") == counts
    finally:
        stop_live(live)


def test_a_dead_follower_is_restarted_and_catches_up(tmp_path: Path) -> None:
    live = start_live(fresh_settings(tmp_path))
    try:
        live.market(MARKET)
        live.wait_projected()
        process = live.service.follower.process
        assert process is not None
        process.kill()
        process.wait()
        key = live.account("after-crash")
        live.post("/orders", {"side": "buy", "market": MARKET, "price": 1_000_000,
                              "quantity": 1}, key)
        state = live.wait_projected()
        assert state["projection_running"] and state["projected_seq"] == state["seq"]
        with sqlite3.connect(live.settings.data_dir / "exchange.sqlite") as db:
            owners = [row[0] for row in db.execute("SELECT account FROM orders")]
        assert owners == ["after-crash"]
    finally:
        stop_live(live)
