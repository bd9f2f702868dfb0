"""Trading from the dashboard page of a ``serve --nats`` process in headless Chromium (shared
by the served-cluster modules, each on its own cluster)."""

from __future__ import annotations

import os
from pathlib import Path

import httpx
import pytest

from auctioneer.service.servedcluster import Served

from .test_dashboard import ARGS, CHROMIUM, watch_faults

__all__ = ["trade_on_page"]


def trade_on_page(setup: Served, partition: int) -> None:
    """Open a fresh trader with $100 in ``partition``; on the page served by the first API
    process: open its key, place a resting buy (seen among the open orders and in the
    reservation), modify it (a ModifyOrder to its partition) and cancel it; no request of the
    page 404s or fails."""
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (Debian package chromium)")
    base = setup.urls[0]
    trader = f"dash{partition}x{os.getpid()}"

    async def open_trader() -> str:
        admin = {"X-API-Key": setup.admin_key}
        async with httpx.AsyncClient(base_url=base, timeout=20.0, headers=admin) as client:
            made = await client.post("/admin/accounts", json={"id": trader, "role": "trader"})
            assert made.status_code == 201, made.text
            paid = await client.post(f"/admin/accounts/{trader}/deposit?partition={partition}",
                                     json={"amount": 100_000_000})
            assert paid.status_code == 200, paid.text
        return str(made.json()["api_key"])

    key = setup.run(open_trader())
    market = setup.market(partition)
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            faults = watch_faults(page)
            page.goto(base + "/")
            page.wait_for_selector(f'#markets tr[data-market="{market}"]')
            price = page.inner_text(f'#markets tr[data-market="{market}"] td:nth-child(2)')
            assert price.startswith("$"), price  # /markets carries the projection's prices
            page.fill("#api-key", key)
            page.click("#key-form button[type=submit]")
            page.wait_for_selector("#account-body", state="visible")
            assert page.inner_text("#acct-balance") == "$100.00"
            assert page.inner_text("#account-id") == f"{trader} (trader)"

            form = "#order-form"
            page.select_option(f"{form} [name=market]", market)
            page.select_option(f"{form} [name=side]", "buy")
            page.fill(f"{form} [name=price]", "0.05")  # far below the tests' prices: it rests
            page.fill(f"{form} [name=quantity]", "2")
            page.click(f"{form} button[type=submit]")
            page.wait_for_function("document.querySelector('#order-note').textContent"
                                   ".includes('open')")
            page.wait_for_selector("#orders tbody tr", timeout=15_000)
            row = page.locator("#orders tbody tr").first
            assert row.locator("td").nth(3).inner_text() == "$0.05"
            assert row.locator("td").nth(4).inner_text() == "2"
            page.wait_for_function("document.querySelector('#acct-reserved').textContent"
                                   " === '$0.10'", timeout=15_000)

            row.locator("[name=quantity]").fill("1")
            row.locator("button.modify").click()
            page.wait_for_function("document.querySelector('#orders tbody tr td:nth-child(5)')"
                                   "?.textContent === '1'", timeout=15_000)
            row.locator("button.cancel").click()
            page.wait_for_selector("#orders tbody tr", state="detached", timeout=15_000)
            assert "cancelled" in page.inner_text("#order-note")
            assert faults == []
        finally:
            browser.close()
