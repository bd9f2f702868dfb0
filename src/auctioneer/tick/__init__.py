"""The tick market: pick winners and a Vickrey price at every scheduler tick.

Five bid structures share one API (``update``, ``expire``, ``peek``, ``top``,
``price``, ``select``); the classes here are the native core
(``tick_core.c`` via ``_core``), and :mod:`auctioneer.tick.reference` holds
the pure-Python specification they are tested against. Mechanisms in
:mod:`auctioneer.tick.mechanism` turn any book into winners and payments.

Example:
    >>> from auctioneer.tick import IndexedHeap, second_price
    >>> book = IndexedHeap(capacity=1000)
    >>> book.update(7, 850_000); book.update(42, 910_000); book.update(3, 600_000)
    >>> second_price(book)             # agent 42 wins and pays the runner-up's bid
    Outcome(winners=(42,), payments=(850000,), units=(1,))
"""

from auctioneer.tick._core import IndexedHeap, LazyHeap, SampledTopK, TierBook, TournamentTree
from auctioneer.tick.limits import MAX_CAPACITY, MAX_TIERS, PRICE_MAX, Prices
from auctioneer.tick.mechanism import (
    Book,
    Mechanism,
    Outcome,
    first_price,
    generalized_second_price,
    posted_price,
    proportional_share,
    run,
    second_price,
)
from auctioneer.tick.ring import MpscRing, PricePage, SpscRing
from auctioneer.tick.tiermap import MapKind, TierMap

__all__ = [
    "MAX_CAPACITY",
    "MAX_TIERS",
    "PRICE_MAX",
    "STRUCTURES",
    "Book",
    "IndexedHeap",
    "LazyHeap",
    "MapKind",
    "Mechanism",
    "MpscRing",
    "Outcome",
    "PricePage",
    "Prices",
    "SampledTopK",
    "SpscRing",
    "TierBook",
    "TierMap",
    "TournamentTree",
    "first_price",
    "generalized_second_price",
    "posted_price",
    "proportional_share",
    "run",
    "second_price",
]

STRUCTURES = ("TierBook", "LazyHeap", "TournamentTree", "SampledTopK", "IndexedHeap")
"""Names of the five structures, in ``tick_kind`` order; each exists natively
here and in :mod:`auctioneer.tick.reference`."""
