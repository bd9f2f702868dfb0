"""One router per resource: accounts, orders, markets, admin, stream."""

from auctioneer.service.routers import accounts, admin, markets, orders, stream

__all__ = ["accounts", "admin", "markets", "orders", "stream"]
