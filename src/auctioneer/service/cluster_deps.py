"""``serve --nats``'s request dependencies: the gateway, the caller, the write key, rate limits.

The caller behind an ``X-API-Key`` is looked up by :class:`AccountRoles`:
with ``--db`` in PostgreSQL first (the read side every API process shares),
so a process whose own projection of the log is behind (just started, or
catching up after a partition) still knows every account the tables hold;
then in the process's projection (an account opened a moment ago, not in
the tables yet). Roles never change, so a role once found is kept.

Each account's writes draw on a token bucket per API process
(:func:`charge`, the single-process limits: a batch costs one token per
order, admins are not limited); an empty bucket is 429 with ``Retry-After``.

Example:
    >>> order_key("alice", "k1") == order_key("alice", "k1") != order_key("bob", "k1")
    True
"""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Header, Request, Security
from fastapi.security import APIKeyHeader

from auctioneer.exchange.commands import Command
from auctioneer.exchange.events import Rejected
from auctioneer.exchange.model import Role
from auctioneer.exchange.scaleout.partition import RoutingError
from auctioneer.service.deps import Caller, charge_limit
from auctioneer.service.errors import ApiError
from auctioneer.service.gateway import Applied, ClusterUnavailable, Gateway
from auctioneer.service.keys import KeyRing
from auctioneer.service.pgstore import PartitionedStore, role_of
from auctioneer.service.ratelimit import RateLimiter

__all__ = ["ADMIN", "AccountRoles", "AdminDep", "CallerDep", "GatewayDep", "KeyDep",
           "caller", "charge", "gateway_of", "order_id_of", "order_key", "run_command",
           "submit"]

ADMIN = "admin"
_KEY = APIKeyHeader(name="X-API-Key", auto_error=False)
_MAP_HEADER = "X-Partition-Map"
_IDEMPOTENCY = "Idempotency-Key"


def order_key(account: str, key: str) -> str:
    """The order id of ``account``'s order sent with idempotency key ``key`` (a retry with the
    same key names the same order)."""
    return order_id_of(f"{account}/{key}")


def order_id_of(write_key: str) -> str:
    """The order id of the order sent under ``write_key`` (:data:`KeyDep`'s value)."""
    return "o" + hashlib.sha256(write_key.encode()).hexdigest()[:16]


class AccountRoles:
    """Who an account is: from the tables (with ``--db``), else this process's projection."""

    def __init__(self, projected: Callable[[str], Role], store: PartitionedStore | None
                 ) -> None:
        self.projected = projected
        """The role the process's projection gives; LookupError when it holds no such account."""
        self.store = store
        self._known: dict[str, Role] = {}

    async def role(self, account: str) -> Role | None:
        """``account``'s role, None when neither the tables nor the projection hold it."""
        known = self._known.get(account)
        if known is None and self.store is not None:
            found = await asyncio.to_thread(role_of, self.store, account)
            known = None if found is None else Role(found)
        if known is None:
            try:
                known = self.projected(account)
            except LookupError:
                return None
        self._known[account] = known
        return known


def gateway_of(request: Request) -> Gateway:
    """The process's gateway."""
    gateway: Gateway = request.app.state.gateway
    return gateway


GatewayDep = Annotated[Gateway, Depends(gateway_of)]


async def caller(request: Request, key: Annotated[str | None, Security(_KEY)]) -> Caller:
    """The account behind the request's API key (401 naming ``X-API-Key`` when none)."""
    ring: KeyRing = request.app.state.keys
    account = ring.account_of(key) if key else None
    if account is None:
        raise ApiError(401, "X-API-Key", "missing or invalid API key",
                       {"WWW-Authenticate": "ApiKey"})
    roles: AccountRoles = request.app.state.roles
    role = await roles.role(account)
    if role is None:
        raise ApiError(401, "X-API-Key", f"account {account!r} is not open")
    return Caller(account, role)


CallerDep = Annotated[Caller, Depends(caller)]


async def _admin(who: CallerDep) -> Caller:
    if who.role is not Role.ADMIN:
        raise ApiError(403, "X-API-Key", f"account {who.account!r} is not an admin")
    return who


AdminDep = Annotated[Caller, Depends(_admin)]


def charge(request: Request, who: Caller, cost: int) -> None:
    """Take ``cost`` orders from ``who``'s token bucket in this process, or 429."""
    limiter: RateLimiter = request.app.state.limiter
    charge_limit(limiter, who, cost)


async def _write_key(gateway: GatewayDep, who: CallerDep,
                     key: Annotated[str | None, Header(alias=_IDEMPOTENCY)] = None,
                     claimed: Annotated[str | None, Header(alias=_MAP_HEADER)] = None) -> str:
    """The write's key, ``<account>/<Idempotency-Key>`` (a fresh one when none is sent),
    after the map check: the command stream's message id, so two accounts sending the same
    Idempotency-Key are two commands."""
    if claimed is not None and claimed != gateway.partitions.describe():
        raise ApiError(409, _MAP_HEADER, f"{claimed!r} is not the cluster's partition map "
                       f"{gateway.partitions.describe()!r}: refresh the map, then retry")
    if key is None:
        key = uuid.uuid4().hex
    if not 1 <= len(key) <= 128 or not key.isprintable() or any(c.isspace() for c in key):
        raise ApiError(422, _IDEMPOTENCY, f"{key[:40]!r} must be 1..128 printable characters "
                       "without spaces")
    return f"{who.account}/{key}"


KeyDep = Annotated[str, Depends(_write_key)]


async def submit(gateway: Gateway, command: Command, key: str,
                 partition: int | None = None) -> list[Applied]:
    """Publish and wait for the leader; 422 naming the field when it cannot be routed, 503
    with ``Retry-After`` when the cluster did not store or apply it in time."""
    try:
        return await gateway.submit(command, key, partition)
    except RoutingError as exc:
        raise ApiError(422, exc.field, exc.message) from None
    except ClusterUnavailable as exc:
        raise ApiError(503, "cluster", str(exc), {"Retry-After": exc.retry_after}) from None


async def run_command(gateway: Gateway, command: Command, key: str,
                      partition: int | None = None,
                      rename: dict[str, str] | None = None) -> list[Applied]:
    """:func:`submit`; the first rejection as a 4xx naming its field."""
    applied = await submit(gateway, command, key, partition)
    for copy in applied:
        first = copy.events[0] if copy.events else None
        if isinstance(first, Rejected):
            field = (rename or {}).get(first.field, first.field)
            raise ApiError(404 if field == "account" else 422, field, first.reason)
    return applied
