"""Every docstring example in the package (and in tools/) runs and says what it shows."""

import doctest
import importlib
import pkgutil

import pytest
import tools

import auctioneer

MODULES = sorted(
    info.name
    for package in (auctioneer, tools)
    for info in pkgutil.walk_packages(package.__path__, f"{package.__name__}.")
    if not info.name.rsplit(".", 1)[-1].startswith("_")
)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
