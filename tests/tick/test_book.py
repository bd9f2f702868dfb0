"""Behaviour every structure shares, run on both implementations."""

from typing import Any

import pytest

from auctioneer.tick import PRICE_MAX, TierMap

from .conftest import Factory


def filled(make: Factory, bids: list[int], capacity: int = 16, **params: Any) -> Any:
    book = make(capacity, **params)
    for agent, price in enumerate(bids):
        book.update(agent, price)
        book._check()
    return book


def test_empty_book(make: Factory) -> None:
    book = make(4)
    assert len(book) == 0
    assert book.peek() is None
    assert book.top(3) == []
    assert book.price(1) == 0
    assert book.select(4) == ([], [])
    book._check()


def test_winner_and_vickrey_price(make: Factory) -> None:
    book = filled(make, [300, 900, 500, 700])
    assert book.peek() == 1
    assert book.top(2) == [1, 3]
    assert book.price(1) == 700
    assert book.bid(1) == (900, 1)
    assert book.bid(5) is None


def test_equal_bids_rank_by_arrival(make: Factory) -> None:
    book = filled(make, [500, 500, 500])
    assert book.top(3) == [0, 1, 2]
    book.update(0, 500)  # re-submitting re-arrives: agent 0 goes to the back
    book._check()
    assert book.top(3) == [1, 2, 0]


def test_expiring_the_winner_promotes_the_runner_up(make: Factory) -> None:
    book = filled(make, [100, 900, 800])
    book.expire(1)
    book._check()
    assert book.peek() == 2
    assert 1 not in book
    assert len(book) == 2


def test_update_changes_rank(make: Factory) -> None:
    book = filled(make, [100, 200, 300])
    book.update(0, 1_000_000, units=3)
    book._check()
    assert book.peek() == 0
    assert book.bid(0) == (1_000_000, 3)
    assert book.items() == [(0, 1_000_000, 3), (1, 200, 1), (2, 300, 1)]


def test_clear_empties(make: Factory) -> None:
    book = filled(make, [5, 6, 7])
    book.clear()
    book._check()
    assert len(book) == 0 and book.peek() is None
    book.update(2, 9)
    assert book.peek() == 2


def test_extreme_prices(make: Factory) -> None:
    book = filled(make, [0, PRICE_MAX, 1])
    assert book.peek() == 1
    assert book.top(3)[-1] == 0


def test_full_book_refuses_another_agent_and_stays_unchanged(make: Factory) -> None:
    book = filled(make, list(range(10, 18)), capacity=8)
    before = book.items()
    with pytest.raises(ValueError, match="agent 8 is out of range: this book holds agents 0..7"):
        book.update(8, 1_000)
    book._check()
    assert book.items() == before and len(book) == 8


@pytest.mark.parametrize(
    ("args", "error", "message"),
    [
        ((-1, 5), ValueError, "agent -1 is out of range"),
        ((2**40, 5), ValueError, f"agent {2**40} is out of range"),
        ((1, -5), ValueError, "price -5 is negative"),
        ((1, PRICE_MAX + 1), ValueError, f"price {PRICE_MAX + 1} exceeds the maximum"),
        ((1, 2**70), ValueError, f"price {2**70} exceeds the maximum"),
        ((1, 0.5), TypeError, "price must be an int, got float 0.5"),
        ((1, True), TypeError, "price must be an int, got bool True"),
        (("1", 5), TypeError, "agent must be an int, got str '1'"),
        ((1, 5, 0), ValueError, "units 0 is out of range"),
    ],
)
def test_bad_update_names_the_value_and_changes_nothing(
    make: Factory, args: tuple[Any, ...], error: type[Exception], message: str
) -> None:
    book = filled(make, [100, 200], capacity=4)
    before = (book.items(), book.select(2))
    with pytest.raises(error, match=message.replace("(", r"\(").replace(".", r"\.")):
        book.update(*args)
    book._check()
    assert (book.items(), book.select(2)) == before


def test_expire_unknown_agent(make: Factory) -> None:
    book = filled(make, [100], capacity=4)
    with pytest.raises(ValueError, match="agent 3 has no live bid"):
        book.expire(3)
    with pytest.raises(ValueError, match="agent 4 is out of range"):
        book.expire(4)
    assert book.items() == [(0, 100, 1)]


@pytest.mark.parametrize("capacity", [0, -3, 2**24 + 1])
def test_bad_capacity(make: Factory, capacity: int) -> None:
    with pytest.raises(ValueError, match=f"capacity {capacity} is out of range"):
        make(capacity)


def test_tier_book_ranks_by_tier_then_arrival(impl: Any) -> None:
    tiers = TierMap.linear(width=100, base=0, tiers=64)
    book = impl.TierBook(8, tiers)
    book.update(0, 250)   # tier 2
    book.update(1, 299)   # tier 2, arrives later: ranks after agent 0
    book.update(2, 150)   # tier 1
    book._check()
    assert book.select(3) == ([0, 1, 2], [200, 200, 100])
    assert book.tiermap == tiers


def test_tier_book_clamps_into_the_top_tier(impl: Any) -> None:
    book = impl.TierBook(4, TierMap.linear(width=10, tiers=4))
    book.update(0, 35)
    book.update(1, 10_000)  # beyond the top tier's floor (30): shares tier 3
    assert book.select(2) == ([0, 1], [30, 30])


def test_lazy_heap_threshold_delays_a_close_challenger(impl: Any) -> None:
    book = impl.LazyHeap(8, depth=1, threshold=50, period=3)
    book.update(0, 1_000)
    assert book.peek() == 0           # quantum 1: recompute
    book.update(1, 1_040)             # within the threshold: no recompute yet
    assert book.peek() == 0           # quantum 2
    assert book.peek() == 0           # quantum 3
    assert book.peek() == 1           # period reached: recomputed
    book.update(2, 1_100)             # beats the cache by more than the threshold
    assert book.peek() == 2


def test_sampled_is_exact_when_it_samples_everyone(impl: Any) -> None:
    book = impl.SampledTopK(16, samples=16, seed=3)
    for agent in range(16):
        book.update(agent, (agent * 7919) % 1000)
    exact = sorted(range(16), key=lambda a: -((a * 7919) % 1000))
    assert book.top(5) == exact[:5]


def test_sampled_is_reproducible_by_seed(impl: Any) -> None:
    draws = []
    for _ in range(2):
        book = impl.SampledTopK(100, samples=4, seed=99)
        for agent in range(100):
            book.update(agent, agent)
        draws.append([book.peek() for _ in range(20)])
    assert draws[0] == draws[1]
    assert len(set(draws[0])) > 1  # it does sample: not always the same agent


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"depth": 0}, "depth 0 is out of range 1..64"),
        ({"period": 0}, "period 0 is out of range"),
        ({"threshold": -1}, "threshold -1 is negative"),
    ],
)
def test_bad_lazy_parameters(impl: Any, params: dict[str, int], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        impl.LazyHeap(8, **params)


def test_bad_structure_parameters(impl: Any) -> None:
    with pytest.raises(ValueError, match="group 65 is out of range 1..64"):
        impl.TournamentTree(8, group=65)
    with pytest.raises(ValueError, match="samples 0 is out of range"):
        impl.SampledTopK(8, samples=0)
    with pytest.raises(TypeError, match="tiermap must be a TierMap"):
        impl.TierBook(8, tiermap="log")
