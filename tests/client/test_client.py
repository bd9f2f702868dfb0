"""The typed client against a live exchange: every endpoint, errors with fields, the stream."""

from __future__ import annotations

import asyncio
import threading

import pytest

from auctioneer.client import ApiError, AsyncClient, Client, OrderSpec, StreamEvent, Trade

from ..service.conftest import unique
from .conftest import MARKET, OTHER, Live


def _trader_and_provider(live: Live) -> tuple[Client, Client, str, str]:
    admin = Client(live.url, live.service.admin_key)
    buyer, seller = unique("cbuy"), unique("csell")
    buy_key = admin.open_account(buyer, "trader", deposit=50_000_000).api_key
    sell_key = admin.open_account(seller, "provider").api_key
    assert [c.provided for c in admin.add_capacity(seller, MARKET, 10)] == [10]
    admin.close()
    return Client(live.url, buy_key), Client(live.url, sell_key), buyer, seller


def test_market_data_is_typed(live: Live) -> None:
    with Client(live.url) as ex:
        markets = {m.id: m for m in ex.markets()}
        assert markets[MARKET].tick_size == 1_000
        assert ex.market(OTHER).base_price == 40_000
        assert ex.prices()[MARKET] == markets[MARKET].price
        assert ex.book(MARKET, depth=3).market == MARKET
        assert isinstance(ex.trades(), list) and isinstance(ex.ohlc(MARKET, 1), list)


def test_trade_place_modify_cancel_and_list(live: Live) -> None:
    buyer, seller, buyer_id, seller_id = _trader_and_provider(live)
    with buyer, seller:
        ask = seller.place("sell", MARKET, price=2_500_000, quantity=4)
        assert ask.status == "open" and ask.remaining == 4
        bought = buyer.place("buy", MARKET, price=2_500_000, quantity=3)
        assert bought.status == "filled"
        [trade] = bought.trades
        assert (trade.price, trade.quantity, trade.aggressor) == (2_500_000, 3, "buy")
        assert buyer.account().balance == 50_000_000 - 3 * 2_500_000
        assert seller.capacity()[0].allocated == 3
        assert any(t.id == trade.id for t in seller.trades(MARKET))

        bid = buyer.place("buy", MARKET, price=2_000_000, quantity=2)
        assert buyer.account().reserved == 2 * 2_000_000
        assert [o.id for o in buyer.orders()] == [bid.order_id]
        assert buyer.order(bid.order_id).remaining == 2
        assert buyer.modify(bid.order_id, quantity=1).remaining == 1
        assert buyer.cancel(bid.order_id).status == "cancelled"
        assert buyer.orders() == []
        assert buyer.account().reserved == 0
        assert seller.orders()[0].remaining == 1
        assert buyer_id != seller_id


def test_batch_answers_each_order(live: Live) -> None:
    buyer, seller, _, _ = _trader_and_provider(live)
    with buyer, seller:
        results = seller.place_batch([OrderSpec("sell", MARKET, 3_000_000, 1),
                                      OrderSpec("sell", MARKET, 3_001_000, 1, post_only=True)])
        assert [r.status for r in results] == ["open", "open"]
        asks = dict(seller.book(MARKET, depth=50).asks)
        assert asks[3_000_000] >= 1 and asks[3_001_000] >= 1


def test_errors_carry_the_field(live: Live) -> None:
    buyer, seller, _, _ = _trader_and_provider(live)
    with buyer, seller:
        with pytest.raises(ApiError) as off_tick:
            buyer.place("buy", MARKET, price=2_000_500, quantity=1)
        assert (off_tick.value.status, off_tick.value.field) == (422, "price")
        with pytest.raises(ApiError) as batch:
            buyer.place_batch([OrderSpec("buy", MARKET, 2_000_000, 1),
                               OrderSpec("buy", MARKET, 2_000_000, 0)])
        assert batch.value.field == "orders[1].quantity"
        with pytest.raises(ApiError) as unknown:
            buyer.cancel("no-such-order")
        assert (unknown.value.status, unknown.value.field) == (404, "order_id")
        with pytest.raises(ApiError) as market:
            buyer.book("nowhere/gpu.x")
        assert (market.value.status, market.value.field) == (404, "market")
    with Client(live.url, "not-a-key") as stranger, pytest.raises(ApiError) as auth:
        stranger.account()
    assert auth.value.status == 401
    with pytest.raises(ValueError, match="region/instance_type"):
        Client(live.url).market("no-slash")


def test_admin_and_money_movements(live: Live) -> None:
    name = unique("cadmin")
    with Client(live.url, live.service.admin_key) as admin:
        made = admin.open_account(name)
        assert admin.account_key(name) == made
        assert admin.deposit(name, 7_000_000).balance == 7_000_000
        assert admin.withdraw(name, 2_000_000).available == 5_000_000
        assert admin.account_of(name).balance == 5_000_000
        assert admin.state().seq > 0
        with pytest.raises(ApiError) as twice:
            admin.open_account(name)
        assert (twice.value.status, twice.value.field) == (409, "id")
        listed = admin.list_market("ap-south-1", unique("gpu"), 500, 1_000_000)
        assert listed.price == 1_000_000
        with Client(live.url, made.api_key) as owner:
            live.wait_projected()
            assert [e.amount for e in owner.ledger()] == [-2_000_000, 7_000_000]


def test_stream_iterates_typed_events(live: Live) -> None:
    buyer, seller, _, _ = _trader_and_provider(live)
    seen: list[StreamEvent] = []
    ready = threading.Event()

    def listen() -> None:
        with Client(live.url) as watcher:
            for event in watcher.stream():
                ready.set()
                seen.append(event)
                if isinstance(event.data, Trade):
                    return

    thread = threading.Thread(target=listen, daemon=True)
    thread.start()
    with buyer, seller:
        assert ready.wait(10)  # each market's price is published every second
        seller.place("sell", MARKET, price=2_700_000, quantity=1)
        buyer.place("buy", MARKET, price=2_700_000, quantity=1)
    thread.join(20)
    assert not thread.is_alive()
    assert {"price", "trade"} <= {e.kind for e in seen}


def test_async_client_does_the_same(live: Live) -> None:
    buyer_key = live.account(unique("async"), deposit=10_000_000)

    async def run() -> tuple[int, str, int]:
        async with AsyncClient(live.url, buyer_key) as ex:
            placed = await ex.place("buy", OTHER, price=30_000, quantity=2)
            orders = await ex.orders()
            cancelled = await ex.cancel(placed.order_id)
            try:
                await ex.place("buy", OTHER, price=30_050, quantity=1)
            except ApiError as exc:
                return len(orders), cancelled.status, exc.status
            raise AssertionError("an off-tick price was accepted")

    assert asyncio.run(run()) == (1, "cancelled", 422)


def test_market_orders(live: Live) -> None:
    buyer, seller, _, _ = _trader_and_provider(live)
    with buyer, seller:
        ask = seller.place("sell", MARKET, price=2_900_000, quantity=2)
        taken = buyer.place_market("buy", MARKET, 1, max_spend=5_000_000)
        assert taken.status == "filled" and taken.trades[0].quantity == 1
        with pytest.raises(ApiError) as unfillable:
            buyer.place_market("buy", MARKET, 10**6, max_spend=40_000_000, tif="fok")
        assert (unfillable.value.status, unfillable.value.field) == (422, "quantity")
        assert ask.order_id in {o.id for o in seller.orders()}
        body = OrderSpec("buy", MARKET, None, 2, max_spend=7).to_json()
        assert body == {"side": "buy", "market": MARKET, "quantity": 2, "type": "market",
                        "max_spend": 7}
