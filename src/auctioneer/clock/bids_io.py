"""The JSON file of a user's package bids for the proxy round.

Validated here by pydantic, like the market file (:mod:`auctioneer.clock.io`)::

    {"version": 1,
     "bids": [{"user": "alice", "bundle": {"us-east/cpu": 16}, "value": "12.50"}, ...]}

``value`` is money by the house rule (:mod:`auctioneer.money`): a decimal
string of currency units, or an integer of micro-units; a float is refused.
Quantities are JSON integers. Which users, pools and values are acceptable
is the proxy round's business (:class:`~auctioneer.clock.activity.Packages`
and the activity rule); this module only reads the shape, and raises
:class:`BidsFileError` naming the place (``bids[2] 'alice' value``).

Example:
    >>> load_bids({"bids": [{"user": "a", "bundle": {"e/cpu": 1}, "value": "2.5"}]})
    [PackageBid(user='a', bundle={'e/cpu': 1}, value=2500000)]
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import Field

from auctioneer.clock.activity import PackageBid
from auctioneer.jsonfile import FileError, Money, Name, Strict, read_json, validate
from auctioneer.money import MONEY_MAX, parse_money

__all__ = ["BidsFile", "BidsFileError", "load_bids"]


class BidsFileError(FileError):
    """A package-bids file that cannot be read; the message names the place and value."""


class BidSpec(Strict):
    """One package bid: a bundle of pool units and what the user would pay for it."""

    user: Name
    bundle: dict[str, Annotated[int, Field(ge=-MONEY_MAX, le=MONEY_MAX)]]
    value: Money


class BidsFile(Strict):
    """Package bids for the proxy round (auctioneer clock --bids)."""

    version: Literal[1] = 1
    bids: list[BidSpec]


def _label(node: object) -> str | None:
    if isinstance(node, Mapping) and isinstance(node.get("user"), str):
        return str(node["user"])
    return None


def load_bids(source: str | os.PathLike[str] | Mapping[str, Any]) -> list[PackageBid]:
    """The package bids of a file path, JSON text or parsed data."""
    data, name = read_json(source, BidsFileError)
    spec = validate(BidsFile, data, name, BidsFileError, _label, keyed_under=("bundle",))
    return [PackageBid(b.user, dict(b.bundle), parse_money(b.value)) for b in spec.bids]
