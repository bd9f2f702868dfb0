"""The auction file's schema: the pydantic models, the reference validator of the format.

:mod:`auctioneer.clearing.io` reads files through the plain-Python checks of
:mod:`auctioneer.clearing.reader` and falls back to these models for any
file the plain reader does not accept, so every error a user sees is the
one these models give (and a test proves the reader accepts exactly what
they accept). ``docs/clearing.schema.json`` is generated from them:
``python -m auctioneer.clearing.schema > docs/clearing.schema.json``.

Example:
    >>> AuctionFile.model_validate({"resources": [], "bids": []}).model_dump()
    {'version': 1, 'resources': [], 'bids': [], 'min_winners': 0, 'max_winners': None}
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field

from auctioneer.jsonfile import MONEY_PATTERN, Money, Name, Strict

__all__ = [
    "MONEY_PATTERN",
    "AuctionFile",
    "BidSpec",
    "BundleSpec",
    "ResourceSpec",
    "auction_schema",
    "schema_text",
]




_MONEY_HELP = ("A decimal string of currency units, at most six decimal places: '18.25', "
               "'$18.25', '-3', '1,000.50'; never a JSON number.")


class ResourceSpec(Strict):
    """A resource type: a capacity of identical units on offer."""

    model_config = ConfigDict(title="Resource")

    name: Annotated[Name, Field(description="Unique among the resources.")]
    capacity: Annotated[
        int, Field(ge=0, description="Units on offer (the operator's own supply when two-sided).")
    ]
    reserve: Annotated[
        Money, Field(description="Per-unit price floor: a bundle priced below the reserve value "
                     "of the units it buys is never awarded. " + _MONEY_HELP)
    ] = "0"


class BundleSpec(Strict):
    """One alternative of an XOR bid: units per resource for a price."""

    model_config = ConfigDict(title="Bundle")

    quantities: Annotated[
        dict[str, int],
        Field(description="Units per resource name; a resource left out is 0. Negative: sold."),
    ] = {}
    price: Annotated[
        Money, Field(description="What the bidder pays for the bundle (negative: is paid). "
                     + _MONEY_HELP)
    ]


class BidSpec(Strict):
    """An XOR bid: at most one bundle is awarded (exactly one if must_win)."""

    model_config = ConfigDict(title="Bid")

    name: Annotated[Name, Field(description="Unique among the bids.")]
    must_win: Annotated[
        bool, Field(description="The bid must be awarded one of its bundles.")
    ] = False
    bundles: Annotated[
        list[BundleSpec],
        Field(description="The alternatives; the zero bundle (nothing, for nothing) is implicit."),
    ]


class AuctionFile(Strict):
    """A multi-unit combinatorial auction with XOR bids (auctioneer clearing format)."""

    model_config = ConfigDict(title="Auction")

    version: Annotated[
        Literal[1], Field(description="The format version; 1 when left out.")
    ] = 1
    resources: list[ResourceSpec]
    bids: list[BidSpec]
    min_winners: Annotated[
        int, Field(ge=0, description="At least this many bids must win.")
    ] = 0
    max_winners: Annotated[
        int | None, Field(ge=0, description="At most this many bids may win; null: no bound.")
    ] = None


def auction_schema() -> dict[str, Any]:
    """The JSON Schema of the file format (what ``docs/clearing.schema.json`` holds)."""
    schema = AuctionFile.model_json_schema()
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://auctioneer.invalid/schemas/clearing.schema.json",
        **schema,
    }


def schema_text() -> str:
    """:func:`auction_schema` as the committed file spells it (2-space indent, newline)."""
    return json.dumps(auction_schema(), indent=2) + "\n"


if __name__ == "__main__":  # pragma: no cover - regenerates docs/clearing.schema.json
    print(schema_text(), end="")
