"""The ``auctioneer`` command line: one module per area, thin over the library.

Commands parse their options and call library functions; nothing here
measures, prices or allocates. :mod:`~auctioneer.cli.app` holds the typer
apps and :func:`main`; each area's module registers its commands on them
when imported below.
"""

from auctioneer.cli import clearing, clock, docs, incentives, ring, service, sim, thermal, tick
from auctioneer.cli import exchange as exchange
from auctioneer.cli import stream as stream
from auctioneer.cli.app import app, bench_app, generate_app, main
from auctioneer.cli.clearing import EXIT_NOT_OPTIMAL

__all__ = [
    "EXIT_NOT_OPTIMAL",
    "app",
    "bench_app",
    "clearing",
    "clock",
    "docs",
    "exchange",
    "generate_app",
    "incentives",
    "main",
    "ring",
    "service",
    "sim",
    "stream",
    "thermal",
    "tick",
]
