"""Mechanism properties over every structure, both implementations."""

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from auctioneer import tick
from auctioneer.tick import Mechanism, TierMap

from .conftest import Factory

BIDS = st.lists(st.tuples(st.integers(0, 2_000_000), st.integers(1, 4)), min_size=0, max_size=40)

# Configurations in which a structure is exact (ranks by price, then arrival).
EXACT = {
    "IndexedHeap": {},
    "TournamentTree": {"group": 5},
    "LazyHeap": {"depth": 8, "threshold": 0},
    "SampledTopK": {"samples": 64},
}


def book_of(make: Factory, bids: list[tuple[int, int]], **params: Any) -> Any:
    book = make(64, **params)
    for agent, (price, units) in enumerate(bids):
        book.update(agent, price, units)
    return book


@given(bids=BIDS, k=st.integers(0, 6), reserve=st.integers(0, 1_000_000),
       mechanism=st.sampled_from(list(Mechanism)))
def test_no_winner_pays_more_than_its_bid(
    make: Factory, bids: list[tuple[int, int]], k: int, reserve: int, mechanism: Mechanism
) -> None:
    book = book_of(make, bids)
    outcome = tick.run(mechanism, book, k, reserve)
    assert len(outcome.winners) == len(set(outcome.winners))
    for agent, payment, units in zip(outcome.winners, outcome.payments, outcome.units, strict=True):
        price, demand = book.bid(agent)
        assert 0 <= payment <= price
        assert 1 <= units <= (demand if mechanism is Mechanism.PROPORTIONAL else 1)
    if mechanism is not Mechanism.PROPORTIONAL:
        assert len(outcome.winners) <= k


@pytest.mark.parametrize("structure", sorted(EXACT))
@given(bids=BIDS, k=st.integers(1, 6))
def test_vickrey_price_is_the_highest_losing_bid(
    impl: Any, structure: str, bids: list[tuple[int, int]], k: int
) -> None:
    book = book_of(getattr(impl, structure), bids, **EXACT[structure])
    outcome = tick.second_price(book, k)
    ranked = sorted(range(len(bids)), key=lambda a: (-bids[a][0], a))
    assert list(outcome.winners) == ranked[:k]
    losing = [bids[a][0] for a in ranked[k:]]
    assert set(outcome.payments) <= {max(losing, default=0)}


@given(bids=BIDS, k=st.integers(1, 6), width=st.integers(1, 300_000))
def test_tier_vickrey_price_is_the_highest_losing_bid_to_the_tier(
    impl: Any, bids: list[tuple[int, int]], k: int, width: int
) -> None:
    tiers = TierMap.linear(width=width, tiers=4096)
    book = book_of(impl.TierBook, bids, tiermap=tiers)
    outcome = tick.second_price(book, k)
    losers = set(range(len(bids))) - set(outcome.winners)
    if losers and outcome.winners:
        highest_losing = max(bids[a][0] for a in losers)
        assert outcome.payments[0] == tiers.floor(tiers.tier_of(highest_losing))
        assert outcome.payments[0] <= highest_losing
        if tiers.tier_of(highest_losing) < tiers.tiers - 1:  # the top tier is clamped
            assert highest_losing - width < outcome.payments[0]
        # no loser sits in a higher tier than any winner
        lowest_winner_tier = min(tiers.tier_of(bids[a][0]) for a in outcome.winners)
        assert tiers.tier_of(highest_losing) <= lowest_winner_tier


def test_textbook_examples(impl: Any) -> None:
    book = impl.IndexedHeap(8)
    for agent, bid in enumerate([500, 900, 700, 650]):
        book.update(agent, bid)
    assert tick.first_price(book, 2).payments == (900, 700)
    assert tick.second_price(book, 2).payments == (650, 650)
    assert tick.second_price(book, 2, reserve=680).payments == (680, 680)
    assert tick.generalized_second_price(book, 3).payments == (700, 650, 500)
    assert tick.posted_price(book, 660, k=3).winners == (1, 2)
    assert tick.second_price(book, 1, reserve=950).winners == ()


def test_proportional_share_water_fills(impl: Any) -> None:
    book = impl.IndexedHeap(8)
    for agent, (bid, units) in enumerate([(100, 5), (300, 1), (200, 10), (0, 3)]):
        book.update(agent, bid, units)
    outcome = tick.proportional_share(book, supply=10)
    # agent 1 is capped at 1 unit; 0 and 2 split the other 9 as 1:2 at 300/9 per unit
    assert outcome.winners == (1, 2, 0)
    assert outcome.units == (1, 6, 3)
    assert outcome.payments == (33, 200, 100)
    assert outcome.revenue == 333


@given(bids=BIDS, supply=st.integers(0, 50))
def test_proportional_share_allocates_exactly_the_supply_it_can(
    impl: Any, bids: list[tuple[int, int]], supply: int
) -> None:
    book = book_of(impl.IndexedHeap, bids)
    outcome = tick.proportional_share(book, supply)
    demand = sum(units for price, units in bids if price > 0)
    assert sum(outcome.units) == min(supply, demand)


def test_mechanism_bad_arguments(impl: Any) -> None:
    book = impl.IndexedHeap(4)
    with pytest.raises(ValueError, match="reserve -1 is negative"):
        tick.second_price(book, 1, reserve=-1)
    with pytest.raises(TypeError, match="k must be an int"):
        tick.second_price(book, 1.0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="supply -2 is out of range"):
        tick.proportional_share(book, -2)
