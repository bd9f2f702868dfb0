"""``serve --nats`` end to end on a real three-node cluster with two partitions: the
acknowledgement, idempotent retries, refusals before anything is published, and reads."""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest

from auctioneer.cli import main
from auctioneer.exchange.scaleout.coordinator import Coordinator, CrossBid, encode_record
from auctioneer.exchange.scaleout.crossbid import COORDINATOR_STREAM, StreamLog
from auctioneer.exchange.scaleout.harness import read_log, wait_for
from auctioneer.exchange.scaleout.node import connect
from auctioneer.exchange.scaleout.publisher import Publisher
from auctioneer.exchange.scaleout.stream import StreamSpec, last_sequence
from auctioneer.service.cluster_app import order_key
from auctioneer.service.servedcluster import EVENTS, PRICE

from .cluster_page import trade_on_page
from .nats_served import COMMANDS, Load, Served, served_fixture

served = served_fixture(partitions=2, engines_per_partition=2)


async def _post(served: Served, path: str, body: dict[str, Any], account: str = "buyer",
                **headers: str) -> httpx.Response:
    async with httpx.AsyncClient(base_url=served.urls[0], timeout=20.0) as client:
        return await client.post(path, json=body, headers={
            "X-API-Key": served.endpoints.keys[account], **headers})


async def _newest(served: Served) -> list[int]:
    nc = await connect(served.cluster.url)
    try:
        return [await last_sequence(nc.jetstream(), p, COMMANDS) for p in range(2)]
    finally:
        await nc.close()


def test_an_order_retried_with_its_key_is_applied_once_in_its_partition(
        served: Served) -> None:
    async def run() -> None:
        order = {"side": "buy", "market": served.market(1), "price": 1_000_000,
                 "quantity": 2}
        first = await _post(served, "/orders", order, **{"Idempotency-Key": "once-1"})
        assert first.status_code == 201, first.text
        again = await _post(served, "/orders", order, **{"Idempotency-Key": "once-1"})
        assert again.json() == first.json()
        oid = first.json()["order_id"]
        buyer = {"X-API-Key": served.endpoints.keys["buyer"]}
        async with httpx.AsyncClient(base_url=served.urls[1], timeout=20.0,
                                     headers=buyer) as client:
            async def seen() -> bool:  # the other API process reads it from the log
                return (await client.get(f"/orders/{oid}")).status_code == 200

            for _ in range(100):
                if await seen():
                    break
                await asyncio.sleep(0.05)
            got = (await client.get(f"/orders/{oid}")).json()
            assert (got["partition"], got["status"], got["remaining"]) == (1, "open", 2)
            account = (await client.get("/account")).json()
            each = {a["partition"]: a for a in account["partitions"]}
            assert each[1]["reserved"] >= 2_000_000
            assert account["reserved"] == sum(a["reserved"] for a in each.values())
            # the dashboard's calls, from this process's projection without --db
            listed = {o["id"]: o for o in (await client.get("/orders")).json()}
            assert (listed[oid]["partition"], listed[oid]["remaining"]) == (1, 2)
            changed = await client.patch(f"/orders/{oid}", json={"quantity": 1})
            assert (changed.status_code, changed.json()["remaining"]) == (200, 1), changed.text
            assert (await client.patch("/orders/nope", json={"quantity": 1})).status_code == 404
            bars = await client.get(f"/markets/{served.market(1)}/ohlc?interval=1")
            assert bars.status_code == 200 and isinstance(bars.json(), list)
            cancelled = await client.delete(f"/orders/{oid}")
            assert cancelled.json()["status"] == "cancelled"
        await served.verify({oid: 2})

    served.run(run())


def test_refusals_name_the_field_and_publish_nothing(served: Served) -> None:
    async def run() -> None:
        before = await _newest(served)
        order = {"side": "buy", "market": served.market(0), "price": 1_000_000, "quantity": 1}
        stale = await _post(served, "/orders", order,
                            **{"X-Partition-Map": "partitions=3;assign="})
        assert (stale.status_code, stale.json()["field"]) == (409, "X-Partition-Map")
        unknown = await _post(served, "/orders", {**order, "market": "us-east-1/none"})
        assert (unknown.status_code, unknown.json()["field"]) == (422, "market")
        across = await _post(served, "/orders", {
            "side": "sell", "markets": [served.market(0), served.market(1)],
            "price": 1_000_000, "quantity": 1}, account="seller")
        assert (across.status_code, across.json()["field"]) == (422, "markets")
        key = await _post(served, "/orders", order, **{"Idempotency-Key": "a b"})
        assert (key.status_code, key.json()["field"]) == (422, "Idempotency-Key")
        for partition in (7, -1, 2**63, 10**30):
            out_of_range = await _post(served, "/admin/accounts/buyer/deposit"
                                       f"?partition={partition}", {"amount": 5},
                                       account="admin")
            assert (out_of_range.status_code, out_of_range.json()["field"]) == (422,
                                                                                "partition")
        assert await _newest(served) == before

    served.run(run())


def test_a_batch_is_checked_whole_placed_in_its_partitions_and_retried_once(
        served: Served) -> None:
    """``POST /orders/batch`` on ``serve --nats``: orders in both partitions, answered in
    order; the same key again is the same results with nothing stored; a bad order is a 422
    naming ``orders[i].<field>`` with nothing stored; two accounts' equal keys are two
    orders."""
    async def run() -> None:
        buy = {"side": "buy", "price": 10_000, "quantity": 1}
        batch = {"orders": [{**buy, "market": served.market(0)},
                            {**buy, "market": served.market(1), "quantity": 2}]}
        first = await _post(served, "/orders/batch", batch, **{"Idempotency-Key": "batch-1"})
        assert first.status_code == 200, first.text
        results = first.json()["results"]
        assert [(r["status"], r["remaining"]) for r in results] == [("open", 1), ("open", 2)]
        before = await _newest(served)
        again = await _post(served, "/orders/batch", batch, **{"Idempotency-Key": "batch-1"})
        assert again.json() == first.json()
        refused = {
            "orders[1].market": {"orders": [batch["orders"][0],
                                            {**buy, "market": "us-east-1/none"}]},
            "orders[0].markets": {"orders": [{**buy, "markets": [served.market(0),
                                                                 served.market(1)]}]},
            "orders[0].price": {"orders": [{**buy, "market": served.market(0),
                                            "price": 10_001}]},
            "orders": {"orders": [{**buy, "market": served.market(1), "price": 10**12,
                                   "quantity": 10**6}] * 2},
        }
        for field, body in refused.items():
            answer = await _post(served, "/orders/batch", body)
            assert (answer.status_code, answer.json()["field"]) == (422, field), answer.text
        assert await _newest(served) == before
        seller = await _post(served, "/orders", {"side": "sell", "market": served.market(1),
                                                 "price": 10**8, "quantity": 1},
                             account="seller", **{"Idempotency-Key": "batch-1"})
        assert seller.status_code == 201, seller.text
        assert seller.json()["order_id"] not in {r["order_id"] for r in results}
        acked = {r["order_id"]: 1 for r in results} | {seller.json()["order_id"]: 1}
        await served.verify(acked)

    served.run(run())


def test_rate_limits_per_account_are_429_with_retry_after(served: Served) -> None:
    """An API process started with ``--rate 0.5 --burst 2``: the third order in a row is 429
    naming ``X-API-Key`` with ``Retry-After``, a batch above the burst is 422 ``orders``,
    admins are not limited."""
    async def run() -> None:
        served.start_api(2, "--rate", "0.5", "--burst", "2")
        try:
            await served.wait_api(2)
            order = {"side": "buy", "market": served.market(0), "price": 10_000,
                     "quantity": 1}
            keys = served.endpoints.keys
            async with httpx.AsyncClient(base_url=served.urls[2], timeout=20.0) as client:
                answers = [await client.post("/orders", json=order,
                                             headers={"X-API-Key": keys["buyer"]})
                           for _ in range(3)]
                assert [a.status_code for a in answers] == [201, 201, 429], answers[-1].text
                assert answers[2].json()["field"] == "X-API-Key"
                assert int(answers[2].headers["Retry-After"]) >= 1
                big = await client.post("/orders/batch", json={"orders": [order] * 3},
                                        headers={"X-API-Key": keys["seller"]})
                assert (big.status_code, big.json()["field"]) == (422, "orders"), big.text
                for _ in range(3):
                    admin = await client.post("/admin/accounts/buyer/deposit?partition=0",
                                              json={"amount": 1},
                                              headers={"X-API-Key": keys["admin"]})
                    assert admin.status_code == 200, admin.text
            await served.verify({a.json()["order_id"]: 1 for a in answers[:2]})
        finally:
            api = served.apis.pop()
            served.ports.pop()
            assert api is not None
            api.kill()
            api.wait()

    served.run(run())


def test_serve_refuses_a_cluster_whose_map_differs(served: Served, tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--nats", served.cluster.url, "--partitions", "3",
                 "--data-dir", str(tmp_path)]) == 2
    assert "--partitions" in capsys.readouterr().err


def test_orders_cross_and_trade_in_both_partitions(served: Served) -> None:
    async def run() -> None:
        load = Load(served.endpoints, workers=2).start()
        await load.run_for(1.5)
        await load.stop()
        assert len(load.acked) > 10
        await served.verify(load.acked)

    served.run(run())


async def _offer(served: Served, name: str) -> list[str]:
    """Markets ``<region>/<name>`` in partitions 0 and 1, the seller offering 3 and 4 in them
    at 1,000,000 (fresh books: other tests' orders do not meet the bids)."""
    markets = [f"{region}/{name}" for region in ("us-east-1", "eu-west-1")]
    for market, offered in zip(markets, (3, 4), strict=True):
        region, instance_type = market.split("/")
        listed = await _post(served, "/admin/markets", {
            "region": region, "instance_type": instance_type, "tick_size": 10_000,
            "base_price": 1_000_000}, account="admin")
        assert listed.status_code == 201, listed.text
        capacity = await _post(served, "/admin/capacity", {
            "account": "seller", "market": market, "quantity": offered}, account="admin")
        assert capacity.status_code == 200, capacity.text
        sell = await _post(served, "/orders", {"side": "sell", "market": market,
                                               "price": 1_000_000, "quantity": offered},
                           account="seller")
        assert sell.json()["status"] == "open", sell.text
    return markets


async def _legs_bought(served: Served) -> dict[str, int]:
    """What every leg order (``<bid>#<i>``) bought, summed over the trades of both
    partitions' logs."""
    nc = await connect(served.cluster.url)
    try:
        bought: dict[str, int] = {}
        for p in range(2):
            for entry in await read_log(nc.jetstream(), p, EVENTS):
                for event in entry.events:
                    order = event.get("buy_order", "")
                    if event["type"] == "traded" and "#" in order:
                        bought[order] = bought.get(order, 0) + event["quantity"]
        return bought
    finally:
        await nc.close()


async def _bought(served: Served, bid_id: str) -> dict[str, int]:
    """What each leg of ``bid_id`` bought, summed over every trade in both partitions' logs."""
    return {o: n for o, n in (await _legs_bought(served)).items()
            if o.startswith(f"{bid_id}#")}


async def _bid(served: Served, url: str, body: dict[str, Any], key: str) -> httpx.Response:
    async with httpx.AsyncClient(base_url=url, timeout=20.0) as client:
        return await client.post("/orders", json=body, headers={
            "X-API-Key": served.endpoints.keys["buyer"], "Idempotency-Key": key})


def test_a_bid_across_partitions_fills_at_most_its_quantity_once(served: Served) -> None:
    """The coordinator behind POST /orders: leg 0 fills what partition 0 offers, leg 1 the
    rest; a retry with the key (on the other API process) is the one outcome, applied once."""
    async def run() -> None:
        markets = await _offer(served, "xbid")
        bid = {"side": "buy", "markets": markets, "price": 1_000_000, "quantity": 5,
               "tif": "ioc"}
        first = await _bid(served, served.urls[0], bid, "across-1")
        assert first.status_code == 201, first.text
        got = first.json()
        assert (got["status"], got["filled"], got["remaining"]) == ("filled", 5, 0)
        assert [(leg["partition"], leg["filled"]) for leg in got["legs"]] == [(0, 3), (1, 2)]
        again = await _bid(served, served.urls[1], bid, "across-1")
        assert again.json() == got
        assert await _bought(served, got["order_id"]) == {f"{got['order_id']}#0": 3,
                                                          f"{got['order_id']}#1": 2}
        await served.verify({leg["order_id"]: 1 for leg in got["legs"]})

    served.run(run())


async def _died_mid_saga(served: Served, markets: list[str], key: str) -> str:
    """Store what an API that died after sending leg 0 of the buyer's bid (5 at 1,000,000
    over ``markets``, sent with ``key``) left: its Begun record and leg 0; the bid's id."""
    bid_id = order_key("buyer", key)
    coordinator = Coordinator(served.map)
    begun = coordinator.begin(CrossBid(bid_id, "buyer", tuple(markets), 1_000_000, 5))
    coordinator.apply(begun)
    [leg] = coordinator.pending()
    nc = await connect(served.cluster.url)
    try:
        js = nc.jetstream()
        spec = StreamSpec(COORDINATOR_STREAM.name, COORDINATOR_STREAM.prefix, replicas=3)
        await StreamLog(js, spec).append(begun)
        await (await Publisher.open(js, served.map, COMMANDS)).publish(
            leg.command, leg.msg_id, partition=leg.partition)
    finally:
        await nc.close()
    return bid_id


def _kill_api(served: Served, i: int) -> None:
    api = served.apis[i]
    assert api is not None
    api.kill()
    api.wait()


async def _finished_once(served: Served, bid_id: str, by: str) -> None:
    """Wait until the left-over bid of :func:`_died_mid_saga` bought 3 + 2, then verify."""
    want = {f"{bid_id}#0": 3, f"{bid_id}#1": 2}

    async def finished() -> bool:
        return await _bought(served, bid_id) == want

    await wait_for(finished, 20, f"bid {bid_id} finished by {by}")
    await served.verify({f"{bid_id}#0": 1, f"{bid_id}#1": 1})


def test_a_bid_whose_api_died_mid_saga_is_finished_as_first_taken(served: Served) -> None:
    """The log holds the bid's Begun record and leg 0 is stored (the API died there): a retry
    with the key on the other API, even with another quantity, finishes the bid as taken."""
    async def run() -> None:
        markets = await _offer(served, "xmid")
        bid_id = await _died_mid_saga(served, markets, "across-2")
        retried = await _bid(served, served.urls[1], {
            "side": "buy", "markets": markets, "price": 1_000_000, "quantity": 50,
            "tif": "ioc"}, "across-2")
        assert retried.status_code == 201, retried.text
        got = retried.json()
        assert (got["order_id"], got["filled"]) == (bid_id, 5)
        assert await _bought(served, bid_id) == {f"{bid_id}#0": 3, f"{bid_id}#1": 2}
        await served.verify({f"{bid_id}#0": 1, f"{bid_id}#1": 1})

    served.run(run())


def test_an_api_starting_finishes_the_bids_left_unfinished(served: Served) -> None:
    """Nobody retries: the next API process to start reads the coordinator's log and finishes
    the bid, once."""
    async def run() -> None:
        markets = await _offer(served, "xres")
        bid_id = await _died_mid_saga(served, markets, "across-3")
        _kill_api(served, 1)
        served.start_api(1)
        await served.wait_api(1)
        await _finished_once(served, bid_id, "the restarted API")

    served.run(run())


def test_a_bid_whose_api_died_is_finished_by_the_coordinator_role(served: Served) -> None:
    """API 0 dies mid-saga (SIGKILL; it may hold the coordinator's lease), nobody retries and
    no API process starts: the survivor takes the coordinator lease and finishes the bid,
    once, while it keeps serving."""
    async def run() -> None:
        markets = await _offer(served, "xlease")
        bid_id = await _died_mid_saga(served, markets, "across-4")
        _kill_api(served, 0)
        try:
            await _finished_once(served, bid_id, "the surviving API")
        finally:
            served.start_api(0)
            await served.wait_api(0)

    served.run(run())


def test_the_dashboard_trades_through_the_cluster_without_a_database(served: Served) -> None:
    """The dashboard from a ``serve --nats`` process without ``--db``: everything the page
    reads (trades, book, open orders, money) comes from the process's projection of the log."""
    trade_on_page(served, 1)


def test_bids_across_partitions_in_flight_while_a_leader_and_an_api_are_killed(
        served: Served) -> None:
    """Chaos with cross-partition bids in flight: two clients keep bidding over both
    partitions (IOC and GTC in turn) and three keep selling in both, while partition 0's
    leader (where every bid's first leg goes) and then API process 0 are SIGKILLed and
    restarted.

    Then: every bid sent was acknowledged and finished once: a re-ask with its key on the
    other API (a sample of them) gets the same answer and stores nothing new; the
    coordinator's log holds its Begun and each leg's Settled once; what its legs bought in
    the partitions' logs is what it answered (plus later fills of a GTC bid's resting last
    leg), never more than its quantity; and ``verify`` (every leg and order once, money,
    capacity and reservations conserved, replicas at the log's hash).

    Covered: the leader engine and the API process; a NATS node kill with bids in flight
    is not here (a stream-leader re-election stalls JetStream calls for seconds)."""
    async def run() -> None:
        load = Load(served.endpoints, workers=3, bidders=2).start()
        await load.run_for(1.0)
        leader = await served.leader(0)
        served.engines[leader].kill()
        served.engines[leader].wait()
        await load.run_for(2.0)
        _kill_api(served, 0)
        served.start_engine(0, leader)
        await load.run_for(1.5)
        served.start_api(0)
        await served.wait_api(0)
        await load.run_for(1.0)
        await load.stop()
        assert len(load.bids) >= 5, load.bids
        assert load.bids.keys() == load.sent_bids.keys(), "a bid never acknowledged"
        before = await _newest(served)
        keys = sorted(load.bids)
        for key in keys[::max(1, len(keys) // 8)]:  # a sample: each re-ask reads the saga log
            got = load.bids[key]
            again = await _bid(served, served.urls[1], {
                "side": "buy", "markets": list(served.endpoints.markets), "price": PRICE,
                "quantity": load.sent_bids[key], "tif": "ioc"}, key)
            assert again.json() == got, key
        assert await _newest(served) == before, "a re-ask stored a command"

        bought = await _legs_bought(served)
        for key, quantity in load.sent_bids.items():
            bid_id = order_key("buyer", key)
            mine = {o: n for o, n in bought.items() if o.startswith(f"{bid_id}#")}
            got = load.bids[key]
            assert sum(mine.values()) <= quantity, (key, mine, got)
            legs = {leg["order_id"]: leg for leg in got["legs"]}
            assert mine.keys() <= legs.keys(), (key, mine, got)
            for oid, leg in legs.items():  # a GTC bid's resting last leg may fill later
                assert leg["filled"] <= mine.get(oid, 0) <= leg["filled"] + leg["resting"], \
                    (key, mine, got)
        records = await _coordinator_records(served)
        begun = Counter(r["bid_id"] for r in records if r["type"] == "begun")
        settled = Counter((r["bid_id"], r["index"]) for r in records if r["type"] == "settled")
        for key, got in load.bids.items():
            assert begun[got["order_id"]] == 1, key
            assert [settled[(got["order_id"], i)] for i in range(len(got["legs"]))] == \
                [1] * len(got["legs"]), key
        await served.verify(load.acked)

    served.run(run())


async def _coordinator_records(served: Served) -> list[dict[str, Any]]:
    """Every record of the coordinator's log, as stored (duplicates would show twice)."""
    nc = await connect(served.cluster.url)
    try:
        spec = StreamSpec(COORDINATOR_STREAM.name, COORDINATOR_STREAM.prefix, replicas=3)
        return [encode_record(r) for r in await StreamLog(nc.jetstream(), spec).records()]
    finally:
        await nc.close()
