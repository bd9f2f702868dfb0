"""The HTTP API: auth and isolation, the admin role, 4xx errors naming the field, nothing
half-applied, rate limits, and orders end to end."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from auctioneer.exchange.journal import replay

from .conftest import MARKET, OTHER, Live, fresh_settings, start_live, stop_live, unique


def bid(price: int = 2_000_000, quantity: int = 1, **extra: Any) -> dict[str, Any]:
    return {"side": "buy", "market": MARKET, "price": price, "quantity": quantity, **extra}


def fresh_market(live: Live, region: str) -> tuple[str, str, str]:
    """A new market, a provider's key there and a funded buyer's key."""
    market = f"{region}/{unique('gpu')}"
    live.market(market)
    return (market, live.provider(unique("seller"), (market,)),
            live.account(unique("buyer"), deposit=100_000_000))


def test_orders_trade_and_settle(market_live: Live) -> None:
    live = market_live
    market, seller, buyer = fresh_market(live, "settle")
    ask = live.post("/orders", {"side": "sell", "market": market, "price": 2_100_000,
                                "quantity": 5}, seller)
    assert ask.status_code == 201 and ask.json()["status"] == "open"
    filled = live.post("/orders", {**bid(2_200_000, 2), "market": market}, buyer)
    assert filled.status_code == 201, filled.text
    result = filled.json()
    assert result["status"] == "filled" and result["filled"] == 2
    assert [(t["price"], t["quantity"]) for t in result["trades"]] == [(2_100_000, 2)]
    with live.client(buyer) as c:
        account = c.get("/account").json()
    assert account["balance"] == 100_000_000 - 4_200_000 and account["reserved"] == 0
    with live.client() as c:
        book = c.get(f"/markets/{market}/book").json()
        trades = c.get(f"/markets/{market}/trades").json()
        markets = {m["id"]: m for m in c.get("/markets").json()}
    assert book["asks"] == [[2_100_000, 3]] and book["bids"] == []
    assert trades[0]["quantity"] == 2
    assert markets[market]["best_ask"] == 2_100_000
    live.wait_projected()
    with live.client(buyer) as c:
        ledger = c.get("/account/ledger").json()
        done = c.get(f"/orders/{result['order_id']}").json()
    assert [e["amount"] for e in ledger] == [-4_200_000, 100_000_000]
    assert (done["status"], done["filled"], done["quantity"]) == ("filled", 2, 2)


def test_market_orders_over_http(market_live: Live) -> None:
    live = market_live
    market, seller, buyer = fresh_market(live, "marketorders")
    for price in (2_000_000, 2_100_000):
        ask = live.post("/orders", {"side": "sell", "market": market, "price": price,
                                    "quantity": 2}, seller)
        assert ask.status_code == 201, ask.text
    market_buy = {"type": "market", "side": "buy", "market": market, "quantity": 3}
    bought = live.post("/orders", {**market_buy, "max_spend": 6_200_000}, buyer)
    assert bought.status_code == 201, bought.text
    result = bought.json()
    assert [(t["price"], t["quantity"]) for t in result["trades"]] == [(2_000_000, 2),
                                                                      (2_100_000, 1)]
    assert result["status"] == "filled"
    fok = live.post("/orders", {**market_buy, "max_spend": 9_000_000, "tif": "fok"}, buyer)
    assert fok.status_code == 422 and fok.json()["field"] == "quantity"
    assert fok.json()["error"].startswith("only 1 of 3 can fill now"), fok.text
    for body, field in [({**market_buy, "max_spend": 1, "tif": "gtc"}, "tif"),
                        ({**market_buy}, "max_spend"),
                        ({**market_buy, "max_spend": 1, "price": 5}, "price"),
                        ({**market_buy, "max_spend": 1, "post_only": True}, "post_only"),
                        ({**market_buy, "max_spend": 2**63}, "max_spend"),
                        ({**market_buy, "max_spend": 10**30}, "max_spend"),
                        ({**market_buy, "max_spend": 1, "quantity": 10**30}, "quantity")]:
        refused = live.post("/orders", body, buyer)
        assert refused.status_code == 422 and refused.json()["field"] == field, refused.text
    sell = live.post("/orders", {"type": "market", "side": "sell", "market": market,
                                 "quantity": 1}, seller)
    assert sell.status_code == 201 and sell.json()["status"] == "cancelled"  # no bids: ioc
    live.wait_projected()
    with live.client(buyer) as c:
        done = c.get(f"/orders/{result['order_id']}").json()
        account = c.get("/account").json()
    assert (done["status"], done["filled"], done["price"]) == ("filled", 3, 0)
    assert account["reserved"] == 0 and account["balance"] == 100_000_000 - 6_100_000


def test_accounts_see_and_cancel_only_their_own_orders(market_live: Live) -> None:
    live = market_live
    alice, bob = live.account(unique("alice")), live.account(unique("bob"))
    placed = live.post("/orders", bid(1_900_000, 3), alice).json()
    oid = placed["order_id"]
    with live.client(bob) as c:
        assert c.get("/orders").json() == []
        for response in (c.get(f"/orders/{oid}"), c.delete(f"/orders/{oid}"),
                         c.patch(f"/orders/{oid}", json={"quantity": 1})):
            assert response.status_code == 404 and response.json()["field"] == "order_id"
    with live.client(alice) as c:
        assert [o["id"] for o in c.get("/orders").json()] == [oid]
        changed = c.patch(f"/orders/{oid}", json={"quantity": 1})
        assert changed.status_code == 200 and changed.json()["remaining"] == 1
        gone = c.delete(f"/orders/{oid}")
        assert gone.status_code == 200 and gone.json()["status"] == "cancelled"
        assert c.get("/orders").json() == []
        assert c.get("/account").json()["reserved"] == 0


def test_keys_and_roles(market_live: Live) -> None:
    live = market_live
    trader = live.account(unique("trader"))
    with live.client() as c:
        missing = c.get("/account")
        forged = c.get("/account", headers={"X-API-Key": "admin.0000"})
    for response in (missing, forged):
        assert response.status_code == 401 and response.json()["field"] == "X-API-Key"
    with live.client(trader) as c:
        denied = c.post("/admin/markets", json={"region": "x", "instance_type": "y",
                                                "tick_size": 1, "base_price": 1})
        sell = c.post("/orders", json={"side": "sell", "market": MARKET,
                                       "price": 2_000_000, "quantity": 1})
    assert denied.status_code == 403 and denied.json()["field"] == "X-API-Key"
    assert sell.status_code == 422 and sell.json()["field"] == "side"
    admin_order = live.post("/orders", bid(), live.service.admin_key)
    assert admin_order.status_code == 403
    name = trader.rpartition(".")[0]
    again = live.post("/admin/accounts", {"id": name}, live.service.admin_key)
    assert again.status_code == 409 and again.json()["field"] == "id"


@pytest.mark.parametrize(("body", "field"), [
    ({**bid(), "market": "nowhere/none"}, "market"),
    ({**bid(), "quantity": 0}, "quantity"),
    ({**bid(), "quantity": -3}, "quantity"),
    ({**bid(), "price": 2_000_001}, "price"),
    ({**bid(), "price": 0}, "price"),
    ({**bid(), "price": 2.5}, "price"),
    ({**bid(), "quantity": "3"}, "quantity"),
    ({**bid(), "side": "hold"}, "side"),
    ({**bid(), "tif": "day"}, "tif"),
    ({**bid(), "colour": "red"}, "colour"),
    ({**bid(), "markets": [MARKET, "nowhere/none"], "market": None}, "markets[1]"),
    ({k: v for k, v in bid().items() if k != "price"}, "price"),
    ({**bid(), "post_only": True, "tif": "ioc"}, "post_only"),
    ({**bid(), "quantity": 10**12}, "quantity"),
    # Issue 12 #5: an order with no market named `body`.
    ({**bid(), "market": None}, "market"),
    ({**bid(), "markets": [MARKET]}, "market"),
    ({**bid(), "markets": [MARKET, MARKET], "market": None}, "markets"),
])
def test_bad_orders_name_the_field(market_live: Live, body: dict[str, Any], field: str) -> None:
    key = market_live.account(unique("someone"))
    body = {k: v for k, v in body.items() if v is not None}
    response = market_live.post("/orders", body, key)
    assert 400 <= response.status_code < 500, response.text
    error = response.json()
    assert error["field"] == field, error
    assert error["error"] and error["details"][0]["field"] == field


def test_malformed_and_oversized_bodies(market_live: Live) -> None:
    live = market_live
    key = live.account(unique("someone"))
    with live.client(key) as c:
        headers = {"Content-Type": "application/json"}
        malformed = c.post("/orders", content=b'{"side": "buy",', headers=headers)
        not_object = c.post("/orders", content=b"[1, 2]", headers=headers)
        huge = c.post("/orders/batch", content=b" " * (live.settings.max_body + 1),
                      headers=headers)
        bad_query = c.get(f"/markets/{MARKET}/book", params={"depth": 0})
        unknown = c.get("/markets/nowhere/none")
    assert malformed.status_code == 422 and malformed.json()["field"] == "body"
    assert not_object.status_code == 422 and not_object.json()["field"] == "body"
    assert huge.status_code == 413 and huge.json()["field"] == "body"
    assert bad_query.status_code == 422 and bad_query.json()["field"] == "depth"
    assert unknown.status_code == 404 and unknown.json()["field"] == "market"


def test_order_views_agree(market_live: Live) -> None:
    """Issue 12 #5: the list showed quantity, filled and tif as null; a cancel of a partly
    filled sell answered filled 0; an IOC cancelled unfilled had no reason."""
    live = market_live
    market, seller, buyer = fresh_market(live, "views")
    ask = live.post("/orders", {"side": "sell", "market": market, "price": 2_000_000,
                                "quantity": 3}, seller).json()
    assert live.post("/orders", {**bid(2_000_000, 1), "market": market}, buyer).json()[
        "filled"] == 1
    with live.client(seller) as c:
        [listed] = c.get("/orders").json()
        one = c.get(f"/orders/{ask['order_id']}").json()
        assert listed == one
        assert (listed["quantity"], listed["filled"], listed["remaining"], listed["tif"]) == (
            3, 1, 2, "gtc")
        cancelled = c.delete(f"/orders/{ask['order_id']}").json()
        assert (cancelled["status"], cancelled["filled"], cancelled["remaining"],
                cancelled["reason"]) == ("cancelled", 1, 0, "cancelled")
        live.wait_projected()
        after = c.get(f"/orders/{ask['order_id']}").json()
        assert (after["status"], after["filled"], after["quantity"]) == ("cancelled", 1, 3)
    ioc = live.post("/orders", {**bid(1_000_000, 2), "market": market, "tif": "ioc"},
                    buyer).json()
    assert (ioc["status"], ioc["filled"], ioc["reason"]) == ("cancelled", 0, "ioc")
    rest = live.post("/orders", {**bid(1_000_000, 4), "market": market}, buyer).json()
    with live.client(buyer) as c:
        modified = c.patch(f"/orders/{rest['order_id']}", json={"quantity": 2}).json()
    assert (modified["status"], modified["filled"], modified["remaining"]) == ("open", 0, 2)


def test_a_bad_batch_applies_nothing(market_live: Live) -> None:
    live = market_live
    key = live.account(unique("batcher"), deposit=10_000_000)
    before = live.state()["seq"]
    good = bid(2_000_000, 1)
    for orders, field in (
        ([good, good, {**good, "price": 2_000_500}], "orders[2].price"),
        ([good, {**good, "market": "nowhere/none"}], "orders[1].market"),
        ([good] * 6, "orders"),  # 6 x $2 > $10 of funds: refused whole
        ([good, {**good, "quantity": 0}], "orders[1].quantity"),
    ):
        response = live.post("/orders/batch", {"orders": orders}, key)
        assert response.status_code == 422 and response.json()["field"] == field, response.text
    journaled = [cmd.kind for _, cmd in replay(live.settings.data_dir / "journal", before)]
    assert set(journaled) <= {"tick"}  # the clock moved; nothing else was sequenced
    with live.client(key) as c:
        assert c.get("/orders").json() == []
        assert c.get("/account").json()["reserved"] == 0
    ok = live.post("/orders/batch", {"orders": [good] * 5}, key)
    assert ok.status_code == 200
    assert [r["status"] for r in ok.json()["results"]] == ["open"] * 5


def test_cross_market_bid_and_modify(market_live: Live) -> None:
    live = market_live
    key = live.account(unique("cross"))
    body = {"side": "buy", "markets": [MARKET, OTHER], "price": 1_000_000, "quantity": 2}
    placed = live.post("/orders", body, key)
    assert placed.status_code == 201 and placed.json()["status"] == "open"
    with live.client() as c:
        assert c.get(f"/markets/{OTHER}/book").json()["bids"] == [[1_000_000, 2]]
    oid = placed.json()["order_id"]
    with live.client(key) as c:
        off_tick = c.patch(f"/orders/{oid}", json={"price": 1_000_050})
        empty = c.patch(f"/orders/{oid}", json={})
    assert off_tick.status_code == 422 and off_tick.json()["field"] == "price"
    assert empty.status_code == 422


def test_rate_limit_answers_429_with_retry_after(tmp_path: Path) -> None:
    live = start_live(fresh_settings(tmp_path, rate=0.01, burst=3))
    try:
        live.market(MARKET)
        key = live.account(unique("eager"))
        codes = [live.post("/orders", bid(1_000_000), key).status_code for _ in range(4)]
        assert codes == [201, 201, 201, 429]
        limited = live.post("/orders", bid(1_000_000), key)
        assert limited.status_code == 429
        assert int(limited.headers["Retry-After"]) >= 1
        assert limited.json()["field"] == "X-API-Key"
        batch = live.post("/orders/batch", {"orders": [bid(1_000_000)] * 4}, key)
        assert batch.status_code == 422  # more than the burst can ever pay for
        other = live.account(unique("patient"))
        assert live.post("/orders", bid(1_000_000), other).status_code == 201
    finally:
        stop_live(live)
