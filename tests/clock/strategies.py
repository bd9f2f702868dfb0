"""Hypothesis strategies: small clock markets and step rules."""

from fractions import Fraction

from hypothesis import strategies as st

from auctioneer.clock import Market, Pool, StepMode, StepRule, User


@st.composite
def markets(draw: st.DrawFn, *, traders: bool = True, max_users: int = 6,
            fast: bool = False) -> Market:
    """1-4 pools, up to ``max_users`` users of 1-3 bundles of 1-3 entries; pure buyers and
    sellers only unless ``traders``. ``fast``: prices of at least 10 cents."""
    count = draw(st.integers(1, 4))
    low = 100_000 if fast else 1
    pools = []
    for r in range(count):
        capacity = draw(st.integers(0, 12))
        pools.append(Pool(f"c{r}", "cpu", capacity, draw(st.integers(low, 3_000_000)),
                          used=draw(st.integers(0, capacity)),
                          reserve=draw(st.none() | st.integers(low, 3_000_000))))
    users = []
    for u in range(draw(st.integers(1, max_users))):
        side = draw(st.sampled_from((1, -1, 0) if traders else (1, -1)))
        bundles = []
        for _ in range(draw(st.integers(1, 3))):
            chosen = draw(st.lists(st.integers(0, count - 1), min_size=1, max_size=3,
                                   unique=True))
            bundle = {}
            for r in chosen:
                q = draw(st.integers(1, 5))
                bundle[f"c{r}/cpu"] = q * (side if side else draw(st.sampled_from((1, -1))))
            bundles.append(bundle)
        budget = draw(st.integers(0, 40_000_000))
        users.append(User(f"u{u}", budget if side >= 0 else -budget // 4, tuple(bundles)))
    return Market.from_users(pools, users)


@st.composite
def rules(draw: st.DrawFn, *, fast: bool = False) -> StepRule:
    """Any mode with assorted alpha, delta and epsilon; ``fast``: epsilon at least 1%
    (absolute: 10 cents)."""
    mode = draw(st.sampled_from(list(StepMode)))
    alpha = draw(st.fractions(Fraction(1, 100), 4))
    low = Fraction(1, 10) if fast and mode is StepMode.ABSOLUTE else (
        Fraction(1, 100) if fast else Fraction(0))
    delta = draw(st.fractions(max(Fraction(1, 1000), low), Fraction(1, 2)))
    eps = draw(st.fractions(low, max(low, Fraction(1, 1000))))
    if mode is StepMode.ABSOLUTE:
        alpha, delta, eps = alpha * 10**5, delta * 10**6, eps * 10**6
    return StepRule(mode, alpha, delta, min(eps, delta))


@st.composite
def swap_markets(draw: st.DrawFn) -> Market:
    """Where cycles live: 2-3 pools with no free capacity, traders swapping units between
    them at net budgets of a few cents, and one buyer elsewhere who sets a high ceiling."""
    count = draw(st.integers(2, 3))
    pools = [Pool(f"c{r}", "cpu", 0, 1_000_000,
                  reserve=draw(st.integers(1_000_000, 1_050_000))) for r in range(count)]
    pools.append(Pool("far", "cpu", 5, 1_000_000))
    users = [User("buyer", 50_000_000, ({"far/cpu": 1},))]
    for u in range(draw(st.integers(2, 4))):
        bundles = []
        for _ in range(draw(st.integers(1, 2))):
            buy, sell = draw(st.lists(st.integers(0, count - 1), min_size=2, max_size=2,
                                      unique=True))
            q = draw(st.integers(1, 2))
            bundles.append({f"c{buy}/cpu": q, f"c{sell}/cpu": -draw(st.integers(1, 2))})
        users.append(User(f"t{u}", draw(st.integers(-30_000, 30_000)), tuple(bundles)))
    return Market.from_users(pools, users)


@st.composite
def cycle_rules(draw: st.DrawFn) -> StepRule:
    """Absolute or normalised steps of one to five cents, where cycles can be proven."""
    mode = draw(st.sampled_from((StepMode.ABSOLUTE, StepMode.NORMALISED)))
    cents = Fraction(draw(st.integers(1, 5)), 100)
    if mode is StepMode.ABSOLUTE:
        return StepRule(mode, cents * 10**6, cents * 10**6, Fraction(1))
    return StepRule(mode, cents, cents, Fraction(0))
