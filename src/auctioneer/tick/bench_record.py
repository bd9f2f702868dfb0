"""The tick benchmark's JSON record (``auctioneer bench tick --json``), as one pydantic model.

The benchmark writes it (:meth:`~auctioneer.tick.bench_model.TickBenchResult.to_dict`),
the incentive comparison matrix reads it (``--tick-bench``) and the design
document quotes it: all three go through :class:`TickBenchRecord`, so a field
renamed in one place fails in the others at once instead of silently.

The fields a reader relies on (each row's structure, size, memory and tick
latencies) are required; the rest describe the run and may be absent from a
hand-made file, such as an older run's or a test's.

Example:
    >>> row = {"structure": "TierBook", "n": 1000, "bytes_per_agent": 24.0,
    ...        "in_c_ns": {"tick": {"p50": 30.0, "p99": 40.0}},
    ...        "from_python_ns": {"tick": {"p50": 150.0, "p99": 211.0}}}
    >>> TickBenchRecord.parse({"results": [row]}).results[0].in_c_ns.tick.p99
    40.0
    >>> TickBenchRecord.parse({"results": [{**row, "n": 0}]})
    Traceback (most recent call last):
      ...
    ValueError: tick bench JSON: TierBook at n=0: n is 0, not a positive int
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

__all__ = ["Latency", "OpLatencies", "ResultRow", "Speedup", "TickBenchRecord", "TimerRecord"]

class _Record(BaseModel):
    # extra="forbid" catches a misspelt field; strict: no "3" for 3.
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, allow_inf_nan=False)


class Latency(_Record):
    """Latency percentiles of one operation, nanoseconds."""

    p50: float
    p99: float
    p999: float | None = None


class OpLatencies(_Record):
    """One tick (update + select(2)), and update and expire alone."""

    tick: Latency
    update: Latency | None = None
    expire: Latency | None = None
    select: Latency | None = None
    """select(2) alone, after an untimed update (timed in C only)."""


class Speedup(_Record):
    """A ratio of p50s and of p99s."""

    p50: float
    p99: float


class ResultRow(_Record):
    """One book at one size."""

    structure: str
    n: Annotated[int, Field(ge=1)]
    native: bool | None = None
    bytes_per_agent: float
    """The memory figure to quote: the native core block's, else tracemalloc's."""
    core_bytes_per_agent: float | None = None
    traced_bytes_per_agent: float | None = None
    in_c_ns: OpLatencies | None = None
    """Timed inside the extension; None for the pure-Python baselines."""
    from_python_ns: OpLatencies
    speedup_vs_heapq: Speedup | None = None
    python_over_in_c: Speedup | None = None


class TimerRecord(_Record):
    """What the timers cost by themselves: an empty interval."""

    native_hz: int
    native_empty_interval_ns: Latency
    python_empty_perf_counter_pair_ns: Latency


class TickBenchRecord(_Record):
    """A whole run's JSON."""

    benchmark: Literal["auctioneer.bench.tick"] = "auctioneer.bench.tick"
    """The benchmark's stable name (kept from before it moved beside the tick code)."""
    schema_: Literal[1] = Field(1, alias="schema")
    environment: dict[str, Any] | None = None
    config: dict[str, Any] | None = None
    timer: TimerRecord | None = None
    results: list[ResultRow]
    sampled_accuracy: list[dict[str, Any]] | None = None
    adversarial: list[dict[str, Any]] | None = None
    targets: list[dict[str, Any]] | None = None
    elapsed_s: float | None = None

    model_config = ConfigDict(populate_by_name=True)

    def to_json_dict(self) -> dict[str, Any]:
        """The record as JSON-ready builtins, keys as the file spells them."""
        return self.model_dump(by_alias=True)

    @classmethod
    def parse(cls, data: object) -> TickBenchRecord:
        """Validate parsed JSON; ValueError naming the row (structure and size) and the field."""
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            raise ValueError(_describe(exc.errors()[0], data)) from None


def _describe(error: Any, data: object) -> str:
    loc = tuple(error["loc"])
    if loc == ("results",) or not isinstance(data, dict):
        return "tick bench JSON: missing list 'results' (auctioneer bench tick --json)"
    where, path = "(top level)", loc
    if loc[0] == "results" and len(loc) > 1 and isinstance(loc[1], int):
        row = data["results"][loc[1]]
        named = isinstance(row, dict) and "structure" in row and "n" in row
        where = f"{row['structure']} at n={row['n']}" if named else f"results[{loc[1]}]"
        path = loc[2:]
    field = ".".join(str(part) for part in path)
    if error["type"] == "missing":
        return f"tick bench JSON: {where}: missing field {field!r}"
    value = error.get("input")
    if field == "n":
        return f"tick bench JSON: {where}: n is {value!r}, not a positive int"
    return f"tick bench JSON: {where}: {field} is {value!r}: {error['msg'].lower()}"
