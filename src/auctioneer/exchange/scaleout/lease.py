"""A partition's leadership: a lease in a NATS KV bucket, taken and renewed by compare-and-set.

The bucket ``AUCTIONEER_LEASES`` (R3 on a cluster) has a TTL: a value not
rewritten within ``ttl_s`` is removed by the server. A candidate takes the
lease with ``create`` (succeeds only when the key is absent, so at most one
candidate wins each time it falls free) and the winner renews it with
``update(last=revision)``, which fails once anyone else has written the key.
The revision at which the lease was taken is the leader's **term**: KV
revisions are stream sequences, so a later leader's term is always higher.

The lease alone cannot stop a paused leader from acting on a lease that
expired while it slept; the events stream's compare-and-set does
(:mod:`~auctioneer.exchange.scaleout.leader`). The lease decides who tries;
the stream decides who succeeds.

Example:
    >>> lease_key(3)
    'partition-3'
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass

from nats.js import JetStreamContext
from nats.js.api import KeyValueConfig, StorageType
from nats.js.errors import (
    BucketNotFoundError,
    KeyNotFoundError,
    KeyWrongLastSequenceError,
    NotFoundError,
)
from nats.js.kv import KeyValue

__all__ = ["LEASE_BUCKET", "Lease", "lease_bucket", "lease_key"]

LEASE_BUCKET = "AUCTIONEER_LEASES"
_SAFETY = 0.75
"""A leader trusts its lease for this fraction of the TTL after the last renewal was sent."""


def lease_key(partition: int) -> str:
    """The KV key of ``partition``'s lease."""
    return f"partition-{partition}"


async def lease_bucket(js: JetStreamContext, ttl_s: float, replicas: int = 1) -> KeyValue:
    """The lease bucket, created with ``ttl_s`` and ``replicas`` if it does not exist."""
    try:
        return await js.key_value(LEASE_BUCKET)
    except (BucketNotFoundError, NotFoundError):
        return await js.create_key_value(KeyValueConfig(
            bucket=LEASE_BUCKET, ttl=ttl_s, history=1, replicas=replicas,
            storage=StorageType.FILE))


@dataclass(slots=True)
class Lease:
    """``holder``'s claim on ``key``: taken by :meth:`acquire`, kept by :meth:`renew`."""

    kv: KeyValue
    key: str
    holder: str
    ttl_s: float
    term: int = 0
    """The KV revision at which the lease was taken (0: not held)."""
    revision: int = 0
    _sent: float = 0.0

    @property
    def held(self) -> bool:
        """Held, and the last successful renewal was sent recently enough to trust it."""
        return self.term > 0 and time.monotonic() - self._sent < self.ttl_s * _SAFETY

    async def acquire(self) -> bool:
        """Take the lease if it is free; whether this holder now holds it."""
        sent = time.monotonic()
        try:
            revision = await self.kv.create(self.key, self.holder.encode())
        except (KeyWrongLastSequenceError, KeyNotFoundError):  # held, or expiring right now
            return False
        self.term = self.revision = revision
        self._sent = sent
        return True

    async def renew(self) -> bool:
        """Extend the lease; False once it is lost (someone else wrote the key, or it expired).

        A renewal that fails for want of a quorum keeps the lease until its
        local deadline (:attr:`held`), then gives it up.
        """
        if self.term == 0:
            return False
        sent = time.monotonic()
        try:
            self.revision = await self.kv.update(self.key, self.holder.encode(),
                                                 last=self.revision)
        except KeyWrongLastSequenceError:
            self.term = 0
            return False
        except Exception:  # no quorum, a timeout, a reconnect: the deadline decides
            if not self.held:
                self.term = 0
            return self.term > 0
        self._sent = sent
        return True

    async def release(self) -> None:
        """Give the lease up at once (a clean stop), so a replica need not wait for the TTL."""
        if self.term:
            with contextlib.suppress(Exception):  # lost meanwhile, or no quorum: the TTL frees it
                await self.kv.delete(self.key, last=self.revision)
            self.term = 0
