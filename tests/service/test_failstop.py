"""Fail-stop: an engine that raises after the journal write stops the sequencer; every waiting
and later write is a 503 naming the request, none hangs, and reads go on."""

from __future__ import annotations

import concurrent.futures
from pathlib import Path

import pytest

from auctioneer.exchange.engine import Exchange

from .conftest import MARKET, fresh_settings, start_live, stop_live


def test_an_engine_error_stops_the_sequencer(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
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
