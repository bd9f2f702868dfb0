"""Helpers shared by the clearing tests (strategies live in ``strategies.py``)."""

from hypothesis import settings

from auctioneer.clearing import Auction, Clearing, Status, check_feasible


def examples(n: int) -> int:
    """``n`` examples under the "ci" profile (150 by default), scaled with the loaded
    profile: HYPOTHESIS_PROFILE=deep runs ten times as many."""
    return max(1, n * settings.default.max_examples // 150)


def price(auction: Auction, clearing: Clearing, bid: int) -> int:
    """The price of the bundle ``clearing`` awards bid ``bid`` (0 for the zero bundle)."""
    j = clearing.choice[bid]
    return 0 if j is None else auction.bids[bid].bundles[j].price


def assert_agrees(auction: Auction, result: Clearing, reference: Clearing) -> None:
    """``result`` is valid and has the reference's status and, when optimal, its revenue."""
    check_feasible(auction, result)
    assert result.status is reference.status, (result, reference)
    if reference.status is Status.OPTIMAL:
        assert result.revenue == reference.revenue, (result, reference)
