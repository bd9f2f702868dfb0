"""Sensors: deterministic per seed, noise and delay as documented, parameter errors."""

import pytest

from auctioneer.thermal import Sensor


def _series(seed: int) -> list[int]:
    sensor = Sensor(rate_hz=50, noise_sd_c=0.5, delay_s=0.01, seed=seed)
    return [sensor.sample(k * sensor.period_s, 70.0 + k / 10).milli_c for k in range(200)]


def test_same_seed_same_readings() -> None:
    assert _series(3) == _series(3)
    assert _series(3) != _series(4)


def test_noise_has_the_stated_spread() -> None:
    sensor = Sensor(rate_hz=100, noise_sd_c=0.5, delay_s=0.0, seed=1)
    values = [sensor.sample(k / 100, 50.0).celsius for k in range(4000)]
    mean = sum(values) / len(values)
    sd = (sum((v - mean) ** 2 for v in values) / len(values)) ** 0.5
    assert abs(mean - 50.0) < 0.05 and 0.45 < sd < 0.55


def test_noiseless_reading_is_quantised_to_millidegrees() -> None:
    sensor = Sensor(noise_sd_c=0.0, delay_s=0.0)
    assert sensor.sample(0.0, 71.23449).milli_c == 71234
    assert isinstance(sensor.sample(0.0, 71.0).milli_c, int)


def test_delay_hides_readings_until_they_arrive() -> None:
    sensor = Sensor(rate_hz=100, noise_sd_c=0.0, delay_s=0.015, seed=0)
    for k in range(5):
        sensor.sample(k * 0.01, 60.0 + k)
    assert sensor.latest(0.014) is None
    first = sensor.latest(0.015)
    assert first is not None and first.milli_c == 60_000
    newest = sensor.latest(0.036)
    assert newest is not None and newest.milli_c == 62_000 and newest.taken_s == 0.02
    assert sensor.latest(1.0).milli_c == 64_000  # type: ignore[union-attr]


@pytest.mark.parametrize(("kwargs", "text"), [
    ({"rate_hz": 5}, "rate_hz 5 is out of range 10..100"),
    ({"rate_hz": 1000}, "rate_hz 1000 is out of range 10..100"),
    ({"noise_sd_c": -1.0}, "noise_sd_c -1.0"),
    ({"delay_s": 2.0}, "delay_s 2.0"),
    ({"seed": -3}, "seed -3"),
])
def test_bad_parameters_name_field_and_value(kwargs: dict[str, float], text: str) -> None:
    with pytest.raises(ValueError, match=text):
        Sensor(**kwargs)  # type: ignore[arg-type]
