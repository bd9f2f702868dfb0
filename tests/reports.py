"""What a benchmark's console report printed, as text the tests can search."""

import io
from collections.abc import Callable
from typing import TypeVar

from rich.console import Console

_R = TypeVar("_R")


def printed(print_report: Callable[[_R, Console], None], result: _R, width: int = 200) -> str:
    """The text ``print_report`` writes for ``result`` on a ``width``-column console."""
    buffer = io.StringIO()
    print_report(result, Console(file=buffer, width=width))
    return buffer.getvalue()
