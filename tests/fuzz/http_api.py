"""The HTTP API under schemathesis in stateful mode: sequences of calls, never a 5xx.

A live service (uvicorn with the parser it picks in production, a fresh data directory, a
market, a provider and a trader) is driven by schemathesis' state machine built from the
served OpenAPI document, with links inferred between operations (an order placed, then
fetched, modified, cancelled), and every operation on its own with valid and invalid
requests. Each call goes with the admin's key on ``/admin``, else the
provider's, the trader's, a forged key or none. Every answer must be below 500, and every
4xx the service's error shape naming a field. ``run(seconds)`` repeats scenarios until the
budget is spent; ``test_smoke.py`` runs a few.
"""

from __future__ import annotations

import random
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

import httpx
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import FlakyStrategyDefinition
from hypothesis.stateful import run_state_machine_as_test

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "service"))
from auctioneer.service.protocols import default_parser  # noqa: E402
from conftest import MARKET, Live, fresh_settings, start_live, stop_live  # noqa: E402


def _schema(live: Live) -> Any:
    spec = httpx.get(f"{live.url}/openapi.json").json()
    return schemathesis.openapi.from_dict(spec).exclude(path="/stream")


def _call_kwargs(live: Live, keys: list[str | None], rng: random.Random, case: Any
                 ) -> dict[str, Any]:
    key = live.service.admin_key if case.path.startswith("/admin") and rng.random() < 0.9 \
        else rng.choice(keys)
    headers = {"X-API-Key": key} if key is not None else {}
    return {"base_url": live.url, "headers": headers, "timeout": 30}


FOUND: list[str] = []
"""Every failed check, recorded as it happens: hypothesis may replay a stateful scenario
differently (the server's state moved on) and report that instead of the failure."""


def _check(response: Any, case: Any) -> None:
    status = response.status_code
    problem = None
    if status >= 500:
        problem = f"{status}: {response.text[:500]}"
    elif status >= 400:
        body = response.json()
        if not {"error", "field", "details"} <= set(body):
            problem = f"{status} without the error shape: {body}"
    if problem is not None:
        FOUND.append(f"{case.as_curl_command()}\n  -> {problem}")
        raise AssertionError(FOUND[-1])


def _machine(live: Live, keys: list[str | None], rng: random.Random) -> type:
    class Workflow(_schema(live).as_state_machine()):  # type: ignore[misc]
        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            return _call_kwargs(live, keys, rng, case)

        def validate_response(self, response: Any, case: Any, **kwargs: Any) -> None:
            _check(response, case)

    return Workflow


def _operations(live: Live, keys: list[str | None], rng: random.Random,
                examples: int) -> None:
    """Every operation on its own too, valid and invalid requests: the state machine starts
    only from operations its inferred links reach."""
    for result in _schema(live).get_all_operations():
        operation = result.ok()
        strategy = (operation.as_strategy(schemathesis.GenerationMode.POSITIVE)
                    | operation.as_strategy(schemathesis.GenerationMode.NEGATIVE))

        @settings(max_examples=examples, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        @given(case=strategy)
        def check(case: Any) -> None:
            _check(case.call(**_call_kwargs(live, keys, rng, case)), case)

        check()


def run(seconds: float, scenarios: int = 25) -> int:
    """Drive a fresh service with scenarios of ``scenarios`` examples until ``seconds``
    have passed; 1 (and the failing call) on a finding."""
    with tempfile.TemporaryDirectory(prefix="fuzz-http-") as tmp:
        live = start_live(fresh_settings(Path(tmp), rate=1e9, burst=1_000_000),
                          default_parser())
        try:
            live.market(MARKET)
            keys = [live.provider("fuzz-provider"), live.account("fuzz-trader"),
                    "fuzz-trader.forged", "admin.\xe9", None]
            rng = random.Random(int(time.time()))
            machine = _machine(live, keys, rng)
            deadline, rounds = time.monotonic() + seconds, 0
            replays = 0
            while time.monotonic() < deadline:
                try:
                    run_state_machine_as_test(machine, settings=settings(
                        max_examples=scenarios, stateful_step_count=8, deadline=None,
                        database=None, suppress_health_check=list(HealthCheck),
                        phases=[Phase.generate]))
                    _operations(live, keys, rng, max(1, scenarios // 5))
                except FlakyStrategyDefinition:
                    # Schemathesis draws from earlier responses, which a live server does
                    # not repeat: hypothesis' replay of a scenario can diverge. Not a finding
                    # unless a check failed (FOUND); start the next round.
                    replays += 1
                except Exception:  # a failed check, or the server gone: both findings
                    traceback.print_exc()
                    FOUND.append("the round raised")
                if FOUND:
                    print("\n".join(FOUND))
                    print(f"FINDING in http_api after {rounds} rounds")
                    return 1
                rounds += 1
            print(f"http_api: {rounds} rounds of {scenarios} scenarios in {seconds:g} s "
                  f"({replays} ended early by a diverging replay), no finding")
            return 0
        finally:
            stop_live(live)
