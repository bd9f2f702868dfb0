"""One ``with`` protocol for the exchange's file-backed resources: the block ends in ``close``.

The journal, its reader and the durable exchange hold open files; each says
only how it closes, and this base gives them the same ``with`` behaviour.

Example:
    >>> class Door(Closing):
    ...     def close(self) -> None:
    ...         print("closed")
    >>> with Door() as door:
    ...     isinstance(door, Door)
    True
    closed
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from types import TracebackType
from typing import Self

__all__ = ["Closing"]


class Closing(ABC):
    """A resource a ``with`` block closes on the way out, error or not."""

    __slots__ = ()

    @abstractmethod
    def close(self) -> None:
        """Release what the resource holds."""

    def __enter__(self) -> Self:
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()
