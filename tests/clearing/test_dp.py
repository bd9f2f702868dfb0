"""Dynamic programming, dense and sparse, against brute force; its estimate and refusals."""

import tracemalloc

import pytest
from hypothesis import given, settings

from auctioneer.clearing import (
    Auction,
    Bid,
    Bundle,
    Resource,
    Status,
    check_feasible,
    estimate_dp,
    solve_brute,
    solve_dp,
)
from auctioneer.money import MONEY_MAX

from .conftest import assert_agrees, examples
from .strategies import auctions


def _all_forms(auction: Auction) -> None:
    reference = solve_brute(auction)
    check_feasible(auction, reference)
    for form in ("dense", "sparse", "auto"):
        result = solve_dp(auction, form=form)
        assert_agrees(auction, result, reference)
        if result.stats["form"] == "sparse" and "operations" in result.stats:
            # The estimate is an upper bound on the work actually done.
            assert result.stats["operations"] <= result.stats["estimate_operations"]
    # The lean dense form: force it with a memory limit the full tables miss.
    e = estimate_dp(auction, "dense")
    if e.lean_bytes < e.bytes:
        lean = solve_dp(auction, form="dense", max_bytes=e.lean_bytes)
        assert lean.status is Status.INFEASIBLE or lean.stats["tables"] == "lean"
        assert_agrees(auction, lean, reference)


@settings(max_examples=examples(600))
@given(auctions())
def test_one_sided_matches_brute_force(auction: Auction) -> None:
    _all_forms(auction)


@settings(max_examples=examples(600))
@given(auctions(side_constraints=True))
def test_side_constraints_match_brute_force(auction: Auction) -> None:
    _all_forms(auction)


@settings(max_examples=examples(600))
@given(auctions(two_sided=True, side_constraints=True))
def test_two_sided_matches_brute_force(auction: Auction) -> None:
    _all_forms(auction)


@settings(max_examples=examples(200))
@given(auctions(max_bids=4, max_resources=3, max_capacity=4, two_sided=True,
                side_constraints=True))
def test_three_resources_match_brute_force(auction: Auction) -> None:
    _all_forms(auction)


@settings(max_examples=examples(200))
@given(auctions(max_bids=4, two_sided=True, max_price=2**58))
def test_large_prices_keep_the_sentinel_apart(auction: Auction) -> None:
    # Price magnitudes up to 4 x 2**58 = 2**60, the dense tables' limit.
    _all_forms(auction)


@settings(max_examples=examples(100))
@given(auctions(max_bids=12, max_bundles=3, max_capacity=12, two_sided=True,
                side_constraints=True))
def test_dense_and_sparse_agree_beyond_brute_force(auction: Auction) -> None:
    dense, sparse = solve_dp(auction, form="dense"), solve_dp(auction, form="sparse")
    assert_agrees(auction, dense, sparse)
    check_feasible(auction, sparse)


OFFICE = Auction((Resource("rooms", 10), Resource("parking", 20)), (
    Bid("a", (Bundle((3, 6), 18), Bundle((4, 8), 26), Bundle((5, 12), 31))),
    Bid("b", (Bundle((6, 6), 30),)),
    Bid("c", (Bundle((2, 10), 14), Bundle((1, 2), 5))),
))


@pytest.mark.parametrize("form", ["dense", "sparse"])
def test_office_example(form: str) -> None:
    # a's 4 rooms + 8 spaces (26) and b's 6 + 6 (30) fill the rooms: 56 beats
    # a's big bundle with c's (31 + 14 needs 22 spaces, too many).
    result = solve_dp(OFFICE, form=form)
    assert (result.status, result.revenue, result.choice, result.used) == (
        Status.OPTIMAL, 56, (1, 0, None), (10, 14))
    assert result.stats["form"] == form
    for key in ("estimate_cells", "estimate_operations", "estimate_bytes", "estimate_seconds"):
        assert key in result.stats


def test_estimate_counts_the_grid() -> None:
    e = estimate_dp(OFFICE, "dense")
    assert (e.form, e.grid, e.cells, e.winner_states) == ("dense", (11, 21), 231, 1)
    assert e.operations >= 7 * 231  # 4 + 1 + 3 options, each a pass over the grid
    assert e.bytes >= 4 * 231 * 8 and e.seconds > 0 and e.unusable is None
    assert estimate_dp(OFFICE, "sparse").form == "sparse"
    with pytest.raises(ValueError, match="'tall'"):
        estimate_dp(OFFICE, "tall")


def test_sellers_extend_the_grid_and_must_win_shrinks_it() -> None:
    # The seller can add 3 units to the 5 on offer: usage runs over 0..8.
    seller = Auction((Resource("cpu", 5),), (Bid("s", (Bundle((-3,), 0),)),
                                             Bid("b", (Bundle((8,), 9),))))
    assert estimate_dp(seller, "dense").grid == (9,)
    assert solve_dp(seller).revenue == 9
    # A must-win bid surely takes 2 of the 5 units: 3 are left to decide.
    vip = Auction((Resource("cpu", 5),), (Bid("v", (Bundle((2,), 1), Bundle((3,), 2)),
                                              must_win=True),
                                          Bid("b", (Bundle((3,), 9),))))
    assert estimate_dp(vip, "dense").grid == (4,)
    assert solve_dp(vip).choice == (0, 0)


def test_winner_bounds_add_a_count_axis() -> None:
    loose = Auction(OFFICE.resources, OFFICE.bids, min_winners=0, max_winners=3)
    assert estimate_dp(loose, "dense").winner_states == 1  # cannot bind: 3 bids
    tight = Auction(OFFICE.resources, OFFICE.bids, min_winners=0, max_winners=1)
    assert estimate_dp(tight, "dense").winner_states == 2
    assert solve_dp(tight).revenue == 31
    three = Auction(OFFICE.resources, OFFICE.bids, min_winners=3)
    assert estimate_dp(three, "dense").winner_states == 4
    result = solve_dp(three)  # a's smallest bundle, b, and c's small one: 18 + 30 + 5
    assert (result.revenue, result.choice) == (53, (0, 0, 1))


@pytest.mark.parametrize("auction, why", [
    (Auction(OFFICE.resources, OFFICE.bids, min_winners=4), "min_winners 4 exceeds the 3 bids"),
    (Auction((Resource("cpu", 2, reserve=5),), (Bid("v", (Bundle((1,), 1),), must_win=True),)),
     "must win but has no admissible bundle"),
    (Auction((Resource("cpu", 2),), (Bid("v", (Bundle((3,), 1),), must_win=True),)),
     "more than the capacity of cpu"),
])
def test_infeasible_without_solving(auction: Auction, why: str) -> None:
    for form in ("dense", "sparse"):
        result = solve_dp(auction, form=form)
        assert result.status is Status.INFEASIBLE
        assert why in str(result.stats["reason"])
        check_feasible(auction, result)


def _huge() -> Auction:
    resources = tuple(Resource(f"r{i}", 1_000_000) for i in range(4))
    return Auction(resources, tuple(Bid(f"b{t}", (Bundle((t + 1,) * 4, 10),))
                                    for t in range(100)))


def test_refuses_a_huge_instance_without_allocating_it() -> None:
    tracemalloc.start()
    try:
        result = solve_dp(_huge(), form="dense")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result.status is Status.TOO_LARGE and result.choice == ()
    reason = str(result.stats["reason"])
    assert "dense DP needs" in reason and "1000001^4 cells x 100 bids" in reason
    assert "limit 2 GiB" in reason
    assert peak < 10_000_000
    assert result.stats["estimate_cells"] == 1_000_001**4
    # One bundle a bid keeps the reachable usages few: auto goes sparse.
    auto = solve_dp(_huge())
    assert auto.status is Status.OPTIMAL and auto.stats["form"] == "sparse"
    assert auto.revenue == 1000
    # With three large bundles a bid (capacity binds, so the clamp merges
    # little) neither form fits, and auto says why for both.
    resources = _huge().resources
    wide = Auction(resources, tuple(
        Bid(f"b{t}", tuple(Bundle(tuple((t * 7919 + k * 104_729 + r * 15_485) % 200_000
                                        for r in range(4)), 10 + k) for k in range(3)))
        for t in range(100)))
    refused = solve_dp(wide)
    assert refused.status is Status.TOO_LARGE
    assert "dense DP needs" in str(refused.stats["reason"])
    assert "sparse DP needs" in str(refused.stats["reason"])


def test_refuses_over_the_operation_and_time_limits() -> None:
    ops = solve_dp(OFFICE, form="dense", max_operations=10)
    assert ops.status is Status.TOO_LARGE
    assert "cell operations for 11x21 cells x 3 bids; limit 10" in str(ops.stats["reason"])
    slow = solve_dp(OFFICE, form="sparse", max_seconds=0.0)
    assert slow.status is Status.TOO_LARGE and "predicts" in str(slow.stats["reason"])


def test_prices_too_large_for_int64_go_sparse() -> None:
    big = MONEY_MAX // 2
    auction = Auction((Resource("cpu", 2),), tuple(
        Bid(f"b{t}", (Bundle((1,), big),)) for t in range(3)))
    assert estimate_dp(auction, "dense").unusable is not None
    dense = solve_dp(auction, form="dense")
    assert dense.status is Status.TOO_LARGE and "int64" in str(dense.stats["reason"])
    result = solve_dp(auction)
    assert result.stats["form"] == "sparse"
    assert result.revenue == 2 * big  # exact, beyond int64's range only in sum
    assert_agrees(auction, result, solve_brute(auction))


@pytest.mark.parametrize("kwargs, named", [
    ({"form": "tall"}, "'tall'"),
    ({"max_bytes": -1}, "max_bytes -1"),
    ({"max_operations": -5}, "max_operations -5"),
    ({"max_seconds": -0.5}, "max_seconds -0.5"),
    ({"max_bytes": 2.5}, "max_bytes 2.5"),
])
def test_bad_arguments_are_named(kwargs: dict[str, object], named: str) -> None:
    with pytest.raises(ValueError, match=named):
        solve_dp(OFFICE, **kwargs)  # type: ignore[arg-type]


def test_no_bids_and_no_resources() -> None:
    empty = Auction((Resource("cpu", 3),), ())
    result = solve_dp(empty)
    assert (result.status, result.revenue, result.choice, result.used) == (
        Status.OPTIMAL, 0, (), (0,))
    bare = Auction((), (Bid("x", (Bundle((), 4),)), Bid("y", ())))
    for form in ("dense", "sparse"):
        result = solve_dp(bare, form=form)
        assert (result.revenue, result.choice, result.used) == (4, (0, None), ())
