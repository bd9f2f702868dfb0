"""Every docstring example in the package runs and says what it shows."""

import doctest
import importlib
import pkgutil

import pytest

import auctioneer

MODULES = sorted(
    info.name
    for info in pkgutil.walk_packages(auctioneer.__path__, "auctioneer.")
    if not info.name.rsplit(".", 1)[-1].startswith("_")
)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
