"""Why a command is refused: the one table of messages both engines format.

A refusal is a field and a reason. The reason is one of :data:`REASONS`,
picked by a :class:`Why` and formatted with ``str.format`` over the values it
names (``{!r}`` where the reference quotes an id): the Python engine raises
:func:`refused`, and the native engine's C binding decides the same
:class:`Why` (its enum in ``engine_binding.h`` has the same numbers, checked
when the module loads) and formats the same template, so the two
:class:`~auctioneer.exchange.events.Rejected` events are equal byte for byte.

Example:
    >>> REASONS[Why.USED].format("o1")
    "'o1' was already used"
"""

from __future__ import annotations

from enum import IntEnum

__all__ = ["REASONS", "Why"]


class Why(IntEnum):
    """A refusal's reason: its value is the C enum's (``ec_why`` in ``engine_core.h``)."""

    NOT_TEXT = 1
    USED = 2
    NO_ACCOUNT = 3
    ADMIN_TRADES = 4
    NOT_SELLER = 5
    NOT_SIDE = 6
    NOT_MARKETS = 7
    NO_MARKET = 8
    SELL_MARKETS = 9
    MARKET_TWICE = 10
    NOT_INT = 11
    RANGE = 12
    OFF_TICK = 13
    NOT_TIF = 14
    NOT_BOOL = 15
    POST_ONLY_TIF = 16
    POST_ONLY_TRADES = 17
    COST = 18
    NOT_OFFERABLE = 19
    BAD_TS = 20
    NO_SPEND = 21
    SELL_SPEND = 22
    MARKET_TIF = 23
    AVAILABLE = 24
    FOK_SHORT = 25
    NOT_OPEN = 26
    FOREIGN = 27
    NO_CHANGE = 28
    MORE_COST = 29
    MORE_CAPACITY = 30
    MODIFY_TRADES = 31
    MINTED = 32
    NOT_PROVIDER = 33
    PROVIDED = 34
    NOT_FREE = 35
    EXISTS = 36
    NOT_ROLE = 37
    NOT_MARKET = 38
    MARKET_ID = 39
    LISTED = 40
    NOT_EXECUTION = 41
    NOT_SELF_TRADE = 42


REASONS: dict[Why, str] = dict(zip(Why, (
    "{!r} is not a non-empty string",
    "{!r} was already used",
    "{!r} is not an open account",
    "{!r} is an admin account: admins do not trade",
    "{!r} is a {}: only providers sell",
    "{!r} is not buy or sell",
    "{!r} is not a non-empty tuple of market ids",
    "{!r} is not a listed market",
    "a sell offers capacity in exactly one market",
    "{} lists a market twice",
    "{!r} is not an integer",
    "{} must be between 1 and {}",
    "{} is not on the tick of {!r} ({})",
    "{!r} is not gtc, ioc or fok",
    "{!r} is not true or false",
    "a post-only order rests: tif {} cannot be post-only",
    "a post-only order at {} would trade",
    "{} at {} needs {} reserved; {} is available",
    "{} exceeds the {} unallocated, unoffered instances {!r} provides in {!r}",
    "{!r} is not a non-negative 64-bit integer",
    "a market buy gives max_spend, the most it pays in all",
    "{!r}: a market sell takes any price and gives no max_spend",
    "a market order is ioc or fok, not {}",
    "{} exceeds the available {} (balance less reservations)",
    "only {} of {} can fill now{}",
    "{!r} is not an open order",
    "order {!r} belongs to another account",
    "give a new price, a new quantity or both",
    "{} at {} needs {} more reserved; {} is available",
    "{} exceeds the open {} plus the {} free instances",
    "the post-only order at {} would trade",
    "{} would take the money held on the exchange past {}: at most {} more can be deposited",
    "{!r} is a {}, not a provider",
    "{} would take the capacity provided in {!r} past {}",
    "{} exceeds the {} instances neither allocated nor offered: cancel sells first; "
    "allocated capacity is never revoked",
    "{!r} already exists",
    "{!r} is not a role",
    "{!r} is not a Market",
    "market id {!r} is not '<region>/<instance_type>'",
    "{!r} is already listed",
    "{!r} is not an execution rule",
    "{!r} is not a self-trade rule",
), strict=True))
"""The message of each :class:`Why`."""
