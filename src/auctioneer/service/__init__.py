"""The exchange as a service: HTTP API, event stream, SQL tables, dashboard, load generator.

A FastAPI app (:func:`create_app`) around one :class:`~auctioneer.exchange.Exchange`:
a single-writer sequencer stamps each request's commands, journals them with
group commit, applies them and answers; a follower process projects the
journal into SQL tables (SQLite or PostgreSQL); the dashboard and the
server-sent-events stream show the markets live. ``docs/service.md`` has the
API, the durability rules and the measured throughput.

Example:
    >>> import tempfile
    >>> from pathlib import Path
    >>> app = create_app(Settings(data_dir=Path(tempfile.mkdtemp())))
    >>> app.title
    'auctioneer exchange'
"""

from auctioneer.service.load import LoadConfig, LoadResult, run_load
from auctioneer.service.main import create_app
from auctioneer.service.runtime import Service
from auctioneer.service.settings import Settings

__all__ = ["LoadConfig", "LoadResult", "Service", "Settings", "create_app", "run_load"]
