"""Public market data: markets with prices, book depth, trades, OHLC bars.

No key needed. A market is addressed as ``/markets/{region}/{instance_type}``
(its id is ``region/instance_type``).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from auctioneer.exchange.engine import Exchange
from auctioneer.exchange.events import Traded
from auctioneer.exchange.model import Market
from auctioneer.service.deps import ServiceDep
from auctioneer.service.errors import ApiError
from auctioneer.service.schemas import BookOut, Candle, MarketOut, TradeOut

__all__ = ["BarSeconds", "Limit", "candles", "market_out", "router", "trade_out"]

router = APIRouter(tags=["markets"])

Limit = Annotated[int, Query(ge=1, le=1000, description="most items returned")]
BarSeconds = Annotated[int, Query(ge=1, le=86_400, description="bar seconds")]


def market_out(exchange: Exchange, market: Market) -> MarketOut:
    """A market with its price and best bid and ask."""
    bids, asks = exchange.book(market.id, 1)
    return MarketOut(id=market.id, region=market.region, instance_type=market.instance_type,
                     tick_size=market.tick_size, base_price=market.base_price,
                     execution=market.execution.value, half_life_s=market.half_life_s,
                     price=exchange.price(market.id),
                     best_bid=bids[0][0] if bids else None,
                     best_ask=asks[0][0] if asks else None)


def trade_out(trade: Traded) -> TradeOut:
    """A trade as the public sees it (no accounts)."""
    return TradeOut(id=str(trade.trade_id), market=trade.market, price=trade.price,
                    quantity=trade.quantity, aggressor=trade.aggressor.value,
                    ts_ns=trade.ts_ns)


def candles(exchange: Exchange, market_id: str, interval: int, limit: int) -> list[Candle]:
    """``market_id``'s OHLC bars of ``interval`` seconds, oldest first (seconds with trades)."""
    return [Candle(ts_ns=start * 1_000_000_000, open=o, high=h, low=lo, close=cl, volume=v)
            for start, o, h, lo, cl, v in exchange.ohlc(market_id, interval, limit)]


def _market(exchange: Exchange, region: str, instance_type: str) -> Market:
    market_id = f"{region}/{instance_type}"
    try:
        return exchange.market(market_id)
    except LookupError:
        raise ApiError(404, "market", f"market {market_id!r} is not listed") from None


@router.get("/markets", response_model=list[MarketOut])
async def list_markets(service: ServiceDep) -> list[MarketOut]:
    """Every listed market with its current price and best bid and ask."""
    exchange = service.exchange
    return [market_out(exchange, m) for m in exchange.markets()]


@router.get("/markets/{region}/{instance_type}", response_model=MarketOut)
async def get_market(region: str, instance_type: str, service: ServiceDep) -> MarketOut:
    """One market."""
    exchange = service.exchange
    return market_out(exchange, _market(exchange, region, instance_type))


@router.get("/markets/{region}/{instance_type}/book", response_model=BookOut)
async def get_book(region: str, instance_type: str, service: ServiceDep,
             depth: Annotated[int, Query(ge=1, le=500)] = 10) -> BookOut:
    """The best ``depth`` levels each side: ``[price, quantity]``, best first."""
    exchange = service.exchange
    market = _market(exchange, region, instance_type)
    bids, asks = exchange.book(market.id, depth)
    return BookOut(market=market.id, bids=tuple((p, q) for p, q, _ in bids),
                   asks=tuple((p, q) for p, q, _ in asks))


@router.get("/markets/{region}/{instance_type}/trades", response_model=list[TradeOut])
async def get_trades(region: str, instance_type: str, service: ServiceDep,
               limit: Limit = 50) -> list[TradeOut]:
    """The market's most recent trades, newest first."""
    exchange = service.exchange
    market = _market(exchange, region, instance_type)
    return [trade_out(t) for t in reversed(exchange.trades(market.id, limit))]


@router.get("/markets/{region}/{instance_type}/ohlc", response_model=list[Candle])
async def get_ohlc(region: str, instance_type: str, service: ServiceDep,
             interval: BarSeconds = 60, limit: Limit = 100) -> list[Candle]:
    """OHLC bars of ``interval`` seconds, oldest first (seconds with trades only)."""
    exchange = service.exchange
    return candles(exchange, _market(exchange, region, instance_type).id, interval, limit)


@router.get("/prices", response_model=dict[str, int])
async def get_prices(service: ServiceDep) -> dict[str, int]:
    """Each market's current price (micro-units per instance-hour)."""
    exchange = service.exchange
    return {m.id: exchange.price(m.id) for m in exchange.markets()}


@router.get("/trades", response_model=list[TradeOut])
async def recent_trades(service: ServiceDep, limit: Limit = 50) -> list[TradeOut]:
    """The most recent trades in every market, newest first."""
    exchange = service.exchange
    recent = [t for m in exchange.markets() for t in exchange.trades(m.id, limit)]
    recent.sort(key=lambda t: (t.ts_ns, t.trade_id), reverse=True)
    return [trade_out(t) for t in recent[:limit]]
