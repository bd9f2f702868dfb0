"""caller_of: the caller behind an API key, read from the engine once per account."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from auctioneer.exchange import Rejected
from auctioneer.exchange.commands import OpenAccount
from auctioneer.exchange.model import Role
from auctioneer.service.deps import Caller, caller_of
from auctioneer.service.errors import ApiError
from auctioneer.service.runtime import Service
from auctioneer.service.settings import Settings


def _refused(service: Service, key: str | None) -> str:
    with pytest.raises(ApiError) as caught:
        caller_of(service, key)
    assert caught.value.status == 401
    return caught.value.message


def test_a_caller_is_read_from_the_engine_once_and_is_what_the_engine_says(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The engine's answer is kept per account (a role never changes, no account closes):
    the same caller at every later request without reading the engine; a key of an account
    not yet open is refused and kept nowhere, so the account is found once it opens."""
    async def run() -> None:
        service = Service(Settings(data_dir=tmp_path))
        await service.start()
        try:
            keys = {name: service.keys.key_for(name) for name in ("t", "p", "later")}
            assert _refused(service, keys["later"]) == "account 'later' is not open"
            assert _refused(service, "t.forged") == "invalid API key"
            assert _refused(service, None) == "missing API key"
            await service.sequencer.submit([lambda ts: OpenAccount("t", Role.TRADER, ts),
                                            lambda ts: OpenAccount("p", Role.PROVIDER, ts)])
            # Opening again, as another role, is rejected: the role a caller keeps is still
            # the engine's.
            [(_, events)] = await service.sequencer.submit(
                [lambda ts: OpenAccount("t", Role.ADMIN, ts)])
            assert isinstance(events[0], Rejected)
            first = {name: caller_of(service, keys[name]) for name in ("t", "p")}
            for name, caller in first.items():
                assert caller == Caller(name, service.exchange.account(name).role)
            assert [c.role for c in first.values()] == [Role.TRADER, Role.PROVIDER]
            with monkeypatch.context() as patched:
                patched.setattr(type(service.exchange), "account", _unread)
                for name, caller in first.items():
                    assert caller_of(service, keys[name]) is caller
            await service.sequencer.submit([lambda ts: OpenAccount("later", Role.TRADER, ts)])
            assert caller_of(service, keys["later"]) == Caller("later", Role.TRADER)
        finally:
            await service.stop()

    asyncio.run(run())


def _unread(*_: object) -> None:
    raise AssertionError("the engine was read again for a caller already known")


def test_no_command_closes_an_account_or_changes_its_role() -> None:
    """Service.callers keeps a caller's role for the service's life, which is right only
    while no command can close an account or change its role: a new command type fails
    here until whoever adds it says whether it must drop the account's cached caller."""
    from auctioneer.exchange.commands import COMMAND_TYPES

    assert set(COMMAND_TYPES) == {
        "add_capacity", "cancel_order", "deposit", "list_market", "market_order",
        "modify_order", "open_account", "place_order", "remove_capacity", "tick", "withdraw"}
