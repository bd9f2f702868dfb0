"""The brute-force reference: hand-checked cases and properties that do not trust it."""

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from auctioneer.clearing import (
    Auction,
    Bid,
    Bundle,
    Resource,
    Status,
    bid_options,
    check_feasible,
    solve_brute,
)

from .conftest import examples
from .strategies import auctions

CPU = (Resource("cpu", 4),)


def test_picks_the_best_subset_not_the_greedy_one() -> None:
    # Greedy by price takes a (10) and then nothing fits; b + c raise 11.
    auction = Auction(CPU, (Bid("a", (Bundle((3,), 10),)), Bid("b", (Bundle((2,), 6),)),
                            Bid("c", (Bundle((2,), 5),))))
    result = solve_brute(auction)
    assert (result.status, result.revenue, result.choice, result.used) == (
        Status.OPTIMAL, 11, (None, 0, 0), (4,))


def test_ties_go_to_the_lexicographically_smallest_choice() -> None:
    # Both bids want all 4 units for 5: (None, 0) < (0, None), None first.
    auction = Auction(CPU, (Bid("a", (Bundle((4,), 5),)), Bid("b", (Bundle((4,), 5),))))
    assert solve_brute(auction).choice == (None, 0)
    # Within a bid, bundle 0 before bundle 1.
    auction = Auction(CPU, (Bid("a", (Bundle((1,), 5), Bundle((2,), 5))),))
    assert solve_brute(auction).choice == (0,)


def test_zero_prices_and_explicit_zero_bundles() -> None:
    # A zero price never beats losing (ties go to None); an explicit zero
    # bundle with a positive price wins without using anything.
    auction = Auction(CPU, (Bid("free", (Bundle((1,), 0),)), Bid("fee", (Bundle((0,), 3),))))
    result = solve_brute(auction)
    assert (result.revenue, result.choice, result.used) == (3, (None, 0), (0,))
    assert result.winners == (1,)


def test_reserve_prices_exclude_bundles() -> None:
    auction = Auction((Resource("cpu", 4, reserve=3),), (
        Bid("low", (Bundle((2,), 5),)), Bid("ok", (Bundle((1,), 3),))))
    assert bid_options(auction, 0) == (None,)
    assert solve_brute(auction).choice == (None, 0)


def test_must_win_bids_win_even_at_a_loss_of_revenue() -> None:
    auction = Auction(CPU, (Bid("a", (Bundle((4,), 10),)),
                            Bid("vip", (Bundle((1,), 1),), must_win=True)))
    result = solve_brute(auction)
    assert (result.revenue, result.choice) == (1, (None, 0))
    check_feasible(auction, result)


def test_infeasible_must_win_sets_and_winner_counts() -> None:
    both = Auction(CPU, (Bid("a", (Bundle((3,), 1),), must_win=True),
                         Bid("b", (Bundle((3,), 1),), must_win=True)))
    result = solve_brute(both)
    assert result.status is Status.INFEASIBLE and result.choice == ()
    assert "reason" in result.stats
    check_feasible(both, result)
    crowded = Auction(CPU, (Bid("a", (Bundle((3,), 1),)), Bid("b", (Bundle((3,), 1),))),
                      min_winners=2)
    assert solve_brute(crowded).status is Status.INFEASIBLE
    capped = Auction(CPU, (Bid("a", (Bundle((1,), 1),)), Bid("b", (Bundle((1,), 1),))),
                     max_winners=1)
    assert solve_brute(capped).revenue == 1


def test_sellers_add_capacity() -> None:
    # Nothing on offer, but a seller's 3 units (asking nothing) let a buyer in.
    auction = Auction((Resource("cpu", 0),), (
        Bid("buyer", (Bundle((3,), 9),)), Bid("seller", (Bundle((-3,), 0),))))
    result = solve_brute(auction)
    assert (result.revenue, result.choice, result.used) == (9, (0, 0), (0,))


def test_refuses_too_many_combinations() -> None:
    auction = Auction(CPU, tuple(Bid(f"b{t}", (Bundle((1,), 1), Bundle((2,), 2)))
                                 for t in range(10)))
    result = solve_brute(auction, max_combinations=1000)
    assert result.status is Status.TOO_LARGE and result.choice == ()
    assert "59,049 combinations" in str(result.stats["reason"])
    check_feasible(auction, result)


def test_stops_at_the_time_limit() -> None:
    auction = Auction(CPU, tuple(Bid(f"b{t}", (Bundle((1,), 1), Bundle((2,), 2)))
                                 for t in range(10)))
    result = solve_brute(auction, time_limit=0.0)
    assert result.status is Status.TIME_LIMIT
    check_feasible(auction, result)


@pytest.mark.parametrize("bad", [-1, 1.5, "10"])
def test_bad_max_combinations(bad: object) -> None:
    with pytest.raises(ValueError, match=repr(bad).replace(".", r"\.")):
        solve_brute(Auction(CPU, ()), max_combinations=bad)  # type: ignore[arg-type]


def test_bad_time_limit() -> None:
    with pytest.raises(ValueError, match="-1"):
        solve_brute(Auction(CPU, ()), time_limit=-1)


def _feasible(auction: Auction, choice: tuple[int | None, ...]) -> bool:
    winners = sum(j is not None for j in choice)
    if winners < auction.min_winners or (
        auction.max_winners is not None and winners > auction.max_winners
    ):
        return False
    for r, resource in enumerate(auction.resources):
        used = sum(auction.bids[t].bundles[j].quantities[r]
                   for t, j in enumerate(choice) if j is not None)
        if used > resource.capacity:
            return False
    return True


@settings(max_examples=examples(300))
@given(auction=auctions(max_bids=4, two_sided=True, side_constraints=True), data=st.data())
def test_no_feasible_choice_beats_it(auction: Auction, data: st.DataObject) -> None:
    result = solve_brute(auction)
    check_feasible(auction, result)
    options = [bid_options(auction, t) for t in range(len(auction.bids))]
    choice = tuple(data.draw(st.sampled_from(o)) if o else None for o in options)
    if all(options) and _feasible(auction, choice):
        assert result.status is Status.OPTIMAL
        revenue = sum(auction.bids[t].bundles[j].price for t, j in enumerate(choice)
                      if j is not None)
        assert revenue <= result.revenue


@settings(max_examples=examples(200))
@given(auctions(max_bids=3, max_bundles=2, side_constraints=True))
def test_status_is_infeasible_exactly_when_no_choice_is(auction: Auction) -> None:
    options = [bid_options(auction, t) for t in range(len(auction.bids))]
    any_feasible = any(_feasible(auction, c) for c in itertools.product(*options))
    assert (solve_brute(auction).status is Status.OPTIMAL) == any_feasible
