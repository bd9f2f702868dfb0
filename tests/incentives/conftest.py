"""Small configurations the incentive tests share."""

import pytest

from auctioneer.incentives.market import IncentiveConfig


@pytest.fixture(scope="module")
def quick() -> IncentiveConfig:
    """The --quick configuration: a few seeds and values, a second or so."""
    return IncentiveConfig.build(quick=True)
