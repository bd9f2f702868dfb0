"""A temperature sensor: sampled at 10-100 Hz, noisy, delayed, quantised, seeded.

A reading taken at ``t`` reports the true temperature then, plus Gaussian
noise, rounded to a millidegree (the unit Linux's thermal sysfs reports), and
becomes available to the controller only at ``t + delay_s`` (bus and
firmware latency). The noise comes from the sensor's own seeded generator,
so a run is the same for the same seed.

Example:
    >>> sensor = Sensor(rate_hz=100, noise_sd_c=0.0, delay_s=0.002, seed=1)
    >>> sensor.sample(0.0, 70.0)
    Reading(taken_s=0.0, available_s=0.002, milli_c=70000)
    >>> sensor.latest(0.001) is None, sensor.latest(0.002).milli_c
    (True, 70000)
"""

from __future__ import annotations

import random
from collections import deque
from dataclasses import dataclass

from auctioneer.checks import require_int, require_number

__all__ = ["MAX_RATE_HZ", "MIN_RATE_HZ", "Reading", "Sensor"]

MIN_RATE_HZ = 10
"""Slowest sampling rate the seed allows."""
MAX_RATE_HZ = 100
"""Fastest sampling rate the seed allows."""


@dataclass(frozen=True, slots=True)
class Reading:
    """One sample: when it was taken, when the controller may see it, and its value."""

    taken_s: float
    available_s: float
    milli_c: int
    """Degrees Celsius x 1000, an int: what the integer controller consumes."""

    @property
    def celsius(self) -> float:
        """The value in degrees Celsius."""
        return self.milli_c / 1000


class Sensor:
    """A seeded noisy, delayed sensor. ``sample`` O(1); ``latest`` O(readings in flight)."""

    __slots__ = ("_in_flight", "_rng", "_shown", "delay_s", "noise_sd_c", "rate_hz", "seed")

    def __init__(self, rate_hz: float = 100, noise_sd_c: float = 0.25, delay_s: float = 0.005,
                 seed: int = 0) -> None:
        self.rate_hz = require_number(rate_hz, "rate_hz", MIN_RATE_HZ, MAX_RATE_HZ)
        self.noise_sd_c = require_number(noise_sd_c, "noise_sd_c", 0.0, 10.0)
        self.delay_s = require_number(delay_s, "delay_s", 0.0, 1.0)
        self.seed = require_int(seed, "seed", 0)
        self._rng = random.Random(seed)
        self._in_flight: deque[Reading] = deque()
        self._shown: Reading | None = None

    @property
    def period_s(self) -> float:
        """Seconds between samples."""
        return 1.0 / self.rate_hz

    def sample(self, t_s: float, true_c: float) -> Reading:
        """Take a reading of ``true_c`` at ``t_s``; it is also queued for :meth:`latest`."""
        noise = self._rng.gauss(0.0, self.noise_sd_c) if self.noise_sd_c else 0.0
        reading = Reading(t_s, t_s + self.delay_s, round((true_c + noise) * 1000))
        self._in_flight.append(reading)
        return reading

    def latest(self, t_s: float) -> Reading | None:
        """The newest reading available at ``t_s`` (None before the first arrives)."""
        queue = self._in_flight
        while queue and queue[0].available_s <= t_s:
            self._shown = queue.popleft()
        return self._shown
