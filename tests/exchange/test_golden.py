"""Golden scenarios: commands, the exact events each must produce, the final books.

Each ``golden/*.yaml`` lists its markets and accounts (traders get money,
providers money and capacity in every market), then steps: a command in the
codec's form (``do``) and the events it must produce (``expect``); at the
end the books (``book``) and, optionally, accounts' balance and reservation.
``EXCHANGE_GOLDEN_UPDATE=1`` rewrites the expectations from the engine --
for new scenarios only, and every rewritten line then needs reading.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import yaml

from auctioneer.exchange import (
    AddCapacity,
    Deposit,
    Exchange,
    ListMarket,
    NativeExchange,
    OpenAccount,
    Role,
    decode_command,
    decode_market,
    encode_event,
)

GOLDEN = Path(__file__).parent / "golden"
FILES = sorted(GOLDEN.glob("*.yaml"))
ENGINES = {"python": Exchange, "native": NativeExchange}  # the reference and the C engine
MONEY = 1_000_000_000
CAPACITY = 100


def setup(ex: Exchange, scenario: dict[str, Any]) -> list[str]:
    markets = []
    for data in scenario["markets"]:
        market = decode_market(data)
        markets.append(market.id)
        assert ex.apply(ListMarket(market))[0].kind == "accepted"
    for name in scenario["accounts"].get("traders", []):
        ex.apply(OpenAccount(name, Role.TRADER))
        ex.apply(Deposit(name, MONEY))
    for name in scenario["accounts"].get("providers", []):
        ex.apply(OpenAccount(name, Role.PROVIDER))
        ex.apply(Deposit(name, MONEY))
        for m in markets:
            ex.apply(AddCapacity(name, m, CAPACITY))
    return markets


def run(scenario: dict[str, Any], engine: type[Exchange] = Exchange
        ) -> tuple[Exchange, list[list[dict[str, Any]]], dict[str, Any]]:
    ex = engine()
    markets = setup(ex, scenario)
    produced = []
    for step in scenario["steps"]:
        events = ex.apply(decode_command(step["do"]))
        produced.append([encode_event(e) for e in events])
        ex.check()
    books = {}
    for m in markets:
        bids, asks = ex.book(m, depth=100)
        books[m] = {"bids": [list(x) for x in bids], "asks": [list(x) for x in asks]}
    return ex, produced, books


@pytest.mark.parametrize("engine", list(ENGINES))
@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_golden(path: Path, engine: str) -> None:
    scenario = yaml.safe_load(path.read_text())
    ex, produced, books = run(scenario, ENGINES[engine])
    if os.environ.get("EXCHANGE_GOLDEN_UPDATE") == "1" and engine == "python":
        for step, events in zip(scenario["steps"], produced, strict=True):
            step["expect"] = events
        scenario["book"] = books
        scenario["accounts_after"] = {
            a.id: {"balance": a.balance, "reserved": a.reserved} for a in ex.accounts()}
        path.write_text(yaml.safe_dump(scenario, sort_keys=False, default_flow_style=None,
                                       width=100))
        pytest.skip("rewrote the expectations")
    for i, (step, events) in enumerate(zip(scenario["steps"], produced, strict=True)):
        assert events == step["expect"], f"step {i}: {step['do']}"
    assert books == scenario["book"]
    for name, want in scenario.get("accounts_after", {}).items():
        got = ex.account(name)
        assert {"balance": got.balance, "reserved": got.reserved} == want, name


def test_there_are_scenarios_for_every_rule() -> None:
    names = {p.stem for p in FILES}
    assert {"price_time_priority", "partial_fills", "level_sweep", "ioc_fok", "all_or_none",
            "post_only", "cancel_after_partial", "self_trade", "cross_market",
            "modify"} <= names
