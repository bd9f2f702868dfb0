"""The native core against the reference: every operation, every structure.

A hypothesis state machine applies each operation (good and bad) to a native
book and a reference book built alike, and requires the same result or the
same exception with the same message; after every step both pass their
invariant checkers and hold the same bids.
"""

from typing import Any

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from auctioneer.tick import PRICE_MAX, STRUCTURES, TierMap, _core, reference

pytestmark = pytest.mark.native

PRICES = st.one_of(
    st.integers(0, 12),  # dense ties
    st.integers(0, 5_000),
    st.sampled_from([0, 1, PRICE_MAX - 1, PRICE_MAX]),
    st.integers(0, PRICE_MAX),
)
BAD_VALUES = st.sampled_from([-1, PRICE_MAX + 1, 2**64, 1.5, True, "3", None])

TIERMAPS = st.one_of(
    st.none(),
    st.builds(TierMap.linear, width=st.integers(1, 2_000), base=st.integers(0, 300),
              tiers=st.integers(1, 80)),
    st.builds(TierMap.log, sub_bits=st.integers(0, 8), tiers=st.integers(1, 4096)),
)
PARAMS: dict[str, st.SearchStrategy[dict[str, Any]]] = {
    "TierBook": st.fixed_dictionaries({"tiermap": TIERMAPS}),
    "LazyHeap": st.fixed_dictionaries({"depth": st.integers(1, 5),
                                       "threshold": st.integers(0, 40),
                                       "period": st.integers(1, 6)}),
    "TournamentTree": st.fixed_dictionaries({"group": st.integers(1, 7)}),
    "SampledTopK": st.fixed_dictionaries({"samples": st.integers(1, 10),
                                          "seed": st.integers(0, 2**64 - 1)}),
    "IndexedHeap": st.just({}),
}


def outcome(call: Any) -> tuple[str, Any]:
    try:
        return ("ok", call())
    except Exception as exc:  # noqa: BLE001 - the exception itself is compared
        return (type(exc).__name__, str(exc))


class BookComparison(RuleBasedStateMachine):
    structure = ""

    @initialize(capacity=st.integers(1, 24), data=st.data())
    def build(self, capacity: int, data: st.DataObject) -> None:
        params = data.draw(PARAMS[self.structure])
        self.capacity = capacity
        self.native = getattr(_core, self.structure)(capacity, **params)
        self.ref = getattr(reference, self.structure)(capacity, **params)

    def both(self, method: str, *args: Any) -> Any:
        got = outcome(lambda: getattr(self.native, method)(*args))
        want = outcome(lambda: getattr(self.ref, method)(*args))
        assert got == want, f"{method}{args}: native {got} != reference {want}"
        return got

    @rule(agent=st.integers(-1, 30), price=PRICES, units=st.sampled_from([1, 1, 2, PRICE_MAX]))
    def update(self, agent: int, price: int, units: int) -> None:
        self.both("update", agent, price, units)

    @rule(agent=st.integers(0, 30), price=PRICES)
    def update_default_units(self, agent: int, price: int) -> None:
        self.both("update", agent, price)

    @rule(agent=st.integers(-1, 30))
    def expire(self, agent: int) -> None:
        self.both("expire", agent)

    @rule(n=st.integers(0, 26))
    def select(self, n: int) -> None:
        self.both("select", n)

    @rule()
    def peek(self) -> None:
        self.both("peek")

    @rule(k=st.integers(0, 26))
    def top(self, k: int) -> None:
        self.both("top", k)

    @rule(k=st.integers(-1, 26))
    def price(self, k: int) -> None:
        self.both("price", k)

    @rule(agent=st.integers(-1, 30))
    def bid(self, agent: int) -> None:
        self.both("bid", agent)

    @rule(agent=st.integers(-1, 30))
    def contains(self, agent: int) -> None:
        assert (agent in self.native) == (agent in self.ref)

    @rule(roll=st.integers(0, 15))
    def clear(self, roll: int) -> None:
        if roll == 0:  # rarely, so books grow to capacity first
            self.both("clear")

    @rule(agent=st.integers(0, 30), bad=BAD_VALUES,
          field=st.sampled_from(["agent", "price", "units"]))
    def bad_update(self, agent: int, bad: Any, field: str) -> None:
        args: list[Any] = [agent, 100, 1]
        args[["agent", "price", "units"].index(field)] = bad
        before = self.native.items()
        result = self.both("update", *args)
        if result[0] != "ok":
            assert self.native.items() == before

    @rule(bad=BAD_VALUES, method=st.sampled_from(["expire", "select", "top", "price", "bid"]))
    def bad_argument(self, bad: Any, method: str) -> None:
        before = self.native.items()
        result = self.both(method, bad)
        assert result[0] != "ok"
        assert self.native.items() == before

    @invariant()
    def same_bids(self) -> None:
        if not hasattr(self, "native"):
            return
        self.native._check()
        self.ref._check()
        assert len(self.native) == len(self.ref)
        assert self.native.items() == self.ref.items()


for _name in STRUCTURES:
    _machine = type(f"{_name}Comparison", (BookComparison,), {"structure": _name})
    globals()[f"Test{_name}"] = _machine.TestCase
