"""The dashboard in headless Chromium: markets with prices, depth, history, trades, live.

Set ``AUCTIONEER_SCREENSHOT=docs/dashboard.png`` to refresh the screenshot in
the docs (otherwise it goes to the test's temporary directory).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from .conftest import fresh_settings, start_live, stop_live

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(),
                                reason=f"no Chromium at {CHROMIUM} (Debian package chromium)")


def watch_faults(page: Any) -> list[str]:
    """The page's script errors, and its requests answered 404 or 5xx, as they happen (401 and
    422 are answers under test; a missing file or route, or a 5xx, is a fault)."""
    faults: list[str] = []
    page.on("pageerror", lambda exc: faults.append(str(exc)))
    page.on("response", lambda r: faults.append(f"{r.status} {r.url}")
            if r.status == 404 or r.status >= 500 else None)
    return faults


def test_dashboard_renders_and_updates_live(tmp_path: Path) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    live = start_live(fresh_settings(tmp_path, demo=True, demo_trader=True))
    try:
        with sync_api.sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 860})
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.goto(live.url + "/")
            page.wait_for_function(
                "document.querySelectorAll('#markets tbody tr').length === 9")
            assert page.inner_text("#markets tbody tr:first-child td:first-child") \
                == "us-east-1/cpu.small"
            page.wait_for_selector("#status.live", timeout=10_000)
            # Live: trades arrive over the stream without reloading the page.
            page.wait_for_function(
                "document.querySelectorAll('#trades tbody tr').length >= 3", timeout=20_000)
            seen = page.inner_text("#trade-count")
            page.wait_for_function(f"document.getElementById('trade-count').textContent "
                                   f"!== {seen!r}", timeout=20_000)
            # Pick the market of the latest trade: its depth and history have something.
            latest = page.inner_text("#trades tbody tr:first-child td:nth-child(2)")
            page.click(f'#markets tr[data-market="{latest}"]')
            page.wait_for_function(f"document.getElementById('depth-market').textContent "
                                   f"=== {latest!r}")
            page.wait_for_selector("#history polyline", state="attached", timeout=10_000)
            page.wait_for_timeout(1_500)  # a few published prices on the history line
            assert page.locator("#depth path").count() >= 1
            assert page.locator("#markets tbody tr td:nth-child(2)").first.inner_text() \
                .startswith("$")
            # The demo trader's account in the panel (its resting bids come and go).
            page.fill("#api-key", live.service.keys.key_for("demo-trader"))
            page.click("#key-form button[type=submit]")
            page.wait_for_selector("#account-body", state="visible")
            assert page.inner_text("#account-id") == "demo-trader (trader)"
            shot = Path(os.environ.get("AUCTIONEER_SCREENSHOT", tmp_path / "dashboard.png"))
            shot.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(shot), full_page=True)
            browser.close()
            assert errors == []
    finally:
        stop_live(live)
