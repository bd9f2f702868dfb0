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

Example: two free GPUs and three users, each with one acceptable bundle. The
price rises until demand fits: at 3,136,084 micro-units a's two units
cost more than its budget and c's budget is below the price, so b alone buys.
(A user with a choice of bundles is in :func:`~auctioneer.clock.auction.run_clock`'s example.)

    >>> from auctioneer.clock import Market, Pool, User, run_clock, check_allocation
    >>> east = Pool("east", "gpu", capacity=4, used=2, base_price=1_000_000)
    >>> wants = {"a": (6_000_000, 2), "b": (4_000_000, 1), "c": (2_500_000, 1)}
    >>> users = [User(n, budget, ({"east/gpu": units},)) for n, (budget, units) in wants.items()]
    >>> market = Market.from_users((east,), users)
    >>> result = run_clock(market)
    >>> result.status.value, result.choice.tolist(), result.payments.tolist()
    ('cleared', [-1, 0, -1], [0, 3136084, 0])
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
