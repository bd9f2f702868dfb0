"""API fuzzing with schemathesis against the served OpenAPI document: no 5xx, ever.

Every operation but the endless ``/stream`` gets a few generated requests
(valid and invalid), with a provider's key -- or the admin's on ``/admin``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from .conftest import MARKET, Live, fresh_settings, start_live, stop_live

EXAMPLES = 10


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory: pytest.TempPathFactory
           ) -> Iterator[tuple[Live, str, schemathesis.BaseSchema]]:
    live = start_live(fresh_settings(tmp_path_factory.mktemp("fuzz"), rate=1e9,
                                     burst=1_000_000))
    try:
        live.market(MARKET)
        key = live.provider("fuzzer")
        spec = httpx.get(f"{live.url}/openapi.json").json()  # the served document
        yield live, key, schemathesis.openapi.from_dict(spec)
    finally:
        stop_live(live)


def _operations() -> list[str]:
    from auctioneer.service.main import create_app
    from auctioneer.service.settings import Settings

    spec = create_app(Settings(data_dir=Path("unused"))).openapi()
    return [f"{method.upper()} {path}" for path, item in spec["paths"].items()
            for method in item if path != "/stream"]


@pytest.mark.parametrize("label", _operations())
def test_no_server_errors(fuzzed: tuple[Live, str, schemathesis.BaseSchema],
                          label: str) -> None:
    live, key, schema = fuzzed
    [operation] = [r.ok() for r in schema.get_all_operations() if r.ok().label == label]
    headers = {"X-API-Key": live.service.admin_key if "/admin" in label else key}

    strategy = (operation.as_strategy(schemathesis.GenerationMode.POSITIVE)
                | operation.as_strategy(schemathesis.GenerationMode.NEGATIVE))

    @settings(max_examples=EXAMPLES, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(case=strategy)
    def check(case: schemathesis.Case) -> None:
        response = case.call(base_url=live.url, headers=headers, timeout=10)
        assert response.status_code < 500, (case.as_curl_command(), response.text)

    check()
