"""Clock-proxy auctions for planet-wide capacity: pools, proxies, an ascending price clock.

Resources are *pools* -- one resource type in one cluster. Users name
acceptable bundles (integer units per pool; negative units sell) and a
budget; their *proxies* bid the cheapest acceptable bundle they can afford
at the current prices. Prices start at reserve prices read off each pool's
utilisation (:class:`ReserveCurve`) and rise where demand exceeds supply
(:class:`StepRule`) until no pool is over-demanded -- or the run stops at
a round limit, a price ceiling or a proven cycle among traders, each
reported as such (:class:`Status`). Every proxy is evaluated at once with
numpy; money and quantities are integers throughout.

The model is in :mod:`~auctioneer.clock.model`, the engine in
:mod:`~auctioneer.clock.auction`, the step rule in
:mod:`~auctioneer.clock.step`, seeded markets in
:mod:`~auctioneer.clock.generate`, files in :mod:`~auctioneer.clock.io`,
welfare against the clearing module's optimum in
:mod:`~auctioneer.clock.welfare`, and the plain-Python specification in
:mod:`~auctioneer.clock.reference`. ``docs/clock.md`` explains the design.

Example:
    >>> from auctioneer.clock import Market, Pool, User, run_clock, check_allocation
    >>> pools = (Pool("east", "cpu", capacity=10, used=9, base_price=1_000_000),
    ...          Pool("west", "cpu", capacity=10, used=2, base_price=1_000_000))
    >>> market = Market.from_users(pools, [
    ...     User("a", 9_000_000, ({"east/cpu": 1},)),
    ...     User("b", 5_000_000, ({"east/cpu": 1}, {"west/cpu": 1})),
    ...     User("c", 3_000_000, ({"east/cpu": 1},)),
    ... ])
    >>> result = run_clock(market)
    >>> result.status.value, result.choice.tolist(), result.payments.tolist()
    ('cleared', [0, 1, -1], [3102653, 620000, 0])
    >>> check_allocation(market, result)  # raises InfeasibleAllocation if not feasible
"""

from auctioneer.clock.auction import (
    DEFAULT_MAX_ROUNDS,
    ClockResult,
    Cycle,
    InfeasibleAllocation,
    Status,
    allocation_problems,
    check_allocation,
    price_ceiling,
    run_clock,
)
from auctioneer.clock.generate import RESOURCE_TYPES, ResourceType, generate_market
from auctioneer.clock.io import (
    MarketFileError,
    dump_market,
    dump_result,
    dumps_market,
    load_market,
    loads_market,
)
from auctioneer.clock.model import (
    BPS,
    DEFAULT_CURVE,
    Market,
    Pool,
    ReserveCurve,
    User,
    UserKind,
    reserve_prices,
    utilisation_bps,
)
from auctioneer.clock.step import DEFAULT_RULES, StepMode, StepRule, parse_fraction
from auctioneer.clock.welfare import WelfareComparison, compare_welfare, to_auction, welfare

__all__ = [
    "BPS",
    "DEFAULT_CURVE",
    "DEFAULT_MAX_ROUNDS",
    "DEFAULT_RULES",
    "RESOURCE_TYPES",
    "ClockResult",
    "Cycle",
    "InfeasibleAllocation",
    "Market",
    "MarketFileError",
    "Pool",
    "ReserveCurve",
    "ResourceType",
    "Status",
    "StepMode",
    "StepRule",
    "User",
    "UserKind",
    "WelfareComparison",
    "allocation_problems",
    "check_allocation",
    "compare_welfare",
    "dump_market",
    "dump_result",
    "dumps_market",
    "generate_market",
    "load_market",
    "loads_market",
    "parse_fraction",
    "price_ceiling",
    "reserve_prices",
    "run_clock",
    "to_auction",
    "utilisation_bps",
    "welfare",
]
