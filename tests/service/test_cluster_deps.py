"""``serve --nats``'s caller lookup: with ``--db`` the API-key check reads PostgreSQL (the read
side every API process shares), so it does not depend on the process's own projection."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import insert

from auctioneer.exchange.model import Role
from auctioneer.service.cluster_deps import AccountRoles
from auctioneer.service.pgstore import PartitionedStore
from auctioneer.service.store import accounts

from .pg_fixture import postgres_cluster, postgres_url

__all__ = ["postgres_cluster", "postgres_url"]


def _nobody(account: str) -> Role:
    raise LookupError(account)


def test_roles_come_from_postgresql_when_the_projection_has_not_seen_the_account(
        postgres_url: str) -> None:
    store = PartitionedStore.open(postgres_url, 2)
    try:
        with store.partition_db(0).begin() as conn:
            conn.execute(insert(accounts).values(id="alice", role="trader", balance=0,
                                                 opened_ns=1))
        roles = AccountRoles(_nobody, store)
        assert asyncio.run(roles.role("alice")) is Role.TRADER
        assert asyncio.run(roles.role("bob")) is None
        with store.partition_db(0).begin() as conn:  # a role once found is kept
            conn.execute(accounts.delete())
        assert asyncio.run(roles.role("alice")) is Role.TRADER
    finally:
        store.dispose()


def test_an_account_not_in_the_tables_yet_is_found_in_the_projection(
        postgres_url: str) -> None:
    store = PartitionedStore.open(postgres_url, 1)
    try:
        roles = AccountRoles(lambda account: Role.ADMIN, store)
        assert asyncio.run(roles.role("admin")) is Role.ADMIN
    finally:
        store.dispose()


@pytest.mark.parametrize("known", [True, False])
def test_without_a_database_the_projection_decides(known: bool) -> None:
    roles = AccountRoles((lambda account: Role.PROVIDER) if known else _nobody, None)
    assert asyncio.run(roles.role("carol")) is (Role.PROVIDER if known else None)
