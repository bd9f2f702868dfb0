"""The tables in PostgreSQL: a throwaway cluster (Debian's postgresql, ``pg_fixture``), the
service pointed at it by URL, orders and trades projected."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import create_engine, text

from .conftest import MARKET, fresh_settings, start_live, stop_live
from .pg_fixture import postgres_cluster, postgres_url

__all__ = ["postgres_cluster", "postgres_url"]


def test_tables_in_postgresql(tmp_path: Path, postgres_url: str) -> None:
    live = start_live(fresh_settings(tmp_path, database=postgres_url))
    try:
        live.market(MARKET)
        seller = live.provider("pg-seller")
        buyer = live.account("pg-buyer")
        live.post("/orders", {"side": "sell", "market": MARKET, "price": 2_000_000,
                              "quantity": 4}, seller)
        traded = live.post("/orders", {"side": "buy", "market": MARKET, "price": 2_000_000,
                                       "quantity": 3}, buyer).json()
        assert traded["status"] == "filled"
        state = live.wait_projected()
        assert state["projected_seq"] == state["seq"]
        with live.client(buyer) as c:
            ledger = c.get("/account/ledger").json()
        assert [e["kind"] for e in ledger] == ["buy", "deposit"]
    finally:
        stop_live(live)
    db = create_engine(postgres_url)
    with db.connect() as conn:
        trades = conn.execute(text("SELECT quantity, price FROM trades")).all()
        sold = conn.execute(text("SELECT filled, status FROM orders WHERE side = 'sell'")).all()
    db.dispose()
    assert [tuple(t) for t in trades] == [(3, 2_000_000)]
    assert [tuple(s) for s in sold] == [(3, "open")]
