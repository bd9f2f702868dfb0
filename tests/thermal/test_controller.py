"""The PID controller: shipped gains settle without oscillation; anti-windup; integers."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from auctioneer.thermal import DEFAULT_GAINS, ONE, Gains, PriceController
from auctioneer.thermal.response import StepScenario, step_response


@pytest.mark.parametrize("seed", [0, 1])
def test_shipped_gains_settle_without_oscillation(seed: int) -> None:
    r = step_response(StepScenario(duration_s=90.0, seed=seed))
    assert r.rise_s is not None and r.settling_s is not None
    assert r.overshoot_c < 2.0          # docs/thermal.md: ~1.6 K
    assert r.crossings == 0             # never swings back through the target
    assert r.settling_s < 40.0          # docs/thermal.md: ~25 s into a 1 K band
    tail = r.cpu_c[-1000:]
    assert max(abs(t - 85.0) for t in tail) < 1.0
    assert 1.0 < r.final_multiplier < 8.0


def test_a_load_that_stays_cool_keeps_the_base_price() -> None:
    r = step_response(StepScenario(before=0.3, after=0.5, duration_s=30.0, noise_sd_c=0.0))
    assert r.overshoot_c == 0.0 and r.rise_s is None and set(r.multiplier) == {1.0}


def test_too_much_integral_gain_oscillates() -> None:
    # The measure can tell: ten times the shipped ki swings back through the target.
    fast = Gains(DEFAULT_GAINS.kp, 10 * DEFAULT_GAINS.ki)
    r = step_response(StepScenario(duration_s=90.0, noise_sd_c=0.0), fast)
    assert r.crossings >= 1


def test_anti_windup_saturates_then_recovers_at_once() -> None:
    ctl = PriceController(85.0, Gains.from_float(0.2, 0.05), period_s=0.01)
    for _ in range(10_000):                        # 100 s far too hot: saturated at 8x
        ctl.update(120_000)
    assert ctl.multiplier == 8 * ONE
    # The integral term alone never exceeds the output range...
    assert ctl.gains.ki * ctl.integral // 10**9 <= 7 * ONE
    # ...so the price leaves saturation on the first reading below target, where a wound-up
    # integrator (35 K x 100 s at ki 0.05 = 175x) would hold it at 8x for minutes.
    assert ctl.update(84_000) < 8 * ONE
    samples = 1
    while ctl.update(80_000) > ONE:
        samples += 1
    assert samples < 20 * 100                      # back to base within 20 s


def test_never_winds_below_the_floor() -> None:
    ctl = PriceController(85.0, period_s=0.01)
    for _ in range(5_000):
        assert ctl.update(40_000) == ONE
    assert ctl.integral == 0                 # min 1.0x: nothing to wind
    assert ctl.update(86_000) > ONE          # reacts on the first hot reading


@given(st.lists(st.integers(0, 150_000), min_size=1, max_size=50))
def test_outputs_are_ints_within_range(readings: list[int]) -> None:
    ctl = PriceController(80.0, Gains.from_float(0.3, 0.05, 0.1), period_s=0.02)
    for r in readings:
        m = ctl.update(r)
        assert type(m) is int and ONE <= m <= 8 * ONE
        assert ctl._acc_lo <= ctl.integral <= ctl._acc_hi


@given(st.integers(0, 150_000), st.integers(-50_000, 50_000))
def test_output_is_monotone_in_temperature(milli_c: int, rate: int) -> None:
    ctl = PriceController(85.0, Gains.from_float(0.2, 0.015, 0.05))
    assert ctl.output(milli_c, rate) <= ctl.output(milli_c + 500, rate)


@pytest.mark.parametrize(("build", "text"), [
    (lambda: PriceController(target_c=200), "target_c 200"),
    (lambda: PriceController(period_s=5.0), "period_s 5.0"),
    (lambda: PriceController(min_q=-1), "min_q -1"),
    (lambda: PriceController(max_q=100), "max_q 100"),
    (lambda: Gains(-5, 0), "gains.kp -5"),
    (lambda: Gains.from_float(0.1, -0.5), "gains.ki -0.5"),
])
def test_bad_parameters_name_field_and_value(build: object, text: str) -> None:
    with pytest.raises(ValueError, match=text):
        build()  # type: ignore[operator]


def test_update_wants_integer_millidegrees() -> None:
    with pytest.raises(TypeError, match="milli_c must be an int, got 85.0"):
        PriceController().update(85.0)  # type: ignore[arg-type]
