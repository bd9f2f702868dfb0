"""The orders' fast lane against the FastAPI routes (the reference): two services, one with
the lane and one without, take the same requests and give the same answers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from auctioneer.service.fastlane import OrderLane

from .conftest import MARKET, OTHER, Live, fresh_settings, start_live, stop_live

_BID = {"side": "buy", "market": MARKET, "price": 2_000_000, "quantity": 2}
_ASK = {"side": "sell", "market": MARKET, "price": 2_000_000, "quantity": 3}
_JSON = {"Content-Type": "application/json"}
# (path, body as sent, whose key, extra headers); each service runs them in this order.
_REQUESTS: list[tuple[str, bytes, str, dict[str, str]]] = [
    ("/orders", orjson.dumps(_ASK), "seller", _JSON),
    ("/orders", orjson.dumps(_BID), "buyer", _JSON),
    ("/orders", orjson.dumps({**_BID, "tif": "ioc", "price": 1_000_000}), "buyer", _JSON),
    ("/orders", orjson.dumps({"type": "market", "side": "buy", "market": MARKET,
                              "quantity": 1, "max_spend": 5_000_000}), "buyer", _JSON),
    ("/orders", orjson.dumps({"type": "market", "side": "buy", "market": MARKET,
                              "quantity": 50, "max_spend": 10**9, "tif": "fok"}), "buyer", _JSON),
    ("/orders", orjson.dumps({**_BID, "market": "nowhere/none"}), "buyer", _JSON),
    ("/orders", orjson.dumps({**_BID, "price": 2_000_500}), "buyer", _JSON),
    ("/orders", orjson.dumps({**_BID, "quantity": 10**12}), "buyer", _JSON),
    ("/orders", orjson.dumps({**_ASK, "market": OTHER, "price": 40_000}), "buyer", _JSON),
    ("/orders", orjson.dumps(_BID), "nobody", _JSON),
    ("/orders", orjson.dumps(_BID), "", _JSON),
    ("/orders", orjson.dumps({**_BID, "extra": 1}), "buyer", _JSON),
    ("/orders", b'{"side": "buy",', "buyer", _JSON),
    ("/orders", orjson.dumps(_BID), "buyer", {"Content-Type": "text/plain"}),
    ("/orders", orjson.dumps({**_BID, "markets_": [MARKET], "market": None}), "buyer", _JSON),
    ("/orders", orjson.dumps({**_BID, "markets": [MARKET, OTHER], "market": None,
                              "price": 1_000_000}), "buyer", _JSON),
    ("/orders/batch", orjson.dumps({"orders": [_ASK, _BID, {**_BID, "tif": "fok"}]}),
     "seller", _JSON),
    ("/orders/batch", orjson.dumps({"orders": [_BID, {**_BID, "price": 2_000_500}]}),
     "buyer", _JSON),
    ("/orders/batch", orjson.dumps({"orders": [_BID] * 400}), "buyer", _JSON),
    ("/orders/batch", orjson.dumps({"orders": []}), "buyer", _JSON),
    ("/orders/batch", orjson.dumps({"orders": [_BID], "more": 1}), "buyer", _JSON),
    ("/orders/batch", b" " * ((1 << 20) + 1), "buyer", _JSON),
]


def _normal(data: Any) -> Any:
    """``data`` with what differs between two services (ids, times) masked."""
    if isinstance(data, dict):
        return {k: "*" if k in ("order_id", "ts_ns") else _normal(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_normal(v) for v in data]
    return data


@pytest.fixture(scope="module")
def both(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[tuple[Live, dict[str, str]]]]:
    services = []
    try:
        for lane in (True, False):
            live = start_live(fresh_settings(tmp_path_factory.mktemp("lane")), lane=lane)
            services.append(live)
        out = []
        for live in services:
            live.market(MARKET, tick=1_000, base=2_000_000)
            live.market(OTHER, tick=100, base=40_000)
            keys = {"seller": live.provider("seller"),
                    "buyer": live.account("buyer", deposit=600_000_000),
                    "nobody": "nobody.0123456789abcdef", "": ""}
            out.append((live, keys))
        yield out
    finally:
        for live in services:
            stop_live(live)


def test_the_lane_is_in_one_app_only(both: list[tuple[Live, dict[str, str]]]) -> None:
    lanes = [isinstance(live.server.config.app.middleware_stack.app, OrderLane)
             for live, _ in both]
    assert lanes == [True, False]


def test_the_lane_answers_as_the_routes_do(both: list[tuple[Live, dict[str, str]]]) -> None:
    answers: list[list[tuple[int, str | None, Any]]] = []
    for live, keys in both:
        seen = []
        with httpx.Client(base_url=live.url, timeout=30.0) as client:
            for path, body, who, headers in _REQUESTS:
                sent = {**headers, **({"X-API-Key": keys[who]} if keys[who] else {})}
                response = client.post(path, content=body, headers=sent)
                seen.append((response.status_code, response.headers.get("content-type"),
                             _normal(response.json())))
        answers.append(seen)
    fast, reference = answers
    for request, one, other in zip(_REQUESTS, fast, reference, strict=True):
        assert one == other, request[:3]
    statuses = {status for status, _, _ in fast}
    assert {200, 201, 401, 413, 422} <= statuses  # the cases reach each kind of answer
    accounts = []
    for live, keys in both:
        with live.client(keys["buyer"]) as client:
            accounts.append(client.get("/account").json())
    assert accounts[0] == accounts[1]


def test_the_lane_keeps_the_route_documented(tmp_path: Path) -> None:
    live = start_live(fresh_settings(tmp_path))
    try:
        paths = httpx.get(f"{live.url}/openapi.json").json()["paths"]
        assert "requestBody" in paths["/orders"]["post"]
        assert "requestBody" in paths["/orders/batch"]["post"]
    finally:
        stop_live(live)
