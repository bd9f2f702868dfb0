"""The model's pieces: the fast Vickrey path against the tick mechanism, books, tiny markets."""

from dataclasses import replace

from hypothesis import given
from hypothesis import strategies as st

from auctioneer.sim.model import auction, make_book
from auctioneer.sim.run import simulate
from auctioneer.sim.scenario import EXAMPLE, load_scenario
from auctioneer.tick import STRUCTURES, Mechanism, run, second_price

CAPACITY = 12
bids_strategy = st.lists(st.tuples(st.integers(0, CAPACITY - 1), st.integers(0, 3000)),
                         max_size=30)


@given(st.sampled_from(STRUCTURES), bids_strategy, st.integers(0, 6), st.integers(0, 3000),
       st.lists(st.integers(0, CAPACITY - 1), max_size=5))
def test_fast_vickrey_equals_second_price(structure: str, updates: list[tuple[int, int]],
                                          k: int, reserve: int, expired: list[int]) -> None:
    # Two identical books (the sampled one draws the same samples from the same seed).
    ours, theirs = (make_book(structure, CAPACITY, k, seed=9) for _ in range(2))
    bids = [0] * CAPACITY
    for agent, price in updates:
        ours.update(agent, price)
        theirs.update(agent, price)
        bids[agent] = price
    for agent in expired:
        if agent in ours:
            ours.expire(agent)
            theirs.expire(agent)
    fast = auction(Mechanism.SECOND_PRICE, bids)
    for _ in range(3):
        assert fast(ours, k, reserve) == second_price(theirs, k, reserve)


@given(st.sampled_from(list(Mechanism)), bids_strategy, st.integers(1, 6), st.integers(0, 3000))
def test_every_mechanism_call_matches_tick_run(mechanism: Mechanism,
                                               updates: list[tuple[int, int]], k: int,
                                               price: int) -> None:
    ours, theirs = (make_book("IndexedHeap", CAPACITY, k, seed=1) for _ in range(2))
    for agent, bid in updates:
        ours.update(agent, bid)
        theirs.update(agent, bid)
    assert auction(mechanism)(ours, k, price) == run(mechanism, theirs, k, price)


def test_more_cores_than_agents() -> None:
    scenario = load_scenario(EXAMPLE)
    few = replace(scenario, cpu=replace(scenario.cpu, cores=64))
    m = simulate(few, seed=1).metrics
    assert m.quanta_supply == 64 * m.ticks and m.quanta_sold <= m.quanta_supply
