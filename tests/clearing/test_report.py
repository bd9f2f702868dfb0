"""``auctioneer clear``'s text report: plain into a pipe, rich on a terminal, the same content."""

from __future__ import annotations

import io

from auctioneer.clearing.model import Auction, Bid, Bundle, Resource
from auctioneer.clearing.report import print_clearing
from auctioneer.clearing.solve import clear
from auctioneer.clearing.vcg import vcg_payments

AUCTION = Auction((Resource("rooms", 10), Resource("parking", 20)), (
    Bid("acme", (Bundle((3, 6), 18), Bundle((4, 8), 26))),
    Bid("bolt", (Bundle((6, 6), 30),)),
    Bid("core", (Bundle((2, 10), 14),)),
    Bid("seller", (Bundle((-2, 0), -1),)),
))


RESULT = vcg_payments(AUCTION, clear(AUCTION))


def _report(rich: bool) -> str:
    out = io.StringIO()
    result = RESULT
    print_clearing("f.json", AUCTION, result, "vcg", [result], out=out, rich=rich)
    return out.getvalue()


def test_plain_and_rich_reports_say_the_same() -> None:
    plain, fancy = _report(False), _report(True)
    assert "│" not in plain and "│" in fancy
    words = [w for w in plain.split() if w.strip("─")]
    for word in ("Winners", "acme", "bolt", "status", "optimal", "(VCG)", "budget", "surplus",
                 "1", "best", "allocations"):
        assert word in words, word
    boxed = fancy.replace("│", " ").replace("┃", " ")
    for word in words:
        assert word in boxed, word
