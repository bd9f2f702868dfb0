"""Fail-stop: an engine that raises after the journal write stops the sequencer; every waiting
and later write is a 503 naming the request, none hangs, and reads go on."""

from __future__ import annotations

import concurrent.futures
import time
from pathlib import Path

import pytest

from auctioneer.exchange.engine import Exchange

from .conftest import MARKET, fresh_settings, start_live, stop_live


def test_an_engine_error_stops_the_sequencer(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUCTIONEER_ENGINE", "python")  # the engine whose apply is patched
    live = start_live(fresh_settings(tmp_path, tick_interval_s=3600.0))
    try:
        live.market(MARKET)
        key = live.account("doomed")
        order = {"side": "buy", "market": MARKET, "price": 1_000_000, "quantity": 1}

        def broken(self: Exchange, command: object) -> list[object]:
            raise RuntimeError("engine bug")

        monkeypatch.setattr(Exchange, "apply", broken)
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(lambda _: live.post("/orders", order, key), range(8)))
        answers.append(live.post("/orders", order, key))
        for answer in answers:
            assert answer.status_code == 503, answer.text
            assert answer.json()["field"] == "request"
        # The concurrent posts reach the sequencer in any order: the group that met the bug
        # is told of it, every later one that the exchange has stopped.
        messages = [answer.json()["error"] for answer in answers]
        assert any("engine bug" in m for m in messages), messages
        assert all("engine bug" in m or "not accepting commands" in m for m in messages)
        assert "not accepting commands" in messages[-1]
        assert live.service.sequencer.error is not None
        with live.client(key) as c:
            assert c.get("/account").status_code == 200
    finally:
        monkeypatch.undo()
        stop_live(live)


def test_a_record_the_tables_cannot_hold_halts_the_projection(tmp_path: Path) -> None:
    """Issue 12 #3: one trade worth more than 2**63 - 1 killed the follower on every restart,
    forever. Now the write names the field, the failure is counted, and after HALT_AFTER
    failures at one seq the service stops restarting it: halted, shown in /admin/state."""
    from auctioneer.exchange.commands import PlaceOrder
    from auctioneer.exchange.events import Traded
    from auctioneer.exchange.model import Side
    from auctioneer.service.projector import HALT_AFTER, ProjectionError, Projector, read_fault
    from auctioneer.service.store import connect, projected_seq

    db = connect(f"sqlite:///{tmp_path / 't.sqlite'}")
    poison = (7, PlaceOrder("b", "t", Side.BUY, (MARKET,), 2**62, 4),
              [Traded(1, MARKET, "b", "s", "t", "p", 2**62, 4, Side.BUY, 0)])
    for count in range(1, HALT_AFTER + 1):
        with pytest.raises(ProjectionError, match=r"ledger.amount -18446744073709551616 does "
                           r"not fit a 64-bit SQL integer \(seq 7\)"):
            Projector(db).project([poison])  # a restarted follower: a new projector
        fault = read_fault(db)
        assert fault is not None and (fault.seq, fault.count) == (7, count)
    assert fault.halted and projected_seq(db) == 0
    Projector(db).project([])  # nothing to write clears nothing
    assert read_fault(db) == fault


def test_a_halted_projection_is_shown_and_resumed(tmp_path: Path) -> None:
    from sqlalchemy import insert

    from auctioneer.service.projector import HALT_AFTER
    from auctioneer.service.store import faults

    live = start_live(fresh_settings(tmp_path))
    try:
        live.market(MARKET)
        with live.service.db.begin() as conn:
            conn.execute(insert(faults).values(key="projection", seq=5, count=HALT_AFTER,
                                               error="ProjectionError: test"))
        process = live.service.follower.process
        assert process is not None
        process.kill()
        process.wait()
        deadline = time.monotonic() + 20
        while live.state()["projection"] != "halted":
            assert time.monotonic() < deadline, live.state()
            time.sleep(0.05)
        state = live.state()
        assert state["projection_fault"] == "seq 5, 3 time(s): ProjectionError: test"
        assert not state["projection_running"]
        live.account("while-halted")  # writes go on; the tables wait
        with live.client(live.service.admin_key) as c:
            resumed = c.post("/admin/projection/resume").json()
        assert resumed["projection"] == "running" and resumed["projection_fault"] is None
        state = live.wait_projected()
        assert state["projected_seq"] == state["seq"]
    finally:
        stop_live(live)
