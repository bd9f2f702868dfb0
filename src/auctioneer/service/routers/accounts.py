"""The caller's account: balance and reservations (live), ledger and capacity."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy import select

from auctioneer.exchange.engine import Exchange
from auctioneer.service.deps import CallerDep, ServiceDep
from auctioneer.service.schemas import AccountOut, CapacityOut, LedgerEntry
from auctioneer.service.store import fetch, ledger

__all__ = ["account_out", "capacity_out", "router"]

router = APIRouter(tags=["accounts"])


def account_out(exchange: Exchange, account: str) -> AccountOut:
    """An account's balance, reservation and what is free, from the engine."""
    view = exchange.account(account)
    return AccountOut(id=view.id, role=view.role.value, balance=view.balance,
                      reserved=view.reserved, available=view.balance - view.reserved)


def capacity_out(exchange: Exchange, account: str) -> list[CapacityOut]:
    """What ``account`` provides, per market."""
    return [CapacityOut(account=account, market=c.market, provided=c.provided,
                        allocated=c.allocated, offered=c.offered)
            for c in exchange.capacity(account)]


@router.get("/account", response_model=AccountOut)
async def get_account(caller: CallerDep, service: ServiceDep) -> AccountOut:
    """The caller's balance, what its open bids reserve, and what is available."""
    return account_out(service.exchange, caller.account)


@router.get("/account/capacity", response_model=list[CapacityOut])
async def get_capacity(caller: CallerDep, service: ServiceDep) -> list[CapacityOut]:
    """The capacity the caller provides, per market."""
    return capacity_out(service.exchange, caller.account)


@router.get("/account/ledger", response_model=list[LedgerEntry])
async def get_ledger(caller: CallerDep, service: ServiceDep,
                     limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> list[LedgerEntry]:
    """The caller's latest money movements, newest first (from the tables, which may lag)."""
    query = (select(ledger).where(ledger.c.account == caller.account)
             .order_by(ledger.c.id.desc()).limit(limit))
    rows = await asyncio.to_thread(fetch, service.db, query)
    return [LedgerEntry(seq=r.seq, amount=r.amount, kind=r.kind, ref=r.ref, ts_ns=r.ts_ns)
            for r in rows]
