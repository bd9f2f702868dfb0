"""The FastAPI application: routers, error shape, size limits, dashboard, lifespan.

:func:`create_app` builds an app for one :class:`Settings`; its lifespan
starts the :class:`~auctioneer.service.runtime.Service` (recovery, the
sequencer, the projection, the ticker, and with ``demo`` the demo markets
and trader) and stops it on shutdown. The OpenAPI document is at
``/openapi.json``, the interactive docs at ``/docs`` and ``/redoc`` (their
scripts served from the ``fastapi-offline`` package, so they work with no
network), the dashboard at ``/``.

Every request meets the size limits
(:class:`~auctioneer.service.errors.RequestLimits`) and the orders' fast lane
(:class:`~auctioneer.service.fastlane.OrderLane`) first, in front of
FastAPI's own middleware (its error, telemetry and body-limit layers: about
5 µs a request, timed in process), which the order posts the lane answers
skip; the rest goes on through them to the routes. An exception escaping the
lane is uvicorn's 500, as it was FastAPI's.

Example:
    >>> import tempfile
    >>> from pathlib import Path
    >>> app = create_app(Settings(data_dir=Path(tempfile.mkdtemp())))
    >>> sorted(p for p in app.openapi()["paths"] if p.startswith("/orders"))
    ['/orders', '/orders/batch', '/orders/{oid}']
"""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles
from fastapi_offline import FastAPIOffline

import auctioneer
from auctioneer.service.demo import seed_demo, start_demo_trader
from auctioneer.service.errors import RequestLimits, install_handlers
from auctioneer.service.fastlane import OrderLane
from auctioneer.service.routers import accounts, admin, markets, orders, stream
from auctioneer.service.runtime import Service
from auctioneer.service.settings import Settings

__all__ = ["STATIC", "create_app", "install_dashboard", "quiet_collector"]

STATIC = Path(__file__).parent / "static"
"""The dashboard's files."""


def quiet_collector() -> None:
    """Keep the cyclic garbage collector off what is loaded now, and run it less often.

    A batch of orders allocates thousands of short-lived, acyclic objects; at the default
    thresholds that set off a full collection every few dozen batches, each walking every
    module, SQLAlchemy and FastAPI object loaded: the app driven in process with
    ``auctioneer load``'s batches of 200 took 10.2-10.8 µs of CPU per order, 7.4-8.1 with
    this. What is loaded by now lives as long as the process, so it is frozen out of the
    collector's walks. For the serving process only: frozen objects that later
    become cyclic garbage are never freed.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 10, 10)


def create_app(settings: Settings, lane: bool = True) -> FastAPI:
    """The service's app for ``settings`` (nothing starts until its lifespan runs); without
    ``lane`` the routes answer every order post (the reference the lane is tested against)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        service = Service(settings)
        await service.start()
        app.state.service = service
        if settings.own_process:
            quiet_collector()
        try:
            if settings.demo:
                await seed_demo(service)
            if settings.demo_trader:
                start_demo_trader(service)
            yield
        finally:
            await service.stop()

    app = FastAPIOffline(
        title="auctioneer exchange",
        version=auctioneer.__version__,
        summary="A continuous double auction for compute capacity by region and instance type.",
        description="Money is integer micro-units ($0.000001) per instance-hour; quantities "
        "are instances. Authenticate with `X-API-Key`. Errors are "
        '`{"error", "field", "details"}`.',
        lifespan=lifespan,
        favicon_url="/favicon.ico",
        # The service exports no telemetry; left on, FastAPI asks OpenTelemetry's global
        # providers whether to trace on every request (a few µs each).
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    install_handlers(app)
    # Built now, with the handlers above, so that the limits and the lane can go in front.
    stack = app.build_middleware_stack()
    app.middleware_stack = RequestLimits(OrderLane(stack) if lane else stack,
                                         max_body=settings.max_body, max_head=settings.max_head,
                                         max_headers=settings.max_headers)
    for module in (markets, orders, accounts, admin, stream):
        app.include_router(module.router)
    install_dashboard(app)
    return app


def install_dashboard(app: FastAPI) -> None:
    """Serve the dashboard page, its files and the favicon (also by ``serve --nats``)."""
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/", include_in_schema=False)
    def dashboard() -> FileResponse:
        return FileResponse(STATIC / "index.html")

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> FileResponse:
        return FileResponse(STATIC / "favicon.png", media_type="image/png")
