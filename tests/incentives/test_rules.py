"""The vectorised mechanisms against the reference books and the real mechanism functions."""

from typing import Any

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from auctioneer.incentives.rules import (
    Rule,
    Semantics,
    draw_sample,
    outcomes,
    reference_outcome,
)
from auctioneer.tick import TierMap, _core, reference
from auctioneer.tick.mechanism import Mechanism, run

RULES = st.one_of(
    st.builds(
        Rule,
        mechanism=st.sampled_from([m for m in Mechanism if m is not Mechanism.PROPORTIONAL]),
        k=st.integers(1, 5),
        price=st.integers(0, 1_200),
        semantics=st.sampled_from([Semantics.EXACT, Semantics.TIER]),
        tiermap=st.builds(TierMap.linear, width=st.integers(1, 300), base=st.integers(0, 400),
                          tiers=st.integers(1, 12)),
    ),
    st.builds(Rule, mechanism=st.just(Mechanism.PROPORTIONAL), k=st.integers(1, 30)),
)


@st.composite
def auctions(draw: Any) -> tuple[list[list[int]], list[list[int]], list[list[bool]]]:
    n = draw(st.integers(1, 8))
    rows = draw(st.integers(1, 6))
    bids = [draw(st.lists(st.integers(0, 1_500), min_size=n, max_size=n)) for _ in range(rows)]
    arrival = [draw(st.permutations(range(n))) for _ in range(rows)]
    present = [draw(st.lists(st.booleans(), min_size=n, max_size=n)) for _ in range(rows)]
    return bids, arrival, present


@given(rule=RULES, batch=auctions())
def test_outcomes_match_the_reference(
    rule: Rule, batch: tuple[list[list[int]], list[list[int]], list[list[bool]]]
) -> None:
    bids, arrival, present = batch
    units, paid = outcomes(rule, np.array(bids, dtype=np.int64),
                           np.array(arrival, dtype=np.int64), np.array(present, dtype=bool))
    for row, (b, a, p) in enumerate(zip(bids, arrival, present, strict=True)):
        want_units, want_paid = reference_outcome(rule, b, a, p)
        assert units[row].tolist() == want_units
        assert paid[row].tolist() == want_paid


def _xorshift_sample(book_state: list[int], live: list[int], samples: int) -> set[int]:
    """The sampled book's own draws (xorshift64*), replayed: which agents it ranks."""
    mask = (1 << 64) - 1
    chosen = set()
    for _ in range(samples):
        x = book_state[0]
        x ^= x >> 12
        x ^= (x << 25) & mask
        x ^= x >> 27
        book_state[0] = x
        out = (x * 0x2545F4914F6CDD1D) & mask
        chosen.add(live[((out >> 32) * len(live)) >> 32])
    return chosen


@given(seed=st.integers(1, 2**32), samples=st.integers(1, 6), k=st.integers(1, 3),
       rounds=st.lists(st.lists(st.integers(0, 1_000), min_size=2, max_size=9), min_size=1,
                       max_size=5))
def test_sampled_semantics_match_the_sampled_books(
    seed: int, samples: int, k: int, rounds: list[list[int]]
) -> None:
    """Ranking the drawn sample exactly is what SampledTopK does, native and reference."""
    rule = Rule(Mechanism.SECOND_PRICE, k=k, semantics=Semantics.SAMPLED, samples=samples)
    for impl in (reference, _core):
        book = impl.SampledTopK(16, samples=samples, seed=seed)
        state = [seed]
        for bids in rounds:
            book.clear()
            for agent, bid in enumerate(bids):
                book.update(agent, bid)
            want = run(Mechanism.SECOND_PRICE, book, k)
            live = list(range(len(bids)))
            drawn = (set(live) if samples >= len(live)
                     else _xorshift_sample(state, live, samples))
            present = np.array([[a in drawn for a in live]])
            units, paid = outcomes(rule, np.array([bids], dtype=np.int64),
                                   np.arange(len(bids))[None, :], present)
            got = [a for a in live if units[0, a]]
            assert sorted(got) == sorted(want.winners)
            assert [int(paid[0, a]) for a in want.winners] == list(want.payments)


def test_draw_sample_covers_everyone_when_samples_reach_the_live_count() -> None:
    rng = np.random.default_rng(0)
    present = np.array([[True, False, True, True]])
    arrival = np.array([[3, 0, 1, 2]])
    assert draw_sample(rng, 3, arrival, present).tolist() == present.tolist()
    one = draw_sample(rng, 1, arrival, np.array([[True, True, True, True]] * 50))
    assert (one.sum(axis=1) == 1).all()
    assert not (draw_sample(rng, 2, arrival, present) & ~present).any()
