"""Accounts, money and capacity: the mutable records settlement moves between.

An :class:`Account` holds a ``balance`` and the part of it ``reserved`` by its
open bids (each bid reserves its worst case, limit price x open quantity).
A :class:`Capacity` record is one provider's supply in one market:
``provided`` instances, of which ``allocated`` were sold and ``offered`` sit in
open sell orders; ``allocated + offered <= provided`` always holds, and only
the rest, :attr:`Capacity.free`, may be offered or removed.

Example:
    >>> cap = Capacity(provided=10, allocated=3, offered=4)
    >>> cap.free
    3
"""

from __future__ import annotations

from dataclasses import dataclass

from auctioneer.exchange.model import Role

__all__ = ["Account", "AccountView", "Capacity", "CapacityView"]


class Account:
    """A mutable account record (the engine's own)."""

    __slots__ = ("balance", "id", "reserved", "role")

    def __init__(self, account: str, role: Role, balance: int = 0, reserved: int = 0) -> None:
        self.id = account
        self.role = role
        self.balance = balance
        self.reserved = reserved


class Capacity:
    """A mutable record of one provider's capacity in one market."""

    __slots__ = ("allocated", "offered", "provided")

    def __init__(self, provided: int = 0, allocated: int = 0, offered: int = 0) -> None:
        self.provided = provided
        self.allocated = allocated
        self.offered = offered

    @property
    def free(self) -> int:
        """Instances neither allocated nor offered: what may be offered or removed."""
        return self.provided - self.allocated - self.offered


@dataclass(frozen=True, slots=True)
class AccountView:
    """An account as queries return it: ``available = balance - reserved``."""

    id: str
    role: Role
    balance: int
    reserved: int

    @property
    def available(self) -> int:
        """What new bids may reserve or a withdrawal take."""
        return self.balance - self.reserved


@dataclass(frozen=True, slots=True)
class CapacityView:
    """One provider's capacity in one market as queries return it."""

    market: str
    provided: int
    allocated: int
    offered: int

    @property
    def free(self) -> int:
        """Instances neither allocated nor offered."""
        return self.provided - self.allocated - self.offered
