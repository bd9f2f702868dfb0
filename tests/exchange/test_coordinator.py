"""Cross-partition bids: the coordinator's saga under every interleaving hypothesis finds.

Two partitions, each an in-memory stream of commands with JetStream's
duplicate detection and its own engine, which applies its stream whenever the
machine says so. The coordinator's steps (take a bid, send a leg, record its
outcome), other traders' orders, re-sends after the duplicate window, a
retried log append and a coordinator crash (rebuilt from its log, its memory
of sent legs lost) interleave freely. After every step: each engine's
invariants hold (money and capacity conserved, every reservation equal to its
open bids), no leg was placed twice, no bid bought more than its quantity,
and every recorded outcome is what the leg really did.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass, field

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from auctioneer.exchange import Exchange
from auctioneer.exchange.commands import (
    AddCapacity,
    CancelOrder,
    Command,
    Deposit,
    ListMarket,
    OpenAccount,
    PlaceOrder,
)
from auctioneer.exchange.events import Accepted, Event, Traded
from auctioneer.exchange.model import Market, Role, Side, TimeInForce
from auctioneer.exchange.scaleout.coordinator import (
    Begun,
    Coordinator,
    CrossBid,
    CrossBidError,
    Leg,
    LegBook,
    LegOutcome,
    Record,
    Settled,
    decode_record,
    encode_record,
    place,
)
from auctioneer.exchange.scaleout.partition import PartitionMap

MAP = PartitionMap(2, {"r0": 0, "r1": 1})
MARKETS = {0: ("r0/gpu", "r0/cpu"), 1: ("r1/gpu",)}
CROSS = ("r0/gpu", "r1/gpu", "r0/cpu")


@dataclass
class SimPartition:
    """A partition's stream (with JetStream's duplicate detection) and its engine."""

    exchange: Exchange = field(default_factory=Exchange)
    stream: list[Command] = field(default_factory=list)
    ids: dict[str, int] = field(default_factory=dict)
    applied: int = 0
    book: LegBook = field(default_factory=LegBook)
    placed: Counter[str] = field(default_factory=Counter)
    fills: Counter[str] = field(default_factory=Counter)

    def submit(self, command: Command, msg_id: str, *, dedupe: bool = True) -> int:
        if dedupe and msg_id in self.ids:
            return self.ids[msg_id]
        self.stream.append(command)
        seq = self.ids[msg_id] = len(self.stream)
        return seq

    def apply_next(self) -> list[Event]:
        seq = self.applied + 1
        events = self.exchange.apply(self.stream[self.applied])
        self.applied = seq
        self.book.observe(seq, events)
        for ev in events:
            if isinstance(ev, Accepted) and ev.command == "place_order":
                self.placed[ev.ref] += 1
            if isinstance(ev, Traded):
                self.fills[ev.buy_order] += ev.quantity
        return events

    def drain(self) -> None:
        while self.applied < len(self.stream):
            self.apply_next()


def setup_partition(partition: int, trader_money: int) -> SimPartition:
    sim = SimPartition()
    commands: list[Command] = [OpenAccount(a, r) for a, r in
                               (("p", Role.PROVIDER), ("t", Role.TRADER), ("u", Role.TRADER))]
    for m in MARKETS[partition]:
        commands += [ListMarket(Market.of(m, tick_size=1, base_price=5)),
                     AddCapacity("p", m, 50)]
    commands += [Deposit("t", trader_money), Deposit("u", 1_000)]
    # Offers already resting, so that legs trade from the first step.
    commands += [PlaceOrder(f"ask{partition}.{m}.{price}", "p", Side.SELL, (m,), price, 3)
                 for m in MARKETS[partition] for price in (2, 4, 6)]
    for i, command in enumerate(commands):
        sim.submit(command, f"setup/{i}")
    sim.drain()
    return sim


class CoordinatorMachine(RuleBasedStateMachine):
    """The saga's steps, the partitions' engines and crashes, in any order."""

    @initialize(money1=st.sampled_from([0, 30, 1_000]))
    def start(self, money1: int) -> None:
        self.parts = {0: setup_partition(0, 1_000), 1: setup_partition(1, money1)}
        self.log: list[Record] = []
        self.coord = Coordinator(MAP)
        self.sent: dict[tuple[str, int], int] = {}
        self.bids = 0
        self.orders = 0

    def _append(self, record: Record) -> None:
        # Every record goes through its JSON form, as it would through the log's stream.
        self.log.append(decode_record(encode_record(record)))
        self.coord.apply(self.log[-1])

    @rule(first=st.integers(0, 2), count=st.integers(2, 3), price=st.integers(1, 9),
          quantity=st.integers(1, 8), gtc=st.booleans())
    def take_bid(self, first: int, count: int, price: int, quantity: int, gtc: bool) -> None:
        markets = tuple(CROSS[(first + i) % 3] for i in range(count))
        bid = CrossBid(f"b{self.bids}", "t", markets, price, quantity,
                       TimeInForce.GTC if gtc else TimeInForce.IOC, ts_ns=self.bids)
        self.bids += 1
        self._append(self.coord.begin(bid))

    def _legs(self) -> list[Leg]:
        return self.coord.pending()

    @precondition(lambda self: self._legs())
    @rule(data=st.data(), window_passed=st.booleans())
    def send_leg(self, data: st.DataObject, window_passed: bool) -> None:
        """Publish a pending leg; after the duplicate window a re-send is stored again."""
        leg = data.draw(st.sampled_from(self._legs()))
        seq = self.parts[leg.partition].submit(leg.command, leg.msg_id, dedupe=not window_passed)
        self.sent.setdefault((leg.bid_id, leg.index), seq)

    @precondition(lambda self: any((g.bid_id, g.index) in self.sent for g in self._legs()))
    @rule(data=st.data(), retried=st.booleans())
    def record_outcome(self, data: st.DataObject, retried: bool) -> None:
        legs = [g for g in self._legs() if (g.bid_id, g.index) in self.sent]
        leg = data.draw(st.sampled_from(legs))
        outcome = self.parts[leg.partition].book.outcome(leg, self.sent[(leg.bid_id,
                                                                         leg.index)])
        if outcome is None:
            return
        self._append(self.coord.settle(leg, outcome))
        if retried:  # an append whose acknowledgement was lost, retried: applied once
            self._append(self.log[-1])

    @rule(partition=st.sampled_from([0, 1]))
    def engine_applies(self, partition: int) -> None:
        sim = self.parts[partition]
        if sim.applied < len(sim.stream):
            sim.apply_next()

    @rule(partition=st.sampled_from([0, 1]), price=st.integers(1, 9),
          quantity=st.integers(1, 6), sell=st.booleans(), index=st.integers(0, 1))
    def other_order(self, partition: int, price: int, quantity: int, sell: bool,
                    index: int) -> None:
        markets = MARKETS[partition]
        market = markets[index % len(markets)]
        self.orders += 1
        command = PlaceOrder(f"o{self.orders}", "p" if sell else "u",
                             Side.SELL if sell else Side.BUY, (market,), price, quantity)
        self.parts[partition].submit(command, f"o{self.orders}")

    @rule(data=st.data())
    def trader_cancels_a_rest(self, data: st.DataObject) -> None:
        resting = [(p, o.order_id) for p, sim in self.parts.items()
                   for o in sim.exchange.orders("t")]
        if resting:
            p, oid = data.draw(st.sampled_from(sorted(resting)))
            self.parts[p].submit(CancelOrder(oid, "t"), f"cancel/{oid}")

    @rule()
    def coordinator_crashes(self) -> None:
        """Everything in memory is lost; the log is all a new coordinator gets."""
        self.coord = Coordinator(MAP, self.log)
        self.sent = {}

    @invariant()
    def engines_consistent(self) -> None:
        for sim in self.parts.values():
            sim.exchange.check()

    @invariant()
    def never_placed_twice_never_overfilled(self) -> None:
        for sim in self.parts.values():
            assert all(n == 1 for oid, n in sim.placed.items() if "#" in oid), sim.placed
        for progress in self.coord.bids.values():
            bought = sum(sim.fills[f"{progress.bid.bid_id}#{i}"]
                         for sim in self.parts.values() for i in range(len(progress.plan)))
            assert bought <= progress.bid.quantity

    @invariant()
    def recorded_outcomes_are_true(self) -> None:
        for progress in self.coord.bids.values():
            for i, outcome in enumerate(progress.outcomes):
                sim = self.parts[progress.plan[i][0]]
                oid = f"{progress.bid.bid_id}#{i}"
                if outcome.rejected:
                    assert sim.placed[oid] == 0
                else:
                    assert sim.placed[oid] == 1
                    # Fills of the placing command; a GTC rest may fill more later.
                    assert outcome.filled <= sim.fills[oid]

    @invariant()
    def quiet_saga_leaves_only_gtc_rests(self) -> None:
        """Once every leg is settled and applied, the trader's open orders are the GTC rests
        of finished bids, and nothing else is reserved."""
        if self.coord.pending() or any(s.applied < len(s.stream) for s in self.parts.values()):
            return
        for sim in self.parts.values():
            for order in sim.exchange.orders("t"):
                bid_id, _, index = order.order_id.partition("#")
                progress = self.coord.bids[bid_id]
                assert progress.bid.tif is TimeInForce.GTC
                assert int(index) == len(progress.plan) - 1


CoordinatorMachine.TestCase.settings = settings(max_examples=80, stateful_step_count=40,
                                                deadline=None)
test_coordinator_state_machine = CoordinatorMachine.TestCase


class MemoryLog:
    def __init__(self) -> None:
        self.stored: list[Record] = []

    async def append(self, record: Record) -> None:
        self.stored.append(record)

    async def records(self) -> list[Record]:
        return list(self.stored)


class MemoryLegs:
    """Legs applied at once by in-memory partitions."""

    def __init__(self, parts: dict[int, SimPartition]) -> None:
        self.parts = parts

    async def submit(self, leg: Leg) -> int:
        return self.parts[leg.partition].submit(leg.command, leg.msg_id)

    async def outcome(self, leg: Leg, seq: int) -> LegOutcome:
        sim = self.parts[leg.partition]
        sim.drain()
        found = sim.book.outcome(leg, seq)
        assert found is not None
        return found


def test_a_bid_fills_across_partitions_in_its_order_and_rests_in_the_last() -> None:
    parts = {0: setup_partition(0, 1_000), 1: setup_partition(1, 1_000)}
    log = MemoryLog()
    # Each market offers 3 at 2 (then 3 at 4, 3 at 6): a bid at 3 takes 3 in each partition.
    bid = CrossBid("b", "t", ("r0/gpu", "r1/gpu"), 3, 8, TimeInForce.GTC)
    progress = asyncio.run(place(Coordinator(MAP), log, MemoryLegs(parts), bid))
    assert [o.filled for o in progress.outcomes] == [3, 3]
    assert progress.outcomes[1].resting == 2 and progress.done
    assert parts[0].exchange.account("t").reserved == 0
    assert parts[1].exchange.account("t").reserved == 3 * 2
    assert [type(r) for r in log.stored] == [Begun, Settled, Settled]
    assert Coordinator(MAP, log.stored).pending() == []


def test_a_leg_refused_for_money_moves_on_to_the_next_partition() -> None:
    parts = {0: setup_partition(0, 0), 1: setup_partition(1, 1_000)}
    bid = CrossBid("b", "t", ("r0/gpu", "r1/gpu"), 3, 4)
    progress = asyncio.run(place(Coordinator(MAP), MemoryLog(), MemoryLegs(parts), bid))
    assert progress.outcomes[0].rejected.startswith("quantity:")
    assert progress.outcomes[1] == LegOutcome(filled=3)
    assert parts[1].exchange.account("t").reserved == 0


@pytest.mark.parametrize(("changes", "field_name"), [
    ({"bid_id": "a#1"}, "bid_id"), ({"bid_id": ""}, "bid_id"), ({"account": ""}, "account"),
    ({"markets": ()}, "markets"), ({"markets": ("r0/gpu", "r0/gpu")}, "markets"),
    ({"markets": ("nope",)}, "markets"), ({"price": 0}, "price"),
    ({"price": 2**63}, "price"), ({"quantity": 10**30}, "quantity"),
    ({"quantity": True}, "quantity"), ({"tif": TimeInForce.FOK}, "tif"),
    ({"ts_ns": 2**63}, "ts_ns"), ({"ts_ns": 10**30}, "ts_ns")])
def test_bad_bids_are_refused_naming_the_field(changes: dict[str, object],
                                               field_name: str) -> None:
    base: dict[str, object] = {"bid_id": "b", "account": "t", "markets": ("r0/gpu", "r1/gpu"),
                               "price": 5, "quantity": 1}
    bid = CrossBid(**{**base, **changes})  # type: ignore[arg-type]
    with pytest.raises(CrossBidError) as caught:
        Coordinator(MAP).begin(bid)
    assert caught.value.field == field_name


def test_a_bid_id_is_taken_once_and_log_records_are_checked() -> None:
    coord = Coordinator(MAP)
    bid = CrossBid("b", "t", ("r0/gpu", "r1/gpu"), 5, 1)
    coord.apply(coord.begin(bid))
    with pytest.raises(CrossBidError, match="already used"):
        coord.begin(bid)
    good = encode_record(Settled("b", 0, LegOutcome(1, 0)))
    assert decode_record(good) == Settled("b", 0, LegOutcome(1, 0))
    for bad, field_name in (({**good, "filled": 2**63}, "filled"),
                            ({**good, "resting": 10**30}, "resting"),
                            ({**good, "index": "0"}, "index"),
                            ({k: v for k, v in good.items() if k != "index"}, "index"),
                            ({**encode_record(Begun(bid)), "tif": "fok"}, "tif"),
                            ({**encode_record(Begun(bid)), "price": 2**63}, "price"),
                            ({**good, "type": "other"}, "type"), ([], "record")):
        with pytest.raises(CrossBidError) as caught:
            decode_record(bad)
        assert caught.value.field == field_name
