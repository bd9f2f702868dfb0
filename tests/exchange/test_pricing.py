"""The price index over long idle spells: no drift, no snap back to the base price.

Each test runs on the C fold and bars (``_price``) and on the reference's Python loops."""

from __future__ import annotations

from decimal import Decimal, localcontext
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from auctioneer.exchange import pricing
from auctioneer.exchange.pricing import SECOND, PriceIndex


@pytest.fixture(autouse=True, params=["c", "reference"])
def _fold(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    if request.param == "reference":
        monkeypatch.setattr(pricing, "_fold", lambda *args: None)
        monkeypatch.setattr(pricing, "_bars", lambda pending: None)


def _exact(trades: list[tuple[int, int, int]], half_life_ns: int) -> Fraction:
    """The EWMA of ``(price, quantity, ts_ns)`` as of the last trade (any later time is equal).

    Each weight ``2^(-age/h)`` is evaluated at 60 digits and taken as an exact
    fraction; the sums and their ratio are exact.
    """
    last = trades[-1][2]
    num = den = Fraction(0)
    with localcontext() as ctx:
        ctx.prec = 60
        for price, quantity, ts in trades:
            w = Fraction(Decimal(2) ** (Decimal(ts - last) / Decimal(half_life_ns)))
            num += price * quantity * w
            den += quantity * w
    return num / den


def test_one_trade_then_only_publications_keeps_its_price() -> None:
    # The reviewer's case: floored decays every second used to drift from 4,704 s
    # and snap back to the base price once the weight underflowed.
    index = PriceIndex(40_000, 120 * SECOND)
    index.record(40_000, 1, 0)
    assert {index.publish(s * SECOND) for s in range(1, 20_000)} == {40_000}
    assert index.price(10**6 * SECOND) == 40_000
    # A year later a new trade takes over; the old one is forgotten, not the new one.
    year = 365 * 86_400 * SECOND
    index.record(50_000, 1, year + 5)
    assert index.publish(year + SECOND) == 50_000
    # Both still count when the new one is only one half-life newer.
    index.record(20_000, 1, year + 120 * SECOND + 5)
    assert index.publish(year + 121 * SECOND) == 30_000  # (50,000/2 + 20,000) / 1.5


@given(st.lists(st.tuples(st.integers(1, 10**9), st.integers(1, 10**6),
                          st.integers(0, SECOND - 1), st.integers(0, 3 * 3600)),
                min_size=1, max_size=5),
       st.integers(1, 300))
def test_long_idle_publication_series_stay_on_the_exact_ewma(
        trades: list[tuple[int, int, int, int]], half_life_s: int) -> None:
    h = half_life_s * SECOND
    index = PriceIndex(1, h)
    seen: list[tuple[int, int, int]] = []
    second = 0
    for price, quantity, offset, idle_s in trades:
        ts = second * SECOND + offset
        index.record(price, quantity, ts)
        seen.append((price, quantity, ts))
        exact = _exact(seen, h)
        # Then hours of publications at one a second, as the service's ticker sends.
        for s in range(second + 1, second + 2 + idle_s):
            assert abs(index.publish(s * SECOND) - exact) <= 1, (s, exact)
        assert abs(index.price((second + idle_s + 10**6) * SECOND) - exact) <= 1
        second += 1 + idle_s


@pytest.mark.parametrize("value", [2**63, 10**30, -(2**63) - 1])
def test_a_pending_trade_past_64_bits_is_refused_not_wrapped(value: int) -> None:
    index = PriceIndex(base_price=1_000, half_life_ns=SECOND)
    state = {**index.state(), "pending": [[1_000, 1, value]]}
    with pytest.raises(OverflowError):
        index.load(state)
    with pytest.raises(OverflowError):
        index.record(1_000, 1, value)
    assert not index.pending and index.price(0) == 1_000  # nothing half-recorded


def test_pending_trades_round_trip_through_state_at_the_64_bit_edges() -> None:
    index = PriceIndex(base_price=1_000, half_life_ns=SECOND)
    index.record(2**63 - 1, 1, 2**63 - 1)
    again = PriceIndex(base_price=1_000, half_life_ns=SECOND)
    again.load(index.state())
    assert again.state() == index.state()
    assert list(again.pending) == [2**63 - 1, 1, 2**63 - 1]
