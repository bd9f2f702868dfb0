"""auctioneer: price and allocate compute with auctions, at every time scale.

Areas: ``auctioneer.tick`` (per-scheduler-tick Vickrey markets in native
code), and the shared ``auctioneer.money`` (integer micro-units).
"""

__all__ = ["__version__"]

__version__ = "0.1.0"
