"""Markets to partitions and commands to partitions: stable, documented, refusing what spans."""

import zlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from auctioneer.exchange import commands
from auctioneer.exchange.model import Market, Role, Side
from auctioneer.exchange.scaleout.commandfile import parse_line
from auctioneer.exchange.scaleout.partition import PartitionMap, Router, RoutingError

MAP = PartitionMap(3, {"us-east-1": 0, "us-west-2": 0, "eu-west-1": 1})


def _buy(order_id: str, *markets: str) -> commands.PlaceOrder:
    return commands.PlaceOrder(order_id, "alice", Side.BUY, markets, 1_000_000, 1)


def test_assigned_regions_go_where_told_and_others_by_crc32() -> None:
    assert MAP.of_market("us-east-1/gpu.a100") == 0
    assert MAP.of_market("us-west-2/cpu.large") == 0
    assert MAP.of_market("eu-west-1/gpu.h100") == 1
    # The documented fallback: crc32 of the region, so every process agrees.
    assert MAP.of_market("ap-south-1/gpu.a100") == zlib.crc32(b"ap-south-1") % 3


@given(st.text(alphabet="abcdefghijklmnopqrstuvwxyz-0123456789", min_size=1, max_size=20),
       st.integers(1, 64))
def test_every_instance_type_of_a_region_shares_its_partition(region: str, count: int) -> None:
    partitions = PartitionMap(count)
    p = partitions.of_region(region)
    assert 0 <= p < count
    assert partitions.of_market(f"{region}/gpu.a100") == partitions.of_market(f"{region}/x") == p


def test_market_commands_follow_their_market() -> None:
    router = Router(MAP)
    market = Market.of("eu-west-1/gpu.h100", tick_size=1, base_price=1)
    assert router.route(commands.ListMarket(market)) == (1,)
    assert router.route(commands.AddCapacity("prov", "us-east-1/gpu.a100", 4)) == (0,)
    assert router.route(commands.RemoveCapacity("prov", "eu-west-1/gpu.h100", 1)) == (1,)


def test_market_orders_are_routed_like_limit_orders_and_read_from_command_files() -> None:
    router = Router(MAP)
    line = ('{"type": "market_order", "order_id": "m1", "account": "t", "side": "buy", '
            '"markets": ["eu-west-1/gpu.h100"], "quantity": 2, "max_spend": 50}')
    item = parse_line(line, "cmds.jsonl", 1)
    assert item.command == commands.MarketOrder("m1", "t", Side.BUY, ("eu-west-1/gpu.h100",), 2, 50)
    assert router.route(item.command) == (1,)
    assert router.route(commands.CancelOrder("m1", "t")) == (1,)


def test_accounts_and_ticks_go_everywhere_money_goes_where_named() -> None:
    router = Router(MAP)
    assert router.route(commands.OpenAccount("alice", Role.TRADER)) == (0, 1, 2)
    assert router.route(commands.Tick(5)) == (0, 1, 2)
    assert router.route(commands.Deposit("alice", 10), partition=2) == (2,)
    with pytest.raises(RoutingError) as caught:
        router.route(commands.Withdraw("alice", 10))
    assert caught.value.field == "partition"
    with pytest.raises(RoutingError, match="out of range"):
        router.route(commands.Deposit("alice", 10), partition=3)


def test_cross_market_bid_within_a_partition_is_routed_across_partitions_refused() -> None:
    router = Router(MAP)
    assert router.route(_buy("o1", "us-east-1/gpu.a100", "us-west-2/gpu.a100")) == (0,)
    with pytest.raises(RoutingError) as caught:
        router.route(_buy("o2", "us-east-1/gpu.a100", "eu-west-1/gpu.a100"))
    assert caught.value.field == "markets"
    assert "us-east-1/gpu.a100 -> 0" in str(caught.value)
    assert "eu-west-1/gpu.a100 -> 1" in str(caught.value)
    assert "o2" not in router.orders


def test_cancel_and_modify_follow_the_order_or_a_named_partition() -> None:
    router = Router(MAP)
    router.route(_buy("o1", "eu-west-1/gpu.a100"))
    assert router.route(commands.CancelOrder("o1", "alice")) == (1,)
    assert router.route(commands.ModifyOrder("o1", "alice", quantity=1)) == (1,)
    assert router.route(commands.CancelOrder("unknown", "alice"), partition=2) == (2,)
    with pytest.raises(RoutingError) as caught:
        router.route(commands.CancelOrder("unknown", "alice"))
    assert caught.value.field == "order_id"


def test_bad_maps_and_market_ids_are_refused() -> None:
    with pytest.raises(ValueError, match="partitions 0"):
        PartitionMap(0)
    with pytest.raises(ValueError, match="partition 5 is out of range"):
        PartitionMap(2, {"us-east-1": 5})
    with pytest.raises(ValueError, match="REGION=PARTITION"):
        PartitionMap.parse("2", "us-east-1:1")
    with pytest.raises(RoutingError) as caught:
        MAP.of_market("no-slash")
    assert caught.value.field == "market"
