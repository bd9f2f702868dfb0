"""The k best allocations: MILP no-good cuts and branch and bound against enumeration."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from auctioneer.clearing.allocation import check_feasible
from auctioneer.clearing.brute import solve_brute
from auctioneer.clearing.kbest import k_best, k_best_brute
from auctioneer.clearing.model import Auction, Bid, Bundle, Resource
from auctioneer.clearing.result import Clearing, Status

from .strategies import auctions


def _tie_key(choice: tuple[int | None, ...]) -> tuple[int, ...]:
    return tuple(-1 if j is None else j for j in choice)


def _check_ranked(auction: Auction, ranked: list[Clearing]) -> None:
    """Feasible, distinct, ranked by revenue then the documented tie order."""
    for i, result in enumerate(ranked, 1):
        check_feasible(auction, result)
        assert result.status is Status.OPTIMAL and result.stats["rank"] == i
    assert len({r.choice for r in ranked}) == len(ranked)
    keys = [(-r.revenue, _tie_key(r.choice)) for r in ranked]
    assert keys == sorted(keys)


def _same_as_brute(auction: Auction, k: int, method: str) -> None:
    reference = k_best_brute(auction, k)
    ranked = k_best(auction, k, method=method)
    _check_ranked(auction, ranked)
    # Which equal-revenue allocations make the cut may differ; the revenues may not.
    assert [r.revenue for r in ranked] == [r.revenue for r in reference]


@settings(max_examples=150)
@given(auctions(max_bids=4, side_constraints=True), st.integers(1, 12))
def test_milp_equals_brute_force(auction: Auction, k: int) -> None:
    _same_as_brute(auction, k, "milp")


@settings(max_examples=80)
@given(auctions(max_bids=4, two_sided=True, side_constraints=True), st.integers(1, 12))
def test_milp_equals_brute_force_two_sided(auction: Auction, k: int) -> None:
    _same_as_brute(auction, k, "milp")


@settings(max_examples=300)
@given(auctions(max_bids=5, two_sided=True, side_constraints=True), st.integers(1, 40))
def test_bnb_equals_brute_force(auction: Auction, k: int) -> None:
    _same_as_brute(auction, k, "bnb")


@given(auctions(max_bids=5, side_constraints=True), st.integers(1, 20))
def test_brute_ranking_is_a_prefix_of_all_feasible(auction: Auction, k: int) -> None:
    everything = k_best_brute(auction, 10**6)
    ranked = k_best_brute(auction, k)
    _check_ranked(auction, everything)
    assert [(r.revenue, r.choice) for r in ranked] == [
        (r.revenue, r.choice) for r in everything[:k]]
    best = solve_brute(auction)
    if best.is_optimal:
        assert everything[0].revenue == best.revenue
    else:
        assert everything == []


@pytest.mark.parametrize("method", ["milp", "bnb", "brute"])
def test_k_beyond_the_feasible_count_returns_them_all(method: str) -> None:
    # cpu 4: {}, {a}, {b}, {c}, {b, c} are feasible; a with b or c is not.
    auction = Auction((Resource("cpu", 4),), (
        Bid("a", (Bundle((3,), 5),)), Bid("b", (Bundle((2,), 3),)), Bid("c", (Bundle((2,), 3),))))
    ranked = k_best(auction, 50, method=method)
    assert [(r.revenue, r.choice) for r in ranked] == [
        (6, (None, 0, 0)), (5, (0, None, None)), (3, (None, None, 0)), (3, (None, 0, None)),
        (0, (None, None, None))]


@pytest.mark.parametrize("method", ["milp", "bnb", "brute"])
def test_infeasible_and_trivial_auctions(method: str) -> None:
    infeasible = Auction((Resource("cpu", 1),), (Bid("a", (Bundle((2,), 5),), must_win=True),))
    assert k_best(infeasible, 3, method=method) == []
    empty = Auction((Resource("cpu", 1),), ())
    assert [(r.revenue, r.choice) for r in k_best(empty, 3, method=method)] == [(0, ())]
    nothing_admissible = Auction((Resource("cpu", 1, reserve=9),), (Bid("a", (Bundle((1,), 1),)),))
    assert [r.choice for r in k_best(nothing_admissible, 3, method=method)] == [(None,)]


def test_equal_bundles_are_distinct_choices() -> None:
    twin = Bundle((1,), 4)
    auction = Auction((Resource("cpu", 1),), (Bid("a", (twin, twin)),))
    assert [(r.revenue, r.choice) for r in k_best(auction, 5)] == [
        (4, (0,)), (4, (1,)), (0, (None,))]


@pytest.mark.parametrize("bad", [0, -1, True, 1.5, "2"])
def test_bad_k_names_the_value(bad: object) -> None:
    auction = Auction((Resource("cpu", 1),), ())
    for call in (k_best, k_best_brute):
        with pytest.raises(ValueError, match="k") as info:
            call(auction, bad)  # type: ignore[operator]
        assert repr(bad) in str(info.value)


def test_bad_method_and_too_large() -> None:
    auction = Auction((Resource("cpu", 9),), tuple(
        Bid(f"b{t}", (Bundle((1,), 1), Bundle((2,), 2))) for t in range(15)))
    with pytest.raises(ValueError, match="'dp'"):
        k_best(auction, 2, method="dp")
    with pytest.raises(ValueError, match="14,348,907 combinations"):
        k_best_brute(auction, 2)
    # The solvers cope where enumeration refuses.
    assert [r.revenue for r in k_best(auction, 3)] == [9, 9, 9]
    assert [r.revenue for r in k_best(auction, 3, method="bnb")] == [9, 9, 9]
