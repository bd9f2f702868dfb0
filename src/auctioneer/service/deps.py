"""Request dependencies: the running service, the caller behind an API key, rate limits.

A caller proves who it is with the ``X-API-Key`` header (see
:mod:`~auctioneer.service.keys`); a missing or wrong key is 401, a key of a
closed or unknown account too, and a non-admin on an admin route 403. Each
account's writes draw on its token bucket; an empty bucket is 429 with
``Retry-After`` (whole seconds, rounded up).

Every dependency and every route is ``async``: it runs on the event loop's
thread, the thread the sequencer applies commands on, so a handler never
reads the engine while it changes (and skips FastAPI's thread-pool hop).
"""

from __future__ import annotations

import math
import time
from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader

from auctioneer.exchange.model import Role
from auctioneer.service.errors import ApiError
from auctioneer.service.ratelimit import RateLimiter
from auctioneer.service.runtime import Caller, Service

__all__ = ["Admin", "Caller", "CallerDep", "ServiceDep", "caller_of", "charge", "charge_limit",
           "get_service"]

_KEY = APIKeyHeader(name="X-API-Key", auto_error=False,
                    description="The account's API key: `<account>.<tag>`.")
_KEY_FIELD = "X-API-Key"


async def get_service(request: Request) -> Service:
    """The service this app runs."""
    service: Service = request.app.state.service
    return service


ServiceDep = Annotated[Service, Depends(get_service)]


def caller_of(service: Service, key: str | None) -> Caller:
    """The caller behind API key ``key``, or ApiError 401."""
    if not key:
        raise ApiError(401, _KEY_FIELD, "missing API key", {"WWW-Authenticate": "ApiKey"})
    account = service.keys.account_of(key)
    if account is None:
        raise ApiError(401, _KEY_FIELD, "invalid API key", {"WWW-Authenticate": "ApiKey"})
    caller = service.callers.get(account)
    if caller is None:
        try:
            role = service.exchange.account(account).role
        except LookupError:
            raise ApiError(401, _KEY_FIELD, f"account {account!r} is not open") from None
        caller = service.callers[account] = Caller(account, role)
    return caller


async def _caller(service: ServiceDep, key: Annotated[str | None, Security(_KEY)]) -> Caller:
    return caller_of(service, key)


CallerDep = Annotated[Caller, Depends(_caller)]


async def _admin(caller: CallerDep) -> Caller:
    if caller.role is not Role.ADMIN:
        raise ApiError(403, _KEY_FIELD, f"account {caller.account!r} is not an admin")
    return caller


Admin = Annotated[Caller, Depends(_admin)]


def charge(service: Service, caller: Caller, cost: int) -> None:
    """Take ``cost`` tokens from the caller's bucket or raise 429 (admins are not limited)."""
    charge_limit(service.limiter, caller, cost)


def charge_limit(limiter: RateLimiter, caller: Caller, cost: int) -> None:
    """:func:`charge` against ``limiter`` (``serve --nats`` keeps one per API process)."""
    if caller.role is Role.ADMIN:
        return
    if cost > limiter.burst:
        raise ApiError(422, "orders", f"{cost} orders exceed the burst of "
                       f"{limiter.burst} an account may send at once")
    wait = limiter.take(caller.account, cost, time.monotonic())
    if wait > 0:
        raise ApiError(429, _KEY_FIELD,
                       f"rate limit of {limiter.rate:g} orders/s exceeded for "
                       f"{caller.account!r}; retry in {wait:.3f} s",
                       {"Retry-After": str(max(1, math.ceil(wait)))})
