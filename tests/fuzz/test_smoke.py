"""Each fuzz target briefly (20 examples), so ``make test`` keeps them working; ``make fuzz``
runs them for long."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from targets import TARGETS  # noqa: E402


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_fuzz_target_smoke(name: str) -> None:
    TARGETS[name]()


def test_http_api_smoke() -> None:
    from http_api import run

    assert run(seconds=2, scenarios=3) == 0
