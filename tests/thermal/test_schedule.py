"""The predictive schedule: its O(1) lookup equals recomputing the controller."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from auctioneer.thermal import PriceController, PriceSchedule, Reading


@given(
    st.lists(st.integers(60_000, 110_000), min_size=1, max_size=12),
    st.sampled_from([1000, 2000, 4000, 10_000]),
    st.sampled_from([0.01, 0.02, 0.05, 0.1]),
    st.integers(0, 9),
)
def test_lookup_equals_recomputation(readings: list[int], tick_hz: int, period: float,
                                     delay_ms: int) -> None:
    schedule = PriceSchedule(PriceController(85.0, period_s=period), tick_hz=tick_hz)
    per_sample = round(period * tick_hz)
    for k, value in enumerate(readings):
        taken = k * period
        tick = k * per_sample + delay_ms * tick_hz // 1000
        schedule.refresh(Reading(taken, taken + delay_ms / 1000, value), tick)
        for t in range(tick - 2, tick + len(schedule) + 3):
            assert schedule.multiplier_at(t) == schedule.recompute(t)


def test_horizon_covers_ten_ms_or_one_sensor_period() -> None:
    assert len(PriceSchedule(PriceController(period_s=0.01), tick_hz=1000)) == 10
    assert len(PriceSchedule(PriceController(period_s=0.01), tick_hz=10_000)) == 100
    assert len(PriceSchedule(PriceController(period_s=0.1), tick_hz=1000)) == 100


def test_extrapolates_a_rising_temperature() -> None:
    ctl = PriceController(85.0, period_s=0.01)
    schedule = PriceSchedule(ctl, tick_hz=1000)
    for k in range(40):                       # +2 K/s
        schedule.refresh(Reading(k / 100, k / 100, 90_000 + 20 * k), tick=10 * k)
    assert ctl.rate > 0
    first, last = schedule.multiplier_at(390), schedule.multiplier_at(399)
    assert schedule.predicted_mc(399) > schedule.predicted_mc(390)
    assert last >= first


@pytest.mark.parametrize(("kwargs", "text"), [
    ({"tick_hz": 500}, "tick_hz 500"),
    ({"horizon_s": 0.0}, "horizon_s 0.0"),
])
def test_bad_parameters_name_field_and_value(kwargs: dict[str, float], text: str) -> None:
    with pytest.raises(ValueError, match=text):
        PriceSchedule(PriceController(), **kwargs)  # type: ignore[arg-type]
