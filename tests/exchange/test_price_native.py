"""The price index's C weights, fold and bars (``_price.c``) against the reference."""

from __future__ import annotations

import json
from array import array
from decimal import Decimal, localcontext

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from auctioneer.exchange import _price, pricing
from auctioneer.exchange.pricing import SECOND, WEIGHT_BITS, PriceIndex
from auctioneer.exchange.snapshot import canonical_json

pytestmark = pytest.mark.native

_I64 = 2**63 - 1
_TIE_BITS = st.sampled_from([_price.MIN_TIE_BITS, 32, 63, _price.MAX_TIE_BITS])
_HALF_LIFE = st.one_of(st.integers(1, 10), st.integers(1, 3600).map(lambda s: s * SECOND),
                       st.integers(1, _I64))


class _Counted:
    """The decimal reference, counting the calls C makes to it."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, part: int, half_life: int) -> int:
        self.calls += 1
        return pricing._fraction_decimal(part, half_life)


@settings(max_examples=400)
@given(_HALF_LIFE, st.data())
def test_the_fixed_point_value_is_within_its_error_bound(half_life: int, data: st.DataObject
                                                         ) -> None:
    # The bound _price.c's exactness rests on: within 2^14 units of 2^-127 of the true value,
    # far inside the tie margin below which it defers to the reference.
    part = data.draw(st.one_of(st.integers(0, half_life - 1),
                               st.sampled_from([0, half_life - 1, half_life // 2])))
    with localcontext() as ctx:
        ctx.prec = 80
        true = Decimal(2) ** (127 - Decimal(part) / Decimal(half_life))
        error = abs(Decimal(_price.exp2_q127(part, half_life)) - true)
    assert error < 2**14


@settings(max_examples=400)
@given(_HALF_LIFE, st.data(), _TIE_BITS)
def test_a_weight_is_the_decimal_references(half_life: int, data: st.DataObject,
                                            tie_bits: int) -> None:
    part = data.draw(st.one_of(st.integers(0, half_life - 1),
                               st.sampled_from([0, half_life - 1, half_life // 2])))
    assert _price.fraction(part, half_life, _Counted(), tie_bits) == \
        pricing._fraction_decimal(part, half_life)


def test_most_weights_take_the_fallback_at_the_widest_tie_and_none_at_the_narrowest() -> None:
    wide, narrow = _Counted(), _Counted()
    parts = range(0, 10 * SECOND, 9_999_991)
    for part in parts:
        assert _price.fraction(part, 10 * SECOND, wide, _price.MAX_TIE_BITS) == \
            _price.fraction(part, 10 * SECOND, narrow, _price.MIN_TIE_BITS) == \
            pricing._fraction_decimal(part, 10 * SECOND)
    assert wide.calls >= len(parts) - 1 and narrow.calls == 0


def test_every_part_of_small_half_lives_and_the_edges() -> None:
    for half_life in range(1, 40):
        for part in range(half_life):
            assert pricing._fraction(part, half_life) == pricing._fraction_decimal(part, half_life)
    assert pricing._fraction(0, _I64) == 1 << WEIGHT_BITS
    for part in (1, _I64 // 3, _I64 - 1):
        assert pricing._fraction(part, _I64) == pricing._fraction_decimal(part, _I64)


@pytest.mark.parametrize(("part", "half_life"), [
    (-1, 5), (5, 5), (6, 5), (0, 0), (0, -1), (0, 2**63), (2**63, 2**64), (10**30, 10**31),
    (0.0, 5), ("1", 5)])
def test_arguments_out_of_range_are_left_to_the_reference(part: object, half_life: object
                                                          ) -> None:
    assert _price.fraction(part, half_life, _Counted(), 32) is None  # type: ignore[arg-type]
    assert _price.exp2_q127(part, half_life) is None  # type: ignore[arg-type]


@pytest.mark.parametrize("tie_bits", [_price.MIN_TIE_BITS - 1, _price.MAX_TIE_BITS + 1, -1,
                                      2**63, 10**30])
def test_a_tie_margin_below_the_error_bound_is_refused(tie_bits: int) -> None:
    with pytest.raises((ValueError, OverflowError)):
        _price.fraction(1, 5, _Counted(), tie_bits)
    with pytest.raises((ValueError, OverflowError)):
        _price.fold(array("q", [1, 1, 1]), 2, 5, _Counted(), tie_bits)


def test_what_the_fallback_raises_propagates() -> None:
    def broken(part: int, half_life: int) -> int:
        raise ZeroDivisionError(part)

    with pytest.raises(ZeroDivisionError):
        _price.fraction(1, 7, broken, _price.MAX_TIE_BITS)
    with pytest.raises(ZeroDivisionError):
        _price.fold(array("q", [5, 1, 1]), 2, 7, broken, _price.MAX_TIE_BITS)


_TRADES = st.lists(st.tuples(st.integers(0, _I64), st.integers(0, _I64), st.integers(0, _I64)),
                   max_size=12)


@settings(max_examples=300)
@given(_TRADES, _HALF_LIFE, st.integers(0, _I64), _TIE_BITS)
def test_a_fold_is_the_reference_loops(trades: list[tuple[int, int, int]], half_life: int,
                                       ahead: int, tie_bits: int) -> None:
    ref = max((ts for _, _, ts in trades), default=1)
    ref = max(1, min(_I64, ref + ahead % (64 * half_life)))
    pending = array("q", [n for trade in trades for n in trade])
    assert _price.fold(pending, ref, half_life, _Counted(), tie_bits) == \
        pricing._fold_python(pending, ref, half_life)


@pytest.mark.parametrize(("trades", "ref", "half_life"), [
    ([-1, 1, 0], 5, 5), ([1, -1, 0], 5, 5), ([1, 1, 6], 5, 5), ([1, 1, 0], 0, 5),
    ([1, 1, 0], 5, 0), ([1, 1, 0], 2**63, 5), ([1, 1, 0], 5, 10**30)])
def test_a_fold_leaves_what_it_does_not_handle_to_the_reference(
        trades: list[int], ref: int, half_life: int) -> None:
    assert _price.fold(array("q", trades), ref, half_life, _Counted(), 32) is None


@pytest.mark.parametrize("pending", [array("i", [1, 1, 1]), array("q", [1, 1]), b"x" * 24,
                                     array("d", [1.0, 1.0, 1.0])])
def test_a_fold_takes_only_an_array_of_trade_triples(pending: object) -> None:
    with pytest.raises(TypeError):
        _price.fold(pending, 5, 5, _Counted(), 32)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        _price.bars(pending)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="pending_json"):
        _price.pending_json(pending)  # type: ignore[arg-type]


def test_the_largest_terms_carry_across_every_word() -> None:
    pending = array("q", [_I64, _I64, 7] * 50)
    weighted, weight = _price.fold(pending, 7, 1, _Counted(), 32) or (0, 0)
    assert weighted.bit_length() > 192  # into the fourth word
    assert (weighted, weight) == pricing._fold_python(pending, 7, 1)


@settings(max_examples=100)
@given(st.lists(st.tuples(st.integers(1, 10**12), st.integers(1, 10**9),
                          st.integers(0, 3 * SECOND)), min_size=1, max_size=30),
       st.integers(1, 600))
def test_an_index_publishes_the_same_on_the_c_fold_and_the_reference(
        steps: list[tuple[int, int, int]], half_life_s: int) -> None:
    indexes = [PriceIndex(1_000, half_life_s * SECOND) for _ in range(2)]
    ts = 0
    for price, quantity, gap in steps:
        ts += gap
        prices = []
        for index, fold in zip(indexes, [_price.fold, None], strict=True):
            index.record(price, quantity, ts)
            with pytest.MonkeyPatch.context() as patch:
                if fold is None:
                    patch.setattr(pricing, "_fold", lambda *args: None)
                    patch.setattr(pricing, "_bars", lambda pending: None)
                prices.append((index.price(ts), index.ohlc(2, 10), index.publish(ts + gap // 2),
                               index.ohlc(3, 5)))
        assert prices[0] == prices[1]
        assert indexes[0].state() == indexes[1].state()


def _runs_by_trade(trades: list[tuple[int, int, int]]) -> list[tuple[int, ...]]:
    """What bars() should give: each run of trades in one second, a trade at a time."""
    runs: list[list[int]] = []
    for price, quantity, ts in trades:
        if runs and runs[-1][0] == ts // SECOND:
            run = runs[-1]
            run[2], run[3], run[4] = max(run[2], price), min(run[3], price), price
            run[5] += quantity
        else:
            runs.append([ts // SECOND, price, price, price, price, quantity])
    return [tuple(run) for run in runs]


@settings(max_examples=300)
@given(st.lists(st.tuples(st.integers(0, _I64), st.integers(0, _I64),
                          st.one_of(st.integers(0, 4 * SECOND), st.integers(0, _I64))),
                max_size=30))
def test_bars_are_each_seconds_run_of_trades(trades: list[tuple[int, int, int]]) -> None:
    pending = array("q", [n for trade in trades for n in trade])
    assert _price.bars(pending) == _runs_by_trade(trades)


def test_a_seconds_volume_passes_64_bits_whole() -> None:
    trades = [(5, _I64, 7)] * 5
    assert _price.bars(array("q", [n for t in trades for n in t])) == \
        [(0, 5, 5, 5, 5, 5 * _I64)]


@pytest.mark.parametrize("trades", [[-1, 1, 0], [1, -1, 0], [1, 1, -1], [1, 1, 0, 1, 1, -5],
                                    [1, 1, 0, -1, 1, 2 * SECOND]])
def test_bars_leave_negative_values_to_the_reference(trades: list[int]) -> None:
    assert _price.bars(array("q", trades)) is None


_ANY_I64 = st.integers(-(2**63), _I64)


@settings(max_examples=300)
@given(st.lists(st.tuples(_ANY_I64, _ANY_I64, _ANY_I64), max_size=30),
       st.lists(st.tuples(st.integers(1, 10**6), st.integers(1, 9), st.integers(0, 5 * SECOND)),
                max_size=20))
def test_the_pending_trades_json_is_the_references(trades: list[tuple[int, int, int]],
                                                  published: list[tuple[int, int, int]]) -> None:
    # Byte for byte what canonical JSON of the state's lists is, at both ends of int64.
    pending = array("q", [n for t in [*trades, (-(2**63), _I64, 0)] for n in t])
    assert _price.pending_json(pending) == canonical_json(
        [[*t] for t in [*trades, (-(2**63), _I64, 0)]])
    assert _price.pending_json(array("q")) == b"[]"
    index = PriceIndex(base_price=1_000, half_life_ns=SECOND)
    for price, quantity, ts in sorted(published, key=lambda t: t[2]):
        index.record(price, quantity, ts)
        if quantity % 3 == 0:
            index.publish(ts)
    parts = index.state_parts()
    assert parts.keys() == index.state().keys()
    assert {**parts, "pending": json.loads(parts["pending"])} == index.state()

