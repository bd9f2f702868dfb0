"""The native rings and page against the reference: hypothesis state machines.

One program of pushes (valid and invalid), drains of every size, full and
empty rings and many laps around small ones runs on ``ring.c`` over shared
memory and on the reference; every result, exception and length must agree,
and ``check()`` must hold after every step. Two handles on the native ring
(the creator and an attached one) take turns, as two processes would.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from auctioneer.tick import limits, ring, ring_reference

pytestmark = pytest.mark.native

AGENTS = st.one_of(st.integers(0, 7), st.just(limits.AGENT_MAX), st.integers(-2, 2**64 + 1))
PRICES = st.one_of(st.integers(0, 5), st.integers(0, 2**32 - 1), st.just(-1), st.just(2**32))
UNITS = st.one_of(st.integers(0, 3), st.just(limits.UNITS_MAX), st.just(2**32), st.just(1.0))


def _outcome(call: Any, *args: object) -> tuple[str, Any]:
    """What a call did: its result, or its exception's type and message."""
    try:
        return ("ok", call(*args))
    except (ValueError, TypeError) as exc:
        return (type(exc).__name__, str(exc))


class RingMachine(RuleBasedStateMachine):
    """One ring kind, native and reference in lockstep."""

    kind = "SpscRing"

    def __init__(self) -> None:
        super().__init__()
        self.native: list[ring.SpscRing] = []
        self.ref: ring_reference.SpscRing | None = None

    @initialize(capacity=st.sampled_from([2, 4, 8, 16]))
    def create(self, capacity: int) -> None:
        owner = getattr(ring, self.kind).create(capacity)
        self.native = [owner, type(owner).attach(owner.name)]
        self.ref = getattr(ring_reference, self.kind).create(capacity)

    def _both(self, name: str, *args: object, handle: int = 0) -> Any:
        assert self.ref is not None
        got = _outcome(getattr(self.native[handle], name), *args)
        want = _outcome(getattr(self.ref, name), *args)
        assert got == want, f"{name}{args}: native {got}, reference {want}"
        return got

    @rule(agent=AGENTS, price=PRICES, units=UNITS, handle=st.integers(0, 1))
    def push(self, agent: int, price: int, units: int, handle: int) -> None:
        self._both("push", agent, price, units, handle=handle)

    @rule(agent=st.integers(0, 2**64 - 1), price=st.integers(0, 2**32 - 1))
    def push_default_units(self, agent: int, price: int) -> None:
        self._both("push", agent, price)

    @precondition(lambda self: self.ref is not None)
    @rule(count=st.integers(1, 40))
    def fill(self, count: int) -> None:
        """Many pushes in a row: runs into a full ring and laps it."""
        for i in range(count):
            self._both("push", i, i * 1000, 1 + i % 3, handle=i % 2)

    @rule(max=st.one_of(st.none(), st.integers(0, 20), st.just(2**32 - 1), st.just(-1)),
          handle=st.integers(0, 1))
    def drain(self, max: int | None, handle: int) -> None:
        self._both("drain", max, handle=handle)

    @invariant()
    def agree(self) -> None:
        if self.ref is None:
            return
        assert len(self.native[0]) == len(self.native[1]) == len(self.ref)
        self.native[0].check()
        self.ref.check()

    def teardown(self) -> None:
        if self.native:
            self.native[1].close()
            self.native[0].unlink()


class MpscMachine(RingMachine):
    kind = "MpscRing"


class PageMachine(RuleBasedStateMachine):
    """The price page, native and reference in lockstep."""

    def __init__(self) -> None:
        super().__init__()
        self.native = ring.PricePage.create()
        self.reader = ring.PricePage.attach(self.native.name)
        self.ref = ring_reference.PricePage.create()

    @rule(tick=st.integers(-1, 2**64), cpu=PRICES, gpu=PRICES,
          cpu_mult=st.integers(0, 2**32), gpu_mult=st.integers(0, 2**32 - 1))
    def publish(self, tick: int, cpu: int, gpu: int, cpu_mult: int, gpu_mult: int) -> None:
        args = (tick, cpu, gpu, cpu_mult, gpu_mult)
        assert _outcome(self.native.publish, *args) == _outcome(self.ref.publish, *args)

    @rule(tries=st.one_of(st.integers(0, 3), st.just(2**32)))
    def read(self, tries: int) -> None:
        assert _outcome(self.reader.read, tries) == _outcome(self.ref.read, tries)

    @invariant()
    def agree(self) -> None:
        assert self.reader.read() == self.native.read() == self.ref.read()
        assert self.reader.prices() == self.ref.prices()
        assert self.native.seq == self.ref.seq

    def teardown(self) -> None:
        self.reader.close()
        self.native.unlink()
        self.ref.unlink()


# A third of the profile's examples (each is a whole program), so HYPOTHESIS_PROFILE=deep
# still runs ten times as many.
_RINGS = settings(stateful_step_count=50, max_examples=max(settings().max_examples // 3, 10))
_PAGE = settings(_RINGS, stateful_step_count=25)
TestSpscDifferential = RingMachine.TestCase
TestSpscDifferential.settings = _RINGS
TestMpscDifferential = MpscMachine.TestCase
TestMpscDifferential.settings = _RINGS
TestPageDifferential = PageMachine.TestCase
TestPageDifferential.settings = _PAGE
