"""Dual-plane coupling: monotone CPU price, a stable GPU price, table == formula."""

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from auctioneer.thermal import BINS, GPU_BAND, ONE, CouplingTable, cpu_formula, gpu_formula
from auctioneer.tick import PRICE_MAX

TABLE = CouplingTable.build()
bases = st.integers(0, 10_000_000)
demand = st.integers(0, 3_000)
headroom = st.integers(-20_000, 60_000)
util = st.integers(0, 1_000)
feedback = st.integers(ONE, 8 * ONE)


@given(bases, demand, headroom, util, util, feedback)
def test_cpu_price_never_falls_as_gpu_utilisation_rises(
    base: int, d: int, h: int, u1: int, u2: int, fb: int
) -> None:
    low, high = sorted((u1, u2))
    assert TABLE.cpu_price(base, d, h, low, fb) <= TABLE.cpu_price(base, d, h, high, fb)


@given(bases, demand, headroom, headroom, util, feedback)
def test_cpu_price_never_falls_as_the_cpu_heats(
    base: int, d: int, h1: int, h2: int, u: int, fb: int
) -> None:
    cool, hot = max(h1, h2), min(h1, h2)      # less headroom = hotter
    assert TABLE.cpu_price(base, d, cool, u, fb) <= TABLE.cpu_price(base, d, hot, u, fb)


@given(bases, demand, headroom, util, feedback)
def test_cpu_price_within_base_and_eight_times(base: int, d: int, h: int, u: int,
                                               fb: int) -> None:
    price = TABLE.cpu_price(base, d, h, u, fb)
    assert base <= price <= min(8 * base, PRICE_MAX)


@given(bases, demand, headroom)
def test_gpu_price_stays_in_its_band(base: int, d: int, h: int) -> None:
    price = TABLE.gpu_price(base, d, h)
    assert base * GPU_BAND[0] >> 16 <= price <= base * GPU_BAND[1] >> 16
    # Heat alone moves the GPU price by at most 25 %.
    cool = TABLE.gpu_price(base, d, 60_000)
    assert cool <= price <= cool * 5 // 4 + 1


def test_gpu_hot_cpu_price_reaches_eight_times() -> None:
    # The seed: GPU at 95 %, chassis hot, CPU margin low => 8x; the GPU price barely moves.
    assert TABLE.cpu_price(1_000_000, 1_000, 1_500, 950) == 8_000_000
    assert TABLE.cpu_price(1_000_000, 1_000, 1_500, 100) < 2_000_000
    assert TABLE.gpu_price(1_000_000, 1_000, 1_500) <= 1_250_000


def test_table_equals_formula_everywhere() -> None:
    for d, h, g in itertools.product(range(BINS), repeat=3):
        got = TABLE.cpu_multiplier(d * 125, h * 2_000, (g * 1000 + BINS - 1) // BINS)
        assert got == cpu_formula(d, h, g), (d, h, g)
    for d, h in itertools.product(range(BINS), repeat=2):
        assert TABLE.gpu_multiplier(d * 125, h * 2_000) == gpu_formula(d, h)


def test_sizes() -> None:
    assert TABLE.nbytes == {"cpu": BINS**3 * 4, "gpu": BINS**2 * 4}
    assert len(TABLE.cpu) == 4096 and len(TABLE.gpu) == 256


@pytest.mark.parametrize(("call", "text"), [
    (lambda: CouplingTable.build(max_multiplier=0), "max_multiplier 0"),
    (lambda: TABLE.cpu_price(-1, 0, 0, 0), "base -1 is negative"),
    (lambda: TABLE.gpu_price(2**40, 0, 0), f"base {2**40} exceeds"),
    (lambda: CouplingTable((1,), ()), "1/0 entries"),
])
def test_bad_parameters_name_field_and_value(call: object, text: str) -> None:
    with pytest.raises(ValueError, match=text):
        call()  # type: ignore[operator]
