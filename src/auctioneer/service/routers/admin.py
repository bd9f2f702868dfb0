"""Admin: open accounts (and hand out their keys), move money, list markets, set capacity.

Every route needs an admin's key. Each write goes through the sequencer like
an order; a refusal by the engine is a 4xx naming the field.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from fastapi import APIRouter

from auctioneer.exchange.commands import (
    AddCapacity,
    Deposit,
    ListMarket,
    OpenAccount,
    RemoveCapacity,
    Withdraw,
)
from auctioneer.exchange.events import Event, Rejected
from auctioneer.exchange.model import ExecutionRule, Market, Role
from auctioneer.service.deps import Admin, ServiceDep
from auctioneer.service.errors import ApiError
from auctioneer.service.projector import clear_fault, read_fault
from auctioneer.service.routers.accounts import account_out, capacity_out
from auctioneer.service.routers.markets import market_out
from auctioneer.service.runtime import Service
from auctioneer.service.schemas import (
    AccountCreated,
    AccountIn,
    AccountOut,
    AmountIn,
    CapacityIn,
    CapacityOut,
    MarketIn,
    MarketOut,
    Slug,
    StateOut,
)
from auctioneer.service.sequencer import Maker, SequencerStopped
from auctioneer.service.store import projected_seq

__all__ = ["router", "run"]

router = APIRouter(prefix="/admin", tags=["admin"])

_STATUS = {"account": 404, "order_id": 404}


async def run(service: Service, makers: Sequence[Maker], rename: dict[str, str] | None = None
              ) -> list[Sequence[Event]]:
    """Sequence ``makers``; raise the first rejection as a 4xx naming its field."""
    try:
        outcomes = await service.sequencer.submit(makers)
    except SequencerStopped as exc:
        raise ApiError(503, "request", str(exc)) from None
    for _, events in outcomes:
        if events and isinstance(events[0], Rejected):
            field = (rename or {}).get(events[0].field, events[0].field)
            raise ApiError(_STATUS.get(field, 422), field, events[0].reason)
    return [events for _, events in outcomes]


def _known(service: Service, account: str) -> None:
    try:
        service.exchange.account(account)
    except LookupError:
        raise ApiError(404, "account", f"{account!r} is not an open account") from None


@router.post("/accounts", response_model=AccountCreated, status_code=201,
             responses={409: {"description": "the account exists"}})
async def open_account(body: AccountIn, _: Admin, service: ServiceDep) -> AccountCreated:
    """Open an account (with an optional first deposit) and return its API key."""
    if any(a.id == body.id for a in service.exchange.accounts()):
        raise ApiError(409, "id", f"account {body.id!r} already exists")
    makers: list[Maker] = [lambda ts: OpenAccount(body.id, Role(body.role), ts)]
    if body.deposit:
        makers.append(lambda ts: Deposit(body.id, body.deposit, ts))
    await run(service, makers, {"account": "id", "amount": "deposit"})
    return AccountCreated(id=body.id, role=body.role, api_key=service.keys.key_for(body.id))


@router.get("/accounts/{account}/key", response_model=AccountCreated)
async def account_key(account: Slug, _: Admin, service: ServiceDep) -> AccountCreated:
    """An account's API key again."""
    _known(service, account)
    role = service.exchange.account(account).role.value
    return AccountCreated(id=account, role=role, api_key=service.keys.key_for(account))


@router.get("/accounts/{account}", response_model=AccountOut)
async def get_account(account: Slug, _: Admin, service: ServiceDep) -> AccountOut:
    """Any account's balance and reservation."""
    _known(service, account)
    return account_out(service.exchange, account)


async def _money(service: Service, account: str, make: Maker) -> AccountOut:
    _known(service, account)
    await run(service, [make])
    return account_out(service.exchange, account)


@router.post("/accounts/{account}/deposit", response_model=AccountOut)
async def deposit(account: Slug, body: AmountIn, _: Admin, service: ServiceDep) -> AccountOut:
    """Credit money to an account."""
    return await _money(service, account, lambda ts: Deposit(account, body.amount, ts))


@router.post("/accounts/{account}/withdraw", response_model=AccountOut)
async def withdraw(account: Slug, body: AmountIn, _: Admin, service: ServiceDep) -> AccountOut:
    """Debit money from an account (at most what its bids do not reserve)."""
    return await _money(service, account, lambda ts: Withdraw(account, body.amount, ts))


@router.post("/markets", response_model=MarketOut, status_code=201,
             responses={409: {"description": "the market is listed"}})
async def list_market(body: MarketIn, _: Admin, service: ServiceDep) -> MarketOut:
    """List a market (``region/instance_type``) with its tick, base price and rules."""
    if body.base_price % body.tick_size:
        raise ApiError(422, "base_price", f"{body.base_price} is not on the tick "
                       f"{body.tick_size}")
    market = Market(body.region, body.instance_type, body.tick_size, body.base_price,
                    ExecutionRule(body.execution), body.half_life_s)
    if any(m.id == market.id for m in service.exchange.markets()):
        raise ApiError(409, "instance_type", f"market {market.id!r} is already listed")
    await run(service, [lambda ts: ListMarket(market, ts)],
              {"market": "instance_type", "market.region": "region"})
    return market_out(service.exchange, market)


async def _capacity(service: Service, body: CapacityIn,
                    make: type[AddCapacity] | type[RemoveCapacity]) -> list[CapacityOut]:
    _known(service, body.account)
    if body.market not in {m.id for m in service.exchange.markets()}:
        raise ApiError(422, "market", f"market {body.market!r} is not listed")
    if service.exchange.account(body.account).role is not Role.PROVIDER:
        raise ApiError(422, "account", f"{body.account!r} is not a provider")
    await run(service, [lambda ts: make(body.account, body.market, body.quantity, ts)])
    return capacity_out(service.exchange, body.account)


@router.post("/capacity", response_model=list[CapacityOut])
async def add_capacity(body: CapacityIn, _: Admin, service: ServiceDep) -> list[CapacityOut]:
    """Add capacity a provider may offer in a market."""
    return await _capacity(service, body, AddCapacity)


@router.post("/capacity/remove", response_model=list[CapacityOut])
async def remove_capacity(body: CapacityIn, _: Admin, service: ServiceDep
                          ) -> list[CapacityOut]:
    """Remove capacity neither allocated nor offered (allocated capacity is never revoked)."""
    return await _capacity(service, body, RemoveCapacity)


@router.get("/state", response_model=StateOut)
async def state(_: Admin, service: ServiceDep) -> StateOut:
    """The journal's last seq, the state hash, and how far the tables have caught up.

    The engine may be one group commit ahead of ``seq`` while commands are in
    flight; at rest the hash is the state after ``seq``.
    """
    projected = await asyncio.to_thread(projected_seq, service.db)
    fault = await asyncio.to_thread(read_fault, service.db)
    running = service.follower.alive
    return StateOut(seq=service.sequencer.journal.last_seq,
                    state_hash=service.exchange.state_hash(),
                    projected_seq=projected,
                    projection_running=running,
                    projection="halted" if service.halted is not None else
                    "running" if running else "restarting",
                    projection_fault=None if fault is None else
                    f"seq {fault.seq}, {fault.count} time(s): {fault.error}",
                    subscribers=service.hub.subscribers)


@router.post("/projection/resume", response_model=StateOut)
async def resume_projection(admin: Admin, service: ServiceDep) -> StateOut:
    """Forget a halted projection's failures and start its follower again (the operator's
    action once the cause is fixed); a running projection is left alone."""
    if service.halted is not None:
        await asyncio.to_thread(clear_fault, service.db)
        service.halted = None
        service.restart_follower()
    return await state(admin, service)
