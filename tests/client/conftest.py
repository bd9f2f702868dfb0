"""One live exchange per module for the client's tests (the service tests' helpers)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ..service.conftest import MARKET, OTHER, Live, two_markets

__all__ = ["MARKET", "OTHER", "Live"]


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    """A live service with two markets (ticks 1,000 and 100); tests open their own accounts."""
    with two_markets(tmp_path_factory.mktemp("client")) as running:
        yield running
