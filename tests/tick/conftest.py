"""Fixtures that run every tick test on both implementations of every structure."""

from collections.abc import Callable
from types import ModuleType
from typing import Any

import pytest

from auctioneer.tick import STRUCTURES, _core, reference

IMPLS = {"reference": reference, "native": _core}

Factory = Callable[..., Any]


@pytest.fixture(
    params=[
        pytest.param("reference"),
        pytest.param("native", marks=pytest.mark.native),
    ]
)
def impl(request: pytest.FixtureRequest) -> ModuleType:
    """The module providing the structures: the C core or the Python reference."""
    return IMPLS[request.param]


@pytest.fixture(params=STRUCTURES)
def make(request: pytest.FixtureRequest, impl: ModuleType) -> Factory:
    """A constructor for one structure of one implementation: ``make(capacity, **params)``."""
    cls: Factory = getattr(impl, request.param)
    return cls
