"""The tables in PostgreSQL: a throwaway cluster (Debian's postgresql, run as the
``postgres`` user), the service pointed at it by URL, orders and trades projected."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from auctioneer.service.process import free_port

from .conftest import MARKET, fresh_settings, start_live, stop_live

INITDB = shutil.which("initdb")
RUNUSER = shutil.which("runuser")


def _skip_reason() -> str | None:
    if INITDB is None or shutil.which("pg_ctl") is None:
        return "PostgreSQL (initdb, pg_ctl) is not installed"
    if os.geteuid() != 0 or RUNUSER is None:
        return "starting a throwaway cluster needs root and runuser (to run as 'postgres')"
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return "the psycopg driver is not installed"
    return None


pytestmark = pytest.mark.skipif(_skip_reason() is not None, reason=str(_skip_reason()))


def as_postgres(*args: str) -> None:
    subprocess.run([str(RUNUSER), "-u", "postgres", "--", *args], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


@pytest.fixture
def postgres_url() -> Iterator[str]:
    root = Path(tempfile.mkdtemp(prefix="auctioneer-pg-"))
    shutil.chown(root, "postgres")
    data = root / "data"
    port = free_port()
    as_postgres("initdb", "-D", str(data), "-A", "trust", "-U", "postgres")
    as_postgres("pg_ctl", "-D", str(data), "-w", "-l", str(root / "log"), "-o",
                f"-p {port} -k {root} -c listen_addresses=''", "start")
    try:
        yield f"postgresql+psycopg://postgres@/postgres?host={root}&port={port}"
    finally:
        as_postgres("pg_ctl", "-D", str(data), "-m", "immediate", "stop")
        shutil.rmtree(root, ignore_errors=True)


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
