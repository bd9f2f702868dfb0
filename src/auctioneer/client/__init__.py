"""A typed Python client for the exchange's HTTP API, synchronous and asyncio, on httpx.

:class:`Client` and :class:`AsyncClient` have one method per endpoint --
market data (``markets``, ``market``, ``book``, ``trades``, ``ohlc``,
``prices``), your account and orders (``account``, ``capacity``, ``ledger``,
``place``, ``place_market``, ``place_batch``, ``orders``, ``order``, ``modify``, ``cancel``),
admin (``open_account``, ``deposit``, ``list_market``, ``add_capacity``,
...) -- and ``stream()``, the live events as an iterator. Answers are frozen
dataclasses (:mod:`~auctioneer.client.models`) with money in integer
micro-units, as on the wire; a refusal raises :class:`ApiError` carrying the
field. docs/walkthrough.md trades with it from scratch.

Example:
    >>> from auctioneer.client import Client, ApiError
    >>> Client("http://127.0.0.1:8000")
    Client('http://127.0.0.1:8000')
"""

from auctioneer.client.aio import AsyncClient
from auctioneer.client.errors import ApiError
from auctioneer.client.models import (
    Account,
    AccountKey,
    Book,
    Candle,
    Capacity,
    LedgerEntry,
    Market,
    Order,
    OrderResult,
    OrderSpec,
    PriceTick,
    State,
    Trade,
)
from auctioneer.client.sse import StreamEvent
from auctioneer.client.sync import Client

__all__ = [
    "Account",
    "AccountKey",
    "ApiError",
    "AsyncClient",
    "Book",
    "Candle",
    "Capacity",
    "Client",
    "LedgerEntry",
    "Market",
    "Order",
    "OrderResult",
    "OrderSpec",
    "PriceTick",
    "State",
    "StreamEvent",
    "Trade",
]
