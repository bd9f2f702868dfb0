"""The engine's bounds on one order, one capacity change and the trade tape.

``PRICE_MAX x QUANTITY_MAX`` does not fit 63 bits: a bid's cost is compared
with the account's available balance (itself at most
:data:`~auctioneer.money.MONEY_MAX`) before it is reserved, so what is
reserved always fits, and a native core computes the cost in 128 bits.

Example:
    >>> (PRICE_MAX * QUANTITY_MAX).bit_length()
    70
"""

from __future__ import annotations

__all__ = ["EXPECT_MAX", "PRICE_MAX", "QUANTITY_MAX", "TRADE_HISTORY"]

QUANTITY_MAX = 1_000_000_000
"""Most instances in one order or capacity change."""
PRICE_MAX = 1_000_000_000_000
"""Highest price, micro-units per instance-hour ($1,000,000)."""
TRADE_HISTORY = 1000
"""Recent trades kept per market for queries."""
EXPECT_MAX = 2**32 - 2
"""Most orders a sizing hint (:meth:`~auctioneer.exchange.Exchange.reserve`) may name: what
the native engine can number."""
