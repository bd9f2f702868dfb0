"""Cross-partition bids: a coordinator that places a bid's legs one partition at a time.

A *cross-region bid* is one BUY whose markets lie in several partitions. No
engine holds all its books, so no engine can match it atomically. The
coordinator splits it into **legs**, one per partition (in the order the bid
lists its markets), and runs them as a saga in which every step is an
ordinary :class:`~auctioneer.exchange.commands.PlaceOrder` in a partition's
stream:

* leg ``i`` is order ``<bid_id>#<i>`` over the bid's markets in that
  partition, at the bid's limit, for the quantity the earlier legs left
  unfilled; every leg but the last is IOC, the last has the bid's own
  time in force (IOC, or GTC: its rest queues in that partition alone);
* leg ``i + 1`` is published only after leg ``i``'s outcome (its fills,
  read from the partition's events) is recorded in the coordinator's log.

Why it never fills twice: the quantities of the legs that can trade sum to
at most the bid's quantity, because each leg's quantity is computed from the
*recorded* fills of the legs before it, and only the last leg ever rests.
A leg re-sent after a crash has the same order id, the same quantity and the
same ``Nats-Msg-Id``: JetStream drops it within the duplicate window and the
engine refuses the used order id after it, so a leg is applied at most once
even if two coordinators run the same bid.

Why reservations stay exact: an IOC leg reserves its limit x quantity and
releases what it did not fill inside the one command that placed it, so no
money is ever reserved between two steps of the saga; the last leg's rest is
an ordinary resting order whose reservation the engine tracks. A coordinator
that crashes between any two steps leaves nothing reserved: on restart it
reads its log (:class:`Begun` and :class:`Settled` records), re-sends each
unfinished bid's next leg, and goes on.

The state machine here is pure (records in, legs out); the driver
:func:`drive` runs it against two ports, :class:`CoordinatorLog` and
:class:`LegPort`, which tests implement in memory and
:mod:`~auctioneer.exchange.scaleout.crossbid` on JetStream.

Example:
    >>> from auctioneer.exchange.scaleout.partition import PartitionMap
    >>> m = PartitionMap(2, {"us-east-1": 0, "eu-west-1": 1})
    >>> coord = Coordinator(m)
    >>> bid = CrossBid("b1", "alice", ("us-east-1/gpu", "eu-west-1/gpu"), 100, 5)
    >>> coord.apply(coord.begin(bid))
    >>> leg = coord.pending()[0]
    >>> leg.partition, leg.command.order_id, leg.command.quantity, leg.command.tif.value
    (0, 'b1#0', 5, 'ioc')
    >>> coord.apply(coord.settle(leg, LegOutcome(filled=2)))
    >>> leg = coord.pending()[0]
    >>> leg.partition, leg.command.quantity, leg.msg_id
    (1, 3, 'xbid/b1/1')
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from auctioneer.checks import require_int
from auctioneer.exchange.commands import PlaceOrder
from auctioneer.exchange.events import Accepted, Event, Rejected, Rested, Traded
from auctioneer.exchange.limits import PRICE_MAX, QUANTITY_MAX
from auctioneer.exchange.model import Side, TimeInForce
from auctioneer.exchange.scaleout.partition import PartitionMap, RoutingError
from auctioneer.money import MONEY_MAX

__all__ = [
    "Begun",
    "BidProgress",
    "Coordinator",
    "CoordinatorLog",
    "CrossBid",
    "CrossBidError",
    "Leg",
    "LegBook",
    "LegOutcome",
    "LegPort",
    "Record",
    "Settled",
    "decode_record",
    "drive",
    "encode_record",
    "leg_order_id",
    "place",
]

LEG_MARK = "#"
"""Separates a bid id from its leg number in a leg's order id (``b1#0``)."""


class CrossBidError(ValueError):
    """A cross-partition bid (or a log record) that cannot be run; ``field`` names why."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def leg_order_id(bid_id: str, index: int) -> str:
    """The order id of ``bid_id``'s leg ``index`` in its partition."""
    return f"{bid_id}{LEG_MARK}{index}"


def _positive(value: object, name: str, high: int) -> int:
    try:
        return require_int(value, name, 1, high)
    except (TypeError, ValueError) as exc:
        raise CrossBidError(name, str(exc)) from None


@dataclass(frozen=True, slots=True)
class CrossBid:
    """Buy ``quantity`` instances at most ``price`` each, in any of ``markets``.

    ``tif`` is IOC (what the legs cannot fill is dropped) or GTC (the rest
    queues in the last partition's books). FOK and all-or-none cannot be
    offered across partitions without holding both books at once.
    """

    bid_id: str
    account: str
    markets: tuple[str, ...]
    price: int
    quantity: int
    tif: TimeInForce = TimeInForce.IOC
    ts_ns: int = 0

    def check(self) -> None:
        """CrossBidError naming the first field that cannot be run."""
        if not isinstance(self.bid_id, str) or not self.bid_id or LEG_MARK in self.bid_id \
                or "/" in self.bid_id or any(c.isspace() for c in self.bid_id):
            raise CrossBidError("bid_id", f"{self.bid_id!r} must be non-empty, without "
                                f"whitespace, '/' or {LEG_MARK!r}")
        if not isinstance(self.account, str) or not self.account:
            raise CrossBidError("account", f"{self.account!r} is not a non-empty string")
        if not isinstance(self.markets, tuple) or not self.markets \
                or not all(isinstance(m, str) for m in self.markets):
            raise CrossBidError("markets", f"{self.markets!r} is not a non-empty tuple of "
                                "market ids")
        if len(set(self.markets)) != len(self.markets):
            raise CrossBidError("markets", f"{list(self.markets)} lists a market twice")
        _positive(self.price, "price", PRICE_MAX)
        _positive(self.quantity, "quantity", QUANTITY_MAX)
        if self.tif not in (TimeInForce.IOC, TimeInForce.GTC):
            raise CrossBidError("tif", f"{getattr(self.tif, 'value', self.tif)!r}: a bid "
                                "across partitions is ioc or gtc")
        try:
            require_int(self.ts_ns, "ts_ns", 0, MONEY_MAX)
        except (TypeError, ValueError) as exc:
            raise CrossBidError("ts_ns", str(exc)) from None


@dataclass(frozen=True, slots=True)
class Leg:
    """Leg ``index`` of bid ``bid_id``: ``command`` for ``partition``."""

    bid_id: str
    index: int
    partition: int
    command: PlaceOrder

    @property
    def msg_id(self) -> str:
        """The leg's idempotency key: the same on every re-send, by every coordinator."""
        return f"xbid/{self.bid_id}/{self.index}"


@dataclass(frozen=True, slots=True)
class LegOutcome:
    """What a leg did in its partition: instances ``filled``, ``resting`` in the book, or
    ``rejected`` (the engine's reason; then nothing else happened)."""

    filled: int = 0
    resting: int = 0
    rejected: str = ""


@dataclass(frozen=True, slots=True)
class Begun:
    """Log record: the coordinator took ``bid`` (the cross-partition bid's acknowledgement)."""

    bid: CrossBid


@dataclass(frozen=True, slots=True)
class Settled:
    """Log record: leg ``index`` of ``bid_id`` was applied with ``outcome``."""

    bid_id: str
    index: int
    outcome: LegOutcome


Record = Begun | Settled
"""One entry of the coordinator's log."""


def encode_record(record: Record) -> dict[str, Any]:
    """``record`` as a JSON-safe dict."""
    if isinstance(record, Begun):
        b = record.bid
        return {"type": "begun", "bid_id": b.bid_id, "account": b.account,
                "markets": list(b.markets), "price": b.price, "quantity": b.quantity,
                "tif": b.tif.value, "ts_ns": b.ts_ns}
    o = record.outcome
    return {"type": "settled", "bid_id": record.bid_id, "index": record.index,
            "filled": o.filled, "resting": o.resting, "rejected": o.rejected}


def _count(data: dict[str, Any], name: str, high: int) -> int:
    try:
        return require_int(data[name], name, 0, high)
    except (TypeError, ValueError) as exc:
        raise CrossBidError(name, str(exc)) from None


def decode_record(data: object) -> Record:
    """The record in ``data`` (from the log); CrossBidError naming the first bad field."""
    if not isinstance(data, dict):
        raise CrossBidError("record", f"{type(data).__name__} is not an object")
    try:
        if data.get("type") == "begun":
            try:
                tif = TimeInForce(data["tif"])
            except ValueError:
                raise CrossBidError("tif", f"{data['tif']!r} is not ioc or gtc") from None
            bid = CrossBid(data["bid_id"], data["account"], tuple(data["markets"]),
                           data["price"], data["quantity"], tif, data["ts_ns"])
            bid.check()
            return Begun(bid)
        if data.get("type") == "settled":
            outcome = LegOutcome(_count(data, "filled", QUANTITY_MAX),
                                 _count(data, "resting", QUANTITY_MAX), str(data["rejected"]))
            return Settled(str(data["bid_id"]), _count(data, "index", 10_000), outcome)
    except KeyError as exc:
        raise CrossBidError(str(exc.args[0]), "is missing") from None
    raise CrossBidError("type", f"{data.get('type')!r} is not begun or settled")


def _plan(bid: CrossBid, partitions: PartitionMap) -> tuple[tuple[int, tuple[str, ...]], ...]:
    """The bid's markets grouped by partition, partitions in the order the bid first names
    them (the bid's preference), markets in their listed order."""
    groups: dict[int, list[str]] = {}
    for market in bid.markets:
        try:
            p = partitions.of_market(market)
        except RoutingError as exc:
            raise CrossBidError("markets", exc.message) from None
        groups.setdefault(p, []).append(market)
    return tuple((p, tuple(ms)) for p, ms in groups.items())


@dataclass(slots=True)
class BidProgress:
    """A bid, its legs' partitions and markets, and the outcomes recorded so far."""

    bid: CrossBid
    plan: tuple[tuple[int, tuple[str, ...]], ...]
    outcomes: list[LegOutcome] = field(default_factory=list)

    @property
    def filled(self) -> int:
        """Instances the settled legs bought."""
        return sum(o.filled for o in self.outcomes)

    @property
    def done(self) -> bool:
        """Every leg that could run has run: filled whole, or out of partitions."""
        return self.filled >= self.bid.quantity or len(self.outcomes) == len(self.plan)

    def next_leg(self) -> Leg | None:
        """The leg to send next (the same one until its outcome is recorded); None when done."""
        if self.done:
            return None
        index = len(self.outcomes)
        partition, markets = self.plan[index]
        bid = self.bid
        last = index == len(self.plan) - 1
        command = PlaceOrder(leg_order_id(bid.bid_id, index), bid.account, Side.BUY, markets,
                             bid.price, bid.quantity - self.filled,
                             bid.tif if last else TimeInForce.IOC, ts_ns=bid.ts_ns)
        return Leg(bid.bid_id, index, partition, command)


class Coordinator:
    """The bids the log holds and where each one stands; rebuilt from the log on start.

    Every method is O(1) per bid touched; :meth:`apply` is idempotent, so a
    record appended twice (a retried append, two coordinators) changes nothing
    the second time.
    """

    def __init__(self, partitions: PartitionMap, records: Iterable[Record] = ()) -> None:
        self.partitions = partitions
        self.bids: dict[str, BidProgress] = {}
        for record in records:
            self.apply(record)

    def begin(self, bid: CrossBid) -> Begun:
        """The record that takes ``bid``; CrossBidError when it cannot run (nothing changes)."""
        bid.check()
        if bid.bid_id in self.bids:
            raise CrossBidError("bid_id", f"{bid.bid_id!r} was already used")
        _plan(bid, self.partitions)
        return Begun(bid)

    def settle(self, leg: Leg, outcome: LegOutcome) -> Settled:
        """The record of ``leg``'s ``outcome``."""
        return Settled(leg.bid_id, leg.index, outcome)

    def apply(self, record: Record) -> None:
        """Take a record from the log into the state (records already applied are ignored)."""
        if isinstance(record, Begun):
            if record.bid.bid_id not in self.bids:
                self.bids[record.bid.bid_id] = BidProgress(record.bid,
                                                           _plan(record.bid, self.partitions))
            return
        progress = self.bids.get(record.bid_id)
        if progress is not None and record.index == len(progress.outcomes) \
                and not progress.done:
            progress.outcomes.append(record.outcome)

    def pending(self) -> list[Leg]:
        """The next leg of every unfinished bid, in the order the bids began."""
        return [leg for p in self.bids.values() if (leg := p.next_leg()) is not None]


class LegBook:
    """The outcomes of legs in one partition, read from the events its engine emits.

    Feed it every ``(seq, events)`` of the partition (an engine's
    ``on_events``); it keeps what each leg order did when placed, and each
    refused order's reason by stream sequence (a leg refused outright, e.g.
    for want of money in that partition).
    """

    def __init__(self) -> None:
        self.placed: dict[str, LegOutcome] = {}
        self.refused: dict[int, str] = {}

    def observe(self, seq: int, events: Sequence[Event]) -> None:
        """Record the legs placed (or refused) by the command at stream ``seq``."""
        if not events:
            return
        first = events[0]
        if isinstance(first, Rejected):
            if first.command == "place_order":
                self.refused[seq] = f"{first.field}: {first.reason}"
            return
        placed = next((e.ref for e in events if isinstance(e, Accepted)
                       and e.command == "place_order" and LEG_MARK in e.ref), None)
        if placed is None:
            return
        filled = sum(e.quantity for e in events
                     if isinstance(e, Traded) and e.buy_order == placed)
        resting = next((e.remaining for e in events
                        if isinstance(e, Rested) and e.order_id == placed), 0)
        self.placed[placed] = LegOutcome(filled, resting)

    def outcome(self, leg: Leg, seq: int) -> LegOutcome | None:
        """``leg``'s outcome if the command stored at ``seq`` has been applied, else None.

        A leg stored twice (re-sent after the duplicate window) is placed by
        its first copy and refused (order id used) by the second: the first
        copy's outcome wins.
        """
        found = self.placed.get(leg.command.order_id)
        if found is not None:
            return found
        reason = self.refused.get(seq)
        return None if reason is None else LegOutcome(rejected=reason)


class CoordinatorLog(Protocol):
    """Where the coordinator's records are stored, in order, durably."""

    async def append(self, record: Record) -> None:
        """Store ``record``; returns once it is durable."""

    async def records(self) -> list[Record]:
        """Every record stored, in order."""


class LegPort(Protocol):
    """How legs reach partitions and their outcomes come back."""

    async def submit(self, leg: Leg) -> int:
        """Store ``leg.command`` in its partition's stream (idempotent by ``leg.msg_id``); the
        stream sequence of its first stored copy."""

    async def outcome(self, leg: Leg, seq: int) -> LegOutcome:
        """Wait until the partition applied the leg stored at ``seq``; what it did."""


async def drive(coordinator: Coordinator, log: CoordinatorLog, port: LegPort,
                bid_id: str | None = None) -> None:
    """Run unfinished bids (only ``bid_id`` when given) leg by leg until each is done.

    Each step: send the next leg, wait for its outcome, append the outcome
    to the log, apply it. Cancelled or crashed at any point, the next run
    (from the log) re-sends the same leg, which is applied at most once.
    """
    while True:
        legs = [leg for leg in coordinator.pending() if bid_id in (None, leg.bid_id)]
        if not legs:
            return
        for leg in legs:
            seq = await port.submit(leg)
            outcome = await port.outcome(leg, seq)
            record = coordinator.settle(leg, outcome)
            await log.append(record)
            coordinator.apply(record)


async def place(coordinator: Coordinator, log: CoordinatorLog, port: LegPort,
                bid: CrossBid) -> BidProgress:
    """Take ``bid`` (acknowledged once its Begun record is in the log) and run it to the end."""
    record = coordinator.begin(bid)
    await log.append(record)
    coordinator.apply(record)
    await drive(coordinator, log, port, bid.bid_id)
    return coordinator.bids[bid.bid_id]
