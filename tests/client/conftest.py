"""One live exchange per module for the client's tests (the service tests' helpers)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ..service.conftest import MARKET, OTHER, Live, fresh_settings, start_live, stop_live

__all__ = ["MARKET", "OTHER", "Live"]


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    """A live service with two markets (ticks 1,000 and 100); tests open their own accounts."""
    running = start_live(fresh_settings(Path(tmp_path_factory.mktemp("client"))))
    try:
        running.market(MARKET, tick=1_000, base=2_000_000)
        running.market(OTHER, tick=100, base=40_000)
        yield running
    finally:
        stop_live(running)
