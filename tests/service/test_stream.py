"""The server-sent-events stream delivers trades, book updates and prices."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

from .conftest import MARKET, Live, unique


def read_events(live: Live, want: set[str], found: dict[str, Any],
                ready: threading.Event) -> None:
    with live.client() as c, c.stream("GET", "/stream", timeout=15.0) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        kind = None
        for line in response.iter_lines():
            if line.startswith(": connected"):
                ready.set()
            elif line.startswith("event: "):
                kind = line.removeprefix("event: ")
            elif line.startswith("data: ") and kind is not None:
                data = json.loads(line.removeprefix("data: "))
                if kind in want and data.get("market") == MARKET:
                    found.setdefault(kind, data)
                if want <= found.keys():
                    return


def test_stream_delivers_a_trade_a_book_and_a_price(market_live: Live) -> None:
    live = market_live
    found: dict[str, Any] = {}
    ready = threading.Event()
    reader = threading.Thread(target=read_events,
                              args=(live, {"trade", "book", "price"}, found, ready))
    reader.start()
    assert ready.wait(10)
    seller = live.provider(unique("streamer"))
    buyer = live.account(unique("listener"))
    live.post("/orders", {"side": "sell", "market": MARKET, "price": 3_000_000,
                          "quantity": 2}, seller)
    taken = live.post("/orders", {"side": "buy", "market": MARKET, "price": 3_000_000,
                                  "quantity": 1, "tif": "ioc"}, buyer)
    assert taken.json()["status"] == "filled"
    deadline = time.monotonic() + 10
    while reader.is_alive() and time.monotonic() < deadline:
        reader.join(0.1)
    assert not reader.is_alive(), f"stream saw only {sorted(found)}"
    assert found["trade"]["price"] == 3_000_000 and found["trade"]["quantity"] == 1
    assert isinstance(found["book"]["asks"], list)
    assert found["price"]["price"] > 0
