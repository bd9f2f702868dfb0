"""Pools, the reserve curve, users and the padded market arrays."""

import numpy as np
import pytest

from auctioneer import clock
from auctioneer.clock import DEFAULT_CURVE, Market, Pool, ReserveCurve, User, UserKind

M = 1_000_000


def test_default_curve_knots_and_interpolation() -> None:
    assert [DEFAULT_CURVE.multiplier(u) for u, _ in DEFAULT_CURVE.points] == [
        m for _, m in DEFAULT_CURVE.points]
    # Linear between knots, rounded down: 60% is halfway from 0.8x to 1.0x.
    assert DEFAULT_CURVE.multiplier(6_000) == 9_000
    assert DEFAULT_CURVE.multiplier(1) == 5_000  # 5000 + 3000 * 1 // 5000
    values = DEFAULT_CURVE.multipliers(np.arange(0, 10_001))
    assert (np.diff(values) >= 0).all()  # never falls: busier is never cheaper
    assert values.dtype == np.int64


@pytest.mark.parametrize("points, words", [
    (((0, 5_000),), "at least two knots"),
    (((0, 5_000), (5_000, 4_000), (10_000, 9_000)), "must not fall"),
    (((0, 5_000), (5_000, 6_000), (5_000, 7_000), (10_000, 9_000)), "exceed the previous"),
    (((100, 5_000), (10_000, 9_000)), "start at utilisation 0"),
    (((0, 0), (10_000, 9_000)), "must be >= 1"),
    (((0, 5_000), (10_000, 9_000.0)), "must be an int"),
])
def test_bad_curves_are_refused(points: tuple[tuple[int, int], ...], words: str) -> None:
    with pytest.raises(ValueError, match=words):
        ReserveCurve(points)


def test_reserve_prices_follow_utilisation_and_overrides() -> None:
    pools = (Pool("a", "cpu", 100, 40_000, used=95),   # 95%: 2.5x
             Pool("b", "cpu", 100, 40_000, used=70),   # 70%: 1.0x
             Pool("c", "cpu", 100, 40_000, used=0),    # idle: 0.5x
             Pool("d", "cpu", 0, 40_000),              # no capacity: full, 4x
             Pool("e", "cpu", 100, 40_000, reserve=7),  # explicit
             Pool("f", "disk", 100, 1, used=0))        # 0.5 micro-units rounds up to the floor 1
    assert clock.reserve_prices(pools).tolist() == [100_000, 40_000, 20_000, 160_000, 7, 1]


@pytest.mark.parametrize("kwargs, words", [
    ({"cluster": "a/b"}, "without '/'"),
    ({"resource": ""}, "non-empty"),
    ({"capacity": -1}, "capacity -1 must be >= 0"),
    ({"used": 11}, "used 11 must be <= 10"),
    ({"base_price": 0}, "at least 1 micro-unit"),
    ({"base_price": 0.5}, "float"),
    ({"reserve": 0}, "at least 1 micro-unit"),
    ({"capacity": 2**63}, "capacity 9223372036854775808 must be <= 9223372036854775807"),
    ({"capacity": 10**30}, "capacity 10+ must be <= 9223372036854775807"),
])
def test_bad_pools_are_refused(kwargs: dict[str, object], words: str) -> None:
    args: dict[str, object] = {"cluster": "c", "resource": "cpu", "capacity": 10,
                               "base_price": 1}
    args.update(kwargs)
    with pytest.raises(ValueError, match=words):
        Pool(**args)  # type: ignore[arg-type]


POOLS = (Pool("e", "cpu", 10, M), Pool("w", "cpu", 10, M), Pool("w", "ram", 10, M))


def test_from_users_pads_and_round_trips() -> None:
    users = [User("a", 5 * M, ({"e/cpu": 2}, {"w/cpu": 2, "w/ram": 4}, {"e/cpu": 1})),
             User("s", -M, ({1: -3},)),
             User("t", 0, ({"e/cpu": 1, "w/cpu": -1}, {"w/ram": 0, "e/cpu": 2}))]
    market = Market.from_users(POOLS, users)
    assert market.shape == (3, 3, 2)
    # Padding slots repeat bundle 0.
    assert market.bundle(1, 2) == market.bundle(1, 0) == {1: -3}
    assert market.bundle_count.tolist() == [3, 1, 2]
    assert market.user(0) == users[0]
    assert market.user(1).bundles == ({"w/cpu": -3},)
    assert market.user(2).bundles == ({"e/cpu": 1, "w/cpu": -1}, {"e/cpu": 2})  # 0 dropped
    assert market.kinds() == (UserKind.BUYER, UserKind.SELLER, UserKind.TRADER)
    assert not market.quantity.flags.writeable
    assert market == Market.from_users(POOLS, users)
    assert market != Market.from_users(POOLS, users[:2])


@pytest.mark.parametrize("user, words", [
    (User("a", M, ()), "user 0 'a': bundles () must list at least one bundle"),
    (User("a", M, ({"x/cpu": 1},)), "user 0 'a' bundle 0: pool 'x/cpu' is not a pool"),
    (User("a", M, ({"e/cpu": 1}, {"e/cpu": 0})), "user 0 'a' bundle 1: quantities"),
    (User("a", M, ({"e/cpu": 1.0},)), "user 0 'a' bundle 0: quantity of 'e/cpu' 1.0 must be"),
    (User("a", 1.5, ({"e/cpu": 1},)), "user 0 'a': budget 1.5 is a float"),
    (User("", M, ({"e/cpu": 1},)), "user 0: name '' must be"),
    (User("a", M, ({7: 1},)), "user 0 'a' bundle 0: pool 7 must be a pool name or an index"),
])
def test_bad_users_are_named(user: User, words: str) -> None:
    with pytest.raises(ValueError) as info:
        Market.from_users(POOLS, [user])
    assert words in str(info.value)


def test_repeated_names_are_refused() -> None:
    with pytest.raises(ValueError, match="user 1 'a': name 'a' repeats the name of user 0"):
        Market.from_users(POOLS, [User("a", M, ({"e/cpu": 1},)), User("a", M, ({0: 1},))])
    with pytest.raises(ValueError, match="appears twice"):
        Market.from_users((POOLS[0], POOLS[0]), [])


def test_from_arrays_validates() -> None:
    idx = np.zeros((1, 2, 2), np.int32)
    qty = np.ones((1, 2, 2), np.int64)
    market = Market.from_arrays(POOLS, [1, 2], idx, qty, [1, 2])
    assert market.user_names == ("u0", "u1")
    with pytest.raises(ValueError, match="bundle_count"):
        Market.from_arrays(POOLS, [1, 2], idx, qty, [0, 2])
    with pytest.raises(ValueError, match="pool index"):
        Market.from_arrays(POOLS, [1, 2], idx + 3, qty, [1, 2])
    with pytest.raises(ValueError, match="all zero"):
        Market.from_arrays(POOLS, [1, 2], idx, qty * 0, [1, 2])
    with pytest.raises(ValueError, match="shape"):
        Market.from_arrays(POOLS, [1], idx, qty, [1, 2])


def test_a_bundle_moving_more_than_64_bits_of_units_is_refused() -> None:
    # Issue 12 #7: np.abs(qty).sum() wrapped (2**63 - 1 + 256 < 0) and the bundle passed.
    with pytest.raises(ValueError, match=r"bundle 0: quantities \[9223372036854775807, 256\] "
                       "move more than 9223372036854775807 units in all"):
        Market.from_users(POOLS, [User("a", M, ({"e/cpu": 2**63 - 1, "w/cpu": 256},))])
    # Three terms that wrap to exactly zero in 64 bits are not "all zero" either.
    big = 2**62
    with pytest.raises(ValueError, match="move more than"):
        Market.from_users(POOLS, [User("a", M, ({"e/cpu": big, "w/cpu": big, "w/ram": -big},))])
    with pytest.raises(ValueError, match="quantity -9223372036854775808 must be >="):
        Market.from_arrays(POOLS, [1], np.zeros((1, 1, 1), np.int32),
                           np.full((1, 1, 1), -(2**63), np.int64), [1])
    at_limit = Market.from_users(POOLS, [User("a", M, ({"e/cpu": 2**63 - 2, "w/cpu": 1},))])
    assert at_limit.bundle(0, 0) == {0: 2**63 - 2, 1: 1}


def test_a_pool_twice_in_one_bundle_is_refused() -> None:
    idx = np.array([[[0]], [[0]]], np.int32)
    qty = np.array([[[1]], [[2]]], np.int64)
    with pytest.raises(ValueError, match="user 0 bundle 0: quantities 'a pool twice'"):
        Market.from_arrays(POOLS, [1], idx, qty, [1])
    # Zero entries are padding, not a second mention.
    market = Market.from_arrays(POOLS, [1], idx, np.array([[[1]], [[0]]], np.int64), [1])
    assert market.shape == (1, 1, 1)  # the all-zero plane is dropped


def test_max_supply_counts_each_users_largest_sale() -> None:
    users = [User("s", -M, ({"e/cpu": -3, "w/cpu": -1}, {"e/cpu": -5})),
             User("t", 0, ({"e/cpu": -2, "w/ram": 4},)),
             User("b", M, ({"e/cpu": 20},))]
    market = Market.from_users(POOLS, users)
    # e: 10 free + s's best 5 + t's 2; w/cpu: 10 + 1; w/ram: 10 (t buys there).
    assert market.max_supply().tolist() == [17, 11, 10]
    assert market.servable().tolist() == [[True, True], [True, True], [False, False]]
