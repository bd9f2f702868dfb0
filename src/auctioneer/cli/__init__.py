"""The ``auctioneer`` command line: one module per area, thin over the library.

Commands parse their options and call library functions; nothing here
measures, prices or allocates. :mod:`~auctioneer.cli.app` holds the typer
apps and :func:`main`; each area's module registers its commands on them
when imported. :func:`main` imports only the area a command needs; the
package's ``app`` (and each area module) is loaded on first use, with every
command registered.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from auctioneer.cli.app import AREAS, bench_app, generate_app, load_areas, main

if TYPE_CHECKING:
    from auctioneer.cli import (
        clearing,
        clock,
        cluster,
        exchange,
        incentives,
        kernel,
        ring,
        service,
        sim,
        startup,
        stream,
        thermal,
        tick,
    )
    from auctioneer.cli.app import app
    from auctioneer.cli.clearing import EXIT_NOT_OPTIMAL

# The import above bound the name to the submodule `app`; the package's `app`
# is the typer app with every command, made on first use by __getattr__.
del globals()["app"]

__all__ = [
    "EXIT_NOT_OPTIMAL",
    "app",
    "bench_app",
    "clearing",
    "clock",
    "cluster",
    "exchange",
    "generate_app",
    "incentives",
    "kernel",
    "main",
    "ring",
    "service",
    "sim",
    "startup",
    "stream",
    "thermal",
    "tick",
]


def __getattr__(name: str) -> object:
    if name not in ("app", "EXIT_NOT_OPTIMAL", *AREAS):
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    load_areas()
    root = importlib.import_module("auctioneer.cli.app")
    globals().update(app=root.app, EXIT_NOT_OPTIMAL=importlib.import_module(
        "auctioneer.cli.clearing").EXIT_NOT_OPTIMAL)
    return globals()[name]
