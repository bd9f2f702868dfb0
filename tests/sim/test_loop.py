"""The event loop pops events by (time, priority, seq), streams included."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from auctioneer.sim.loop import EventLoop, Priority

events = st.lists(st.tuples(st.integers(0, 50), st.integers(1, 7)), max_size=60)


@given(events)
def test_one_shot_events_pop_by_time_then_priority_then_order(items: list[tuple[int, int]]) -> None:
    loop = EventLoop()
    seen: list[int] = []
    for i, (time, priority) in enumerate(items):
        loop.schedule(time, priority, lambda t, a: seen.append(a), i)
    assert loop.run(until=100) == len(items)
    expected = sorted(range(len(items)), key=lambda i: (items[i][0], items[i][1], i))
    assert seen == expected
    assert loop.now == 100 and len(loop) == 0


@given(st.lists(st.tuples(st.lists(st.integers(0, 40), max_size=8), st.integers(1, 7)),
                max_size=8))
def test_streams_interleave_as_if_every_event_were_scheduled_in_turn(
        streams: list[tuple[list[int], int]]) -> None:
    loop = EventLoop()
    seen: list[tuple[int, int]] = []
    for s, (times, priority) in enumerate(streams):
        loop.stream(sorted(times), priority, lambda t, a: seen.append((t, a)), s)
    loop.run(until=40)
    # Same time and priority: streams registered earlier fire first, and a stream's
    # next event is scheduled only after its previous one ran.
    flat = [(t, streams[s][1], s) for s, (times, _) in enumerate(streams) for t in times]
    assert sorted(seen) == sorted((t, s) for t, _, s in flat)
    keys = [(t, streams[s][1]) for t, s in seen]
    assert keys == sorted(keys)


def test_same_instant_runs_sensor_then_dispatch_then_tick() -> None:
    loop = EventLoop()
    seen: list[str] = []
    loop.every(0, 10, Priority.TICK, lambda t, a: seen.append(f"tick{t}"), until=20)
    loop.every(0, 20, Priority.GPU, lambda t, a: seen.append(f"gpu{t}"), until=20)
    loop.every(10, 10, Priority.SENSOR, lambda t, a: seen.append(f"sensor{t}"), until=20)
    loop.run(until=20)
    assert seen == ["gpu0", "tick0", "sensor10", "tick10", "sensor20", "gpu20", "tick20"]


def test_run_stops_at_until_and_resumes() -> None:
    loop = EventLoop()
    seen: list[int] = []
    loop.every(5, 5, Priority.TICK, lambda t, a: seen.append(t))
    assert loop.run(until=12) == 2 and loop.now == 12
    assert loop.run(until=20) == 2 and seen == [5, 10, 15, 20]
    assert loop.events == 4


def test_a_handler_may_schedule_more_events() -> None:
    loop = EventLoop()
    seen: list[int] = []

    def again(t: int, n: int) -> None:
        seen.append(t)
        if n:
            loop.schedule(t + 3, Priority.JOB, again, n - 1)

    loop.schedule(0, Priority.JOB, again, 3)
    loop.run(until=100)
    assert seen == [0, 3, 6, 9]


def test_the_past_and_bad_periods_are_refused() -> None:
    loop = EventLoop()
    loop.run(until=10)
    with pytest.raises(ValueError, match="before now"):
        loop.schedule(5, Priority.JOB, lambda t, a: None)
    with pytest.raises(ValueError, match="before now"):
        loop.stream([3, 12], Priority.JOB, lambda t, a: None)
    with pytest.raises(ValueError, match="period 0"):
        loop.every(10, 0, Priority.TICK, lambda t, a: None)
    loop.stream([], Priority.JOB, lambda t, a: None)
    assert len(loop) == 0
