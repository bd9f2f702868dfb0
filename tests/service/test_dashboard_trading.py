"""Trading from the dashboard in headless Chromium: key, place, see it in the book, modify,
cancel, errors beside their fields; axes with units; the favicon; ``/docs`` with no network.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .conftest import MARKET, Live, fresh_settings, start_live, stop_live
from .test_dashboard import ARGS, CHROMIUM, watch_faults

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(),
                                reason=f"no Chromium at {CHROMIUM} (Debian package chromium)")


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    running = start_live(fresh_settings(tmp_path_factory.mktemp("dashboard")))
    try:
        running.market(MARKET, tick=1_000, base=2_000_000)
        yield running
    finally:
        stop_live(running)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as pw:
        launched = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield launched
        launched.close()


def _offline(page: Any, live: Live) -> list[str]:
    """Abort every request that leaves the test server; return the URLs that tried."""
    outside: list[str] = []

    def route(request_route: Any) -> None:
        url = request_route.request.url
        if url.startswith(live.url) or url.startswith("data:"):
            request_route.continue_()
        else:
            outside.append(url)
            request_route.abort()

    page.route("**/*", route)
    return outside


def _book(live: Live) -> dict[str, Any]:
    with live.client() as c:
        return dict(c.get(f"/markets/{MARKET}/book").json())


def test_place_modify_and_cancel_from_the_page(live: Live, browser: Any) -> None:
    key = live.account("page-trader", deposit=100_000_000)
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    faults = watch_faults(page)
    outside = _offline(page, live)
    page.goto(live.url + "/")
    page.wait_for_selector(f'#markets tr[data-market="{MARKET}"]')

    page.fill("#api-key", "not-a-key")
    page.click("#key-form button[type=submit]")
    page.wait_for_function("document.querySelector('#key-form .field-error').textContent"
                           " !== ''")
    assert "invalid API key" in page.inner_text('#key-form [data-field="X-API-Key"]')

    page.fill("#api-key", key)
    page.click("#key-form button[type=submit]")
    page.wait_for_selector("#account-body", state="visible")
    assert page.inner_text("#acct-balance") == "$100.00"
    assert page.inner_text("#account-id") == "page-trader (trader)"

    form = "#order-form"
    page.select_option(f"{form} [name=market]", MARKET)
    page.select_option(f"{form} [name=side]", "buy")
    page.fill(f"{form} [name=price]", "1.9955")  # off the $0.001 tick: the server says so
    page.fill(f"{form} [name=quantity]", "2")
    page.click(f"{form} button[type=submit]")
    page.wait_for_function(f"document.querySelector('{form} [data-field=price]').textContent"
                           " !== ''")
    assert "not on the tick" in page.inner_text(f'{form} [data-field="price"]')
    assert _book(live)["bids"] == []

    page.fill(f"{form} [name=quantity]", "two")  # refused on the page, beside the field
    page.click(f"{form} button[type=submit]")
    assert "whole number" in page.inner_text(f'{form} [data-field="quantity"]')

    page.fill(f"{form} [name=price]", "1.995")
    page.fill(f"{form} [name=quantity]", "2")
    page.click(f"{form} button[type=submit]")
    page.wait_for_selector("#orders tbody tr")
    row = page.locator("#orders tbody tr").first
    assert row.locator("td").nth(3).inner_text() == "$1.995"
    assert _book(live)["bids"] == [[1_995_000, 2]]
    page.wait_for_function(f"document.querySelector('#markets tr[data-market=\"{MARKET}\"] "
                           "td:nth-child(3)').textContent === '$1.995'", timeout=10_000)
    assert page.inner_text("#acct-reserved") == "$3.99"
    assert page.locator("#depth path").count() >= 1
    assert "price, $ per instance-hour" in (page.text_content("#depth") or "")
    assert "instances (cumulative)" in (page.text_content("#depth") or "")

    row.locator("[name=quantity]").fill("1")
    row.locator("button.modify").click()
    page.wait_for_function("document.querySelector('#orders tbody tr td:nth-child(5)')"
                           ".textContent === '1'")
    assert _book(live)["bids"] == [[1_995_000, 1]]

    row.locator("[name=price]").fill("1.9999")
    row.locator("button.modify").click()
    page.wait_for_function("document.querySelector('#orders [data-field=price]').textContent"
                           " !== ''")
    assert "not on the tick" in row.locator('[data-field="price"]').inner_text()

    row.locator("button.cancel").click()
    page.wait_for_selector("#orders tbody tr", state="detached")
    assert "cancelled" in page.inner_text("#order-note")
    assert _book(live)["bids"] == []
    assert page.inner_text("#acct-reserved") == "$0.00"

    page.wait_for_selector("#history polyline", state="attached", timeout=10_000)
    assert "time (UTC)" in (page.text_content("#history") or "")
    assert faults == [] and outside == []
    page.close()


def test_favicon_is_served(live: Live) -> None:
    with live.client() as c:
        icon = c.get("/favicon.ico")
    assert icon.status_code == 200 and icon.headers["content-type"] == "image/png"
    assert icon.content[:4] == b"\x89PNG"


def test_api_docs_render_with_no_network(live: Live, browser: Any) -> None:
    page = browser.new_page()
    outside = _offline(page, live)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(live.url + "/docs")
    page.wait_for_selector(".swagger-ui .information-container .title", timeout=20_000)
    assert "auctioneer exchange" in page.inner_text(".swagger-ui .information-container .title")
    page.wait_for_selector(".opblock-summary-path")
    paths = page.locator(".opblock-summary-path").all_inner_texts()
    assert "/orders" in [p.strip() for p in paths]
    assert outside == [] and errors == []
    page.close()
