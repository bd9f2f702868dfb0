import pytest
from hypothesis import given
from hypothesis import strategies as st

from auctioneer.tick import MAX_TIERS, PRICE_MAX, MapKind, TierMap

MAPS = st.one_of(
    st.builds(TierMap.linear, width=st.integers(1, 10**6), base=st.integers(0, 10**6),
              tiers=st.integers(1, MAX_TIERS)),
    st.builds(TierMap.log, sub_bits=st.integers(0, 16), tiers=st.integers(1, MAX_TIERS)),
)


@given(MAPS, st.integers(0, PRICE_MAX), st.integers(0, PRICE_MAX))
def test_tiers_are_monotone(tiers: TierMap, a: int, b: int) -> None:
    low, high = sorted((a, b))
    assert tiers.tier_of(low) <= tiers.tier_of(high)


@given(MAPS, st.integers(0, PRICE_MAX))
def test_floor_bounds_every_price_in_its_tier(tiers: TierMap, price: int) -> None:
    tier = tiers.tier_of(price)
    assert 0 <= tier < tiers.tiers
    assert tiers.floor(tier) <= price
    assert tiers.tier_of(tiers.floor(tier)) == tier


@given(st.integers(0, 16), st.integers(1, PRICE_MAX))
def test_log_resolution_is_relative(sub_bits: int, price: int) -> None:
    tiers = TierMap.log(sub_bits, tiers=MAX_TIERS)
    tier = tiers.tier_of(price)
    if tier < MAX_TIERS - 1:  # unclamped: the floor is within 2^-sub_bits of the price
        assert (price - tiers.floor(tier)) * 2**sub_bits <= price


def test_linear_example() -> None:
    tiers = TierMap.linear(width=10_000, base=500_000)
    assert tiers.kind is MapKind.LINEAR
    assert [tiers.tier_of(p) for p in (0, 509_999, 510_000, 853_000)] == [0, 0, 1, 35]
    assert tiers.floor(35) == 850_000 and tiers.floor(0) == 0


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: TierMap.linear(width=0), "width must be an int >= 1"),
        (lambda: TierMap.linear(width=5, tiers=4097), "tiers must be an int in 1..4096"),
        (lambda: TierMap.linear(width=5, base=-1), "base -1 is negative"),
        (lambda: TierMap.log(sub_bits=17), "sub_bits must be an int in 0..16"),
    ],
)
def test_bad_maps(build: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        build()  # type: ignore[operator]
