"""Arrival processes and value distributions: seeded, and statistically sane."""

import math

import numpy as np
import pytest

from auctioneer.sim.distributions import Constant, Geometric, LogNormal, Pareto, Uniform, draw
from auctioneer.sim.population import class_counts
from auctioneer.sim.workload import NS, Bursty, Diurnal, Poisson, arrivals

SECONDS = 200


def _rate(times: np.ndarray, seconds: float) -> float:
    return times.size / seconds


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_poisson_rate_and_gaps(seed: int) -> None:
    times = arrivals(Poisson(50.0), np.random.default_rng(seed), 0, SECONDS * NS)
    expected = 50.0 * SECONDS
    assert abs(times.size - expected) < 4 * math.sqrt(expected)       # 4 sigma
    gaps = np.diff(times) / NS
    assert gaps.mean() == pytest.approx(1 / 50, rel=0.05)
    assert gaps.std() == pytest.approx(1 / 50, rel=0.08)              # exponential: sd = mean
    assert times.dtype == np.int64 and bool((np.diff(times) >= 0).all())
    assert times.min() >= 0 and times.max() < SECONDS * NS


def test_bursty_long_run_rate_and_silences() -> None:
    process = Bursty(rate_hz=100.0, on_s=0.5, off_s=1.5)
    times = arrivals(process, np.random.default_rng(5), 0, 2 * SECONDS * NS)
    assert _rate(times, 2 * SECONDS) == pytest.approx(process.mean_rate, rel=0.15)
    # OFF periods leave gaps far longer than Poisson at the same mean rate would.
    assert (np.diff(times) / NS).max() > 3.0


def test_diurnal_rate_follows_the_sinusoid() -> None:
    process = Diurnal(rate_hz=100.0, amplitude=0.8, period_s=10.0)
    times = arrivals(process, np.random.default_rng(9), 0, SECONDS * NS)
    assert _rate(times, SECONDS) == pytest.approx(100.0, rel=0.05)
    phase = (times % (10 * NS)) / (10 * NS)
    peak = ((phase > 0.15) & (phase < 0.35)).sum()    # around sin = +1
    trough = ((phase > 0.65) & (phase < 0.85)).sum()  # around sin = -1
    assert 5 < peak / trough < 12                       # ~ (1 + 0.8) / (1 - 0.8) = 9 at the tips


def test_arrivals_are_deterministic_for_a_seed_and_respect_the_interval() -> None:
    for process in (Poisson(30.0), Bursty(30.0, 0.2, 0.2), Diurnal(30.0, 0.5, 1.0)):
        a = arrivals(process, np.random.default_rng(4), 3 * NS, 9 * NS)
        b = arrivals(process, np.random.default_rng(4), 3 * NS, 9 * NS)
        assert a.tolist() == b.tolist()
        assert a.size == 0 or (a.min() >= 3 * NS and a.max() < 9 * NS)
    assert arrivals(Poisson(10.0), np.random.default_rng(1), 5, 5).size == 0


def test_distributions_means_and_bounds() -> None:
    rng = np.random.default_rng(11)
    n = 200_000
    assert draw(Constant(7), rng, 3).tolist() == [7, 7, 7]
    u = draw(Uniform(10, 20), rng, n)
    assert u.min() == 10 and u.max() == 20 and u.mean() == pytest.approx(15, rel=0.01)
    ln = draw(LogNormal(1000, 0.5), rng, n)
    assert np.median(ln) == pytest.approx(1000, rel=0.02)
    assert ln.mean() == pytest.approx(LogNormal(1000, 0.5).mean, rel=0.02)
    p = draw(Pareto(1000, 3.0), rng, n)
    assert p.min() >= 1000 and p.mean() == pytest.approx(Pareto(1000, 3.0).mean, rel=0.03)
    g = draw(Geometric(20.0), rng, n)
    assert g.min() >= 1 and g.mean() == pytest.approx(20, rel=0.02)
    assert draw(Uniform(0, 0), rng, 5, low=1).tolist() == [1] * 5      # clipped into range


def test_class_counts_split_by_largest_remainder() -> None:
    assert class_counts([0.2, 0.8], 1000) == [200, 800]
    assert class_counts([0.5, 0.5], 3) == [2, 1]
    assert sum(class_counts([0.1, 0.3, 0.6], 7)) == 7
