"""Issue 12: every integer field of the HTTP API pushed to 2**63 and 10**30: a 4xx naming
the field (or a 2xx/404 where the value is allowed), never a 5xx.

The fields are read from the served OpenAPI document -- every integer query parameter and
request-body property, a batch's orders' included -- so a new one is covered without
editing this test; each is set in an otherwise valid request.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from auctioneer.service.main import create_app
from auctioneer.service.settings import Settings

from .conftest import MARKET, Live, unique

HUGE = [2**63, 10**30]
ORDER = {"side": "buy", "market": MARKET, "price": 2_000_000, "quantity": 1}
# A valid body per operation that takes one; the field under test replaces its value.
BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("post", "/orders"): ORDER,
    ("post", "/orders/batch"): {"orders": [ORDER]},
    ("patch", "/orders/{oid}"): {"price": 2_000_000},
    ("post", "/admin/accounts"): {"id": "someone", "role": "trader", "deposit": 1},
    ("post", "/admin/accounts/{account}/deposit"): {"amount": 1},
    ("post", "/admin/accounts/{account}/withdraw"): {"amount": 1},
    ("post", "/admin/markets"): {"region": "ints", "instance_type": "gpu", "tick_size": 1,
                                 "base_price": 1},
    ("post", "/admin/capacity"): {"account": "p", "market": MARKET, "quantity": 1},
    ("post", "/admin/capacity/remove"): {"account": "p", "market": MARKET, "quantity": 1},
}


def _is_int(schema: dict[str, Any]) -> bool:
    return schema.get("type") == "integer" or any(
        s.get("type") == "integer" for s in schema.get("anyOf", []))


def _fields() -> list[tuple[str, str, str, str]]:
    """``(method, path, where, field)``: where is ``query``, ``body`` or ``orders[0]``."""
    spec = create_app(Settings(data_dir=Path("unused"))).openapi()
    components = spec["components"]["schemas"]

    def resolve(schema: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in schema:
            schema = components[schema["$ref"].rsplit("/", 1)[-1]]
        return schema

    out = []
    for path, item in spec["paths"].items():
        for method, op in item.items():
            for param in op.get("parameters", []):
                if param["in"] == "query" and _is_int(param.get("schema", {})):
                    out.append((method, path, "query", param["name"]))
            body = op.get("requestBody", {}).get("content", {}).get("application/json")
            if body is None:
                continue
            for name, prop in resolve(body["schema"]).get("properties", {}).items():
                if _is_int(prop):
                    out.append((method, path, "body", name))
                elif prop.get("type") == "array":
                    for inner, sub in resolve(prop["items"]).get("properties", {}).items():
                        if _is_int(sub):
                            out.append((method, path, f"{name}[0]", inner))
    return out


FIELDS = _fields()


@pytest.fixture(scope="module")
def provider_key(market_live: Live) -> str:
    return market_live.provider(unique("ints"))


def test_the_fields_include_the_money_and_quantities() -> None:
    found = {(m, p, f) for m, p, _, f in FIELDS}
    assert {("post", "/orders", "price"), ("post", "/orders", "quantity"),
            ("post", "/orders/batch", "price"), ("post", "/admin/accounts", "deposit"),
            ("get", "/markets/{region}/{instance_type}/book", "depth")} <= found


@pytest.mark.parametrize("value", HUGE, ids=["2**63", "10**30"])
@pytest.mark.parametrize(("method", "path", "where", "field"), FIELDS,
                         ids=[f"{m} {p} {w}.{f}" for m, p, w, f in FIELDS])
def test_a_huge_integer_is_a_4xx_naming_it(market_live: Live, provider_key: str, method: str,
                                           path: str, where: str, field: str,
                                           value: int) -> None:
    live, key = market_live, provider_key
    url = (path.replace("{region}/{instance_type}", MARKET).replace("{oid}", "o1")
           .replace("{account}", "admin"))
    body = dict(BODIES.get((method, path), {}))
    params = {}
    if where == "query":
        params[field] = value
    elif where == "body":
        body[field] = value
    else:
        body["orders"] = [{**ORDER, field: value}]
    with live.client(live.service.admin_key if path.startswith("/admin") else key) as c:
        response = c.request(method.upper(), url, params=params,
                             json=body if (method, path) in BODIES else None)
    assert response.status_code < 500, response.text
    if 400 <= response.status_code < 500 and response.status_code != 404:
        named = response.json()["field"]
        assert named.endswith(field) or named == "orders", (named, field, response.text)
