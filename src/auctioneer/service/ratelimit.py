"""Per-account rate limits: one token bucket per account, refilled continuously.

A request costs one token per order it carries; when the bucket is short,
the caller is told how long to wait (the ``Retry-After`` of a 429).
Time is passed in, so the buckets are testable without sleeping.

Example:
    >>> limits = RateLimiter(rate=10.0, burst=20)
    >>> limits.take("alice", 20, now=0.0)
    0.0
    >>> limits.take("alice", 5, now=0.0)
    0.5
    >>> limits.take("alice", 5, now=0.5)
    0.0
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Bucket", "RateLimiter"]


@dataclass(slots=True)
class Bucket:
    """A token bucket: ``tokens`` at time ``stamp``."""

    tokens: float
    stamp: float


class RateLimiter:
    """Token buckets of ``burst`` tokens refilled at ``rate`` per second, one per account."""

    __slots__ = ("_buckets", "burst", "rate")

    def __init__(self, rate: float, burst: int) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError(f"rate {rate!r} and burst {burst!r} must be positive")
        self.rate = rate
        self.burst = burst
        self._buckets: dict[str, Bucket] = {}

    def take(self, account: str, cost: int, now: float) -> float:
        """Take ``cost`` tokens and return 0.0, or take nothing and return the seconds to wait.

        A cost above the burst could never be paid: ValueError.
        """
        if cost > self.burst:
            raise ValueError(f"cost {cost} exceeds the burst {self.burst}")
        bucket = self._buckets.get(account)
        if bucket is None:
            bucket = self._buckets[account] = Bucket(float(self.burst), now)
        tokens = min(float(self.burst), bucket.tokens + (now - bucket.stamp) * self.rate)
        bucket.stamp = now
        if tokens >= cost:
            bucket.tokens = tokens - cost
            return 0.0
        bucket.tokens = tokens
        return (cost - tokens) / self.rate
