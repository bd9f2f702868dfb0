"""Markets to partitions, and commands to the partitions that must see them.

A market id is ``"<region>/<instance_type>"``; a market's partition is a
function of its region alone, so every instance type of a region is matched
by the same engine (as in the seed: one matching engine per region).
Regions named in the map's assignments go where they are told; any other
region goes to ``crc32(region) mod count``, which is stable across
processes, machines and Python versions (unlike ``hash``).

Routing rules (:class:`Router`), checked before anything is published:

* market commands (list a market, add/remove capacity) go to the market's partition;
* an order goes to its markets' partition; a cross-market bid whose markets
  span partitions is refused with :class:`RoutingError` on ``markets``;
* a cancel or modify goes where its order went (the router remembers), or
  to the partition the caller names;
* opening an account and a clock tick go to every partition;
* a deposit or withdrawal names its partition: money is per partition.

Example:
    >>> m = PartitionMap(4, {"us-east-1": 0, "eu-west-1": 1})
    >>> m.of_market("us-east-1/gpu.a100"), m.of_market("eu-west-1/cpu.large")
    (0, 1)
    >>> m.of_region("ap-south-1") == zlib.crc32(b"ap-south-1") % 4
    True
    >>> PartitionMap.parse("2", "us-east-1=1").assignments
    {'us-east-1': 1}
    >>> PartitionMap.spread(2, ["us-east-1", "eu-west-1", "ap-south-1"]).describe()
    'partitions=2;assign=ap-south-1=0,eu-west-1=1,us-east-1=0'
    >>> PartitionMap.from_description(m.describe()) == m
    True
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from auctioneer.exchange import commands
from auctioneer.exchange.commands import Command
from auctioneer.exchange.model import split_market_id

__all__ = ["PartitionMap", "Router", "RoutingError"]


class RoutingError(ValueError):
    """A command no single partition can apply; ``field`` names the offending field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True, slots=True)
class PartitionMap:
    """``count`` partitions; ``assignments`` pins regions to partitions.

    O(1) per lookup. Changing the map moves markets between engines, which
    needs a migration (docs/scale-out.md), so the map is configuration that
    every publisher and engine must share.
    """

    count: int
    assignments: Mapping[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not 1 <= self.count <= 10_000:
            raise ValueError(f"partitions {self.count} is out of range: it must be 1..10000")
        for region, partition in self.assignments.items():
            if not region or "/" in region:
                raise ValueError(f"region {region!r} must be non-empty and have no '/'")
            if not 0 <= partition < self.count:
                raise ValueError(f"region {region!r}: partition {partition} is out of range: "
                                 f"it must be 0..{self.count - 1}")

    @classmethod
    def spread(cls, count: int, regions: Sequence[str]) -> PartitionMap:
        """``regions`` dealt round-robin over ``count`` partitions (region i to i mod count)."""
        return cls(count, {region: i % count for i, region in enumerate(regions)})

    @classmethod
    def parse(cls, count: str, assignments: str = "") -> PartitionMap:
        """From text: ``count`` and ``"region=partition,..."`` (ValueError naming the part)."""
        try:
            n = int(count)
        except ValueError:
            raise ValueError(f"partitions {count!r} is not an integer") from None
        pinned: dict[str, int] = {}
        for item in filter(None, (part.strip() for part in assignments.split(","))):
            region, sep, number = item.partition("=")
            if not sep or not number.strip().isdigit():
                raise ValueError(f"assignment {item!r} must be REGION=PARTITION")
            pinned[region.strip()] = int(number)
        return cls(n, pinned)

    @classmethod
    def from_description(cls, text: str) -> PartitionMap:
        """The map :meth:`describe` wrote (ValueError when ``text`` is not one)."""
        count, sep, assign = text.partition(";assign=")
        if not sep or not count.startswith("partitions="):
            raise ValueError(f"{text!r} is not a partition map description")
        return cls.parse(count.removeprefix("partitions="), assign)

    def of_region(self, region: str) -> int:
        """The partition of every market in ``region``."""
        pinned = self.assignments.get(region)
        if pinned is not None:
            return pinned
        return zlib.crc32(region.encode()) % self.count

    def of_market(self, market: str) -> int:
        """The partition of market ``"<region>/<instance_type>"``."""
        try:
            region, _ = split_market_id(market)
        except ValueError as exc:
            raise RoutingError("market", str(exc)) from None
        return self.of_region(region)

    def describe(self) -> str:
        """The map as canonical text, stored with the stream so that every publisher agrees."""
        pinned = ",".join(f"{r}={p}" for r, p in sorted(self.assignments.items()))
        return f"partitions={self.count};assign={pinned}"

    @property
    def all(self) -> tuple[int, ...]:
        """Every partition, in order."""
        return tuple(range(self.count))


@dataclass(slots=True)
class Router:
    """Which partitions must apply a command; remembers where each order went.

    The memory of orders is the publisher's cache, not a source of truth: a
    publisher that restarts passes ``partition=`` for cancels and modifies
    (the API knows an order's market from its read store).
    """

    partitions: PartitionMap
    orders: dict[str, int] = field(default_factory=dict)

    def route(self, command: Command, partition: int | None = None) -> tuple[int, ...]:
        """The partitions that must apply ``command``, or RoutingError naming the field."""
        if partition is not None and not 0 <= partition < self.partitions.count:
            raise RoutingError("partition", f"{partition} is out of range: it must be "
                               f"0..{self.partitions.count - 1}")
        match command:
            case commands.OpenAccount() | commands.Tick():
                return self.partitions.all
            case commands.Deposit() | commands.Withdraw():
                if partition is None:
                    raise RoutingError("partition", "money is per partition: a deposit or "
                                       "withdrawal must name its partition")
                return (partition,)
            case commands.ListMarket():
                return (self.partitions.of_market(command.market.id),)
            case commands.AddCapacity() | commands.RemoveCapacity():
                return (self.partitions.of_market(command.market),)
            case commands.PlaceOrder() | commands.MarketOrder():
                return (self._place(command),)
            case commands.CancelOrder() | commands.ModifyOrder():
                known = self.orders.get(command.order_id, partition)
                if known is None:
                    raise RoutingError("order_id", f"{command.order_id!r} was not routed by "
                                       "this publisher: name its partition")
                return (known,)

    def _place(self, order: commands.PlaceOrder | commands.MarketOrder) -> int:
        if not order.markets:
            raise RoutingError("markets", "an order needs at least one market")
        where = {m: self.partitions.of_market(m) for m in order.markets}
        if len(set(where.values())) > 1:
            spread = ", ".join(f"{m} -> {p}" for m, p in where.items())
            raise RoutingError("markets", f"a cross-market bid must stay within one partition; "
                               f"these markets span several ({spread})")
        target = where[order.markets[0]]
        self.orders[order.order_id] = target
        return target
