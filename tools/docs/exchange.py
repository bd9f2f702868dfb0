"""The exchange's and the scale-out's sources and items: docs/exchange.md, docs/scale-out.md.

Part of the one measurement set: ``make docs`` runs these sources with the
design document's and renders both notes from the same run. The plan for
100 partitions in ``docs/scale-out.md`` is arithmetic on the measured CPU
costs (:data:`PLAN_RATE` orders/s), computed here from the JSON.

Example:
    >>> [s.name for s in EXCHANGE_SOURCES]
    ['bench-exchange', 'bench-stream', 'bench-cluster', 'scaleout-costs', 'bench-pg']
    >>> _median_range([{"a": 3.0}, {"a": 1.0}, {"a": 2.0}], "a")
    '2.0 (1.0–3.0)'
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from statistics import median
from typing import Any

from tools.docs.formats import LEFT, TARGET_COLUMNS, when, x
from tools.docs.render import Column, Derived, Figure, Formatter, Source, Table, Value

__all__ = ["EXCHANGE_ITEMS", "EXCHANGE_SOURCES", "HTTP_US", "PLAN_RATE", "plan"]

EXCHANGE_SOURCES = (
    Source("bench-exchange", ("bench", "exchange", "--json", "{json}", "--plot", "{plot}"),
           "bench-exchange.json", "bench-exchange.png",
           "the defaults: 200,000 orders, median of 3 runs, every engine"),
    Source("bench-stream", ("bench", "stream", "--json", "{json}", "--plot", "{plot}"),
           "bench-stream.json", "bench-stream.png",
           "the defaults: 20,000 orders, 2 partitions, a local nats-server"),
    Source("bench-cluster", ("bench", "cluster", "--json", "{json}", "--plot", "{plot}"),
           "bench-cluster.json", "bench-cluster.png",
           "the defaults: 8 closed-loop HTTP clients × 8 s per run, lease TTL 1 s, 10 leader "
           "kills; three nats-server, engines and APIs as real processes"),
    Source("scaleout-costs", ("--orders", "20000", "--runs", "3", "--json", "{json}"),
           "scaleout-costs.json", module="auctioneer.exchange.scaleout.costs",
           note="3 runs, each with its own nats-server; CPU time per command from /proc"),
    Source("bench-pg", ("--json", "{json}", "--plot", "{plot}"), "bench-pg.json",
           "bench-pg.png", module="auctioneer.service.pgbench",
           note="the defaults: 10,000 orders, 2 partitions, median of 3, a throwaway "
           "PostgreSQL cluster"),
)

PARTITIONS = 100
PARTITION_RATE = 10_000
"""The plan: 100 partitions at 10,000 orders/s each on average, 1,000,000 orders/s."""
PLAN_RATE = PARTITIONS * PARTITION_RATE

HTTP_US = 110
"""CPU µs per order of HTTP and validation in an API process: the top of the range
docs/service.md ("CPU per order") read from /proc under `auctioneer load`. That run
is not in this measurement set, so the plan states it as an assumption."""

# The plan's choices (not measurements): how busy machines run, their size, how NATS
# and PostgreSQL are laid out, and AWS's example price (c5.4xlarge, $0.68 an hour for
# 16 vCPUs, from its Auto Scaling guide's "Spot price per unit hour example").
UTILISATION = 0.6
MACHINE_VCPUS = 32
NATS_NODES = 9
PG_PRIMARIES = 10
PG_VCPUS = 16
VCPU_HOUR_USD = 0.68 / 16
HOURS_PER_MONTH = 730

_ENGINES = {
    "auctioneer": "auctioneer, Python engine (validate + match + settle + events; the "
                  "reference)",
    "auctioneer-native-engine": "auctioneer, native engine (`NativeExchange.apply`, "
                                "settles too)",
    "auctioneer-native": "auctioneer, native matching core (matching only)",
    "lightmatchingengine": "lightmatchingengine (pure Python, matching only)",
    "pyorderbook": "pyorderbook (pure Python, matching only)",
    "liquibook": "liquibook (C++)",
}


def _engine(name: Any) -> str:
    return _ENGINES.get(str(name), str(name))


def _us2(value: Any) -> str:
    """Nanoseconds printed in µs: two decimals below 10 µs, then one, then none."""
    micros = float(value) / 1000
    return f"{micros:.2f}" if micros < 10 else f"{micros:.1f}" if micros < 100 else \
        f"{micros:,.0f}"


def _count(value: Any) -> str:
    return "not reported" if int(value) < 0 else f"{int(value):,}"


def _rate(value: Any) -> str:
    return f"{float(value):,.0f}"


def _run(data: Mapping[str, Any], engine: str) -> Mapping[str, Any]:
    return next(r for r in data["runs"] if r["engine"] == engine)


def _versus(engine: str, baseline: str) -> Derived:
    return Derived(f"ex-{engine}-vs-{baseline}", ("bench-exchange",),
                   lambda d: f"{_run(d, engine)['rate'] / _run(d, baseline)['rate']:.2f}×")


def _decoders(data: Mapping[str, Any]) -> str:
    rates = data["decode"]
    hand, fast = rates["json.loads + hand-written"], rates["msgspec"]
    return (f"`json.loads` + hand-written {hand:,.0f} commands/s, msgspec {fast:,.0f} "
            f"commands/s ({fast / hand:.1f}×)")


def _median_range(runs: Sequence[Mapping[str, Any]], key: str, fmt: str = "{:.1f}") -> str:
    values = [float(r[key]) for r in runs]
    return f"{fmt.format(median(values))} ({fmt.format(min(values))}–{fmt.format(max(values))})"


def _costs(data: Mapping[str, Any]) -> dict[str, float]:
    """The median CPU µs per command of every stage, over the runs."""
    keys = ("apply_us", "publish_client_us", "publish_server_us", "replay_client_us",
            "replay_server_us")
    return {k: float(median(float(r[k]) for r in data["runs"])) for k in keys}


def _pg(data: Mapping[str, Any]) -> Mapping[str, Any]:
    """The projection's row at the largest batch (the plan's)."""
    return max(data["rows"], key=lambda r: int(r["batch"]))


def plan(costs: Mapping[str, Any], pg: Mapping[str, Any]) -> dict[str, float]:
    """The plan's figures from the measured costs: CPU µs per order of each component
    (busy cores at :data:`PLAN_RATE` are the same number), machines and price."""
    c, p = _costs(costs), _pg(pg)
    parts = {
        "api": HTTP_US + c["publish_client_us"],
        "nats": 3 * c["publish_server_us"] + c["replay_server_us"],
        "engines": 3 * c["replay_client_us"],
        "projection": float(p["projector_cpu_us"]) + float(p["server_cpu_us"]),
    }
    busy = parts["api"] + parts["engines"] + parts["projection"]
    vcpus = busy * PLAN_RATE / 1e6 / UTILISATION
    machines = math.ceil(vcpus / MACHINE_VCPUS)
    wal = PLAN_RATE * float(p["wal_bytes"]) / 1e6
    total_vcpus = (machines + NATS_NODES) * MACHINE_VCPUS + 2 * PG_PRIMARIES * PG_VCPUS
    hourly = total_vcpus * VCPU_HOUR_USD
    return {**parts, "total": sum(parts.values()), "busy": busy, "vcpus": vcpus,
            "machines": machines, "nats_per_node": parts["nats"] / NATS_NODES,
            "nats_share": parts["nats"] / NATS_NODES / MACHINE_VCPUS, "wal_mb": wal,
            "wal_per_primary": wal / PG_PRIMARIES,
            "all_machines": machines + NATS_NODES + 2 * PG_PRIMARIES,
            "all_vcpus": total_vcpus, "hourly": hourly,
            "monthly": hourly * HOURS_PER_MONTH,
            "headroom": 1e6 / (PARTITION_RATE * c["replay_client_us"])}


def _plan_value(key: str, fmt: str = "{:,.0f}") -> Derived:
    return Derived(f"plan-{key.replace('_', '-')}", ("scaleout-costs", "bench-pg"),
                   lambda costs, pg: fmt.format(plan(costs, pg)[key]))


def _stage(name: str, key: str) -> Derived:
    return Derived(name, ("scaleout-costs",), lambda d: _median_range(d["runs"], key))


def _stage_median(name: str, key: str) -> Derived:
    return Derived(name, ("scaleout-costs",), lambda d: f"{_costs(d)[key]:.1f}")


def _wall(name: str, key: str) -> Derived:
    def span(data: Mapping[str, Any]) -> str:
        values = [float(r[key]) for r in data["runs"]]
        return f"{min(values):,.0f}–{max(values):,.0f}"

    return Derived(name, ("scaleout-costs",), span)


def _values(source: str, prefix: str, rows: Sequence[tuple[str, str, Formatter]]
            ) -> tuple[Value, ...]:
    """One source's inline values, ``{{PREFIX-NAME}}``, from (name, path, format) rows."""
    return tuple(Value(f"{prefix}-{name}", source, path, fmt) for name, path, fmt in rows)


def _served(partitions: int) -> str:
    return f"served[partitions={partitions}]"


def _served_run(data: Mapping[str, Any], partitions: int) -> Mapping[str, Any]:
    return next(s for s in data["served"] if s["partitions"] == partitions)


EXCHANGE_ITEMS: tuple[Table | Figure | Value | Derived, ...] = (
    # -- in-process matching (docs/exchange.md)
    Table("exchange-engines", "bench-exchange", "runs", (
        Column("engine", "engine", _engine, align=LEFT),
        Column("version", "version", align=LEFT),
        Column("orders/s", "rate", _rate),
        Column("p50 µs", "latency.p50", _us2),
        Column("p99 µs", "latency.p99", _us2),
        Column("p99.9 µs", "latency.p999", _us2),
        Column("matched", "volume", _count),
        Column("resting", "resting", _count),
    ), caption="Every engine on the same seeded stream of limit orders (orders/s: median "
       "over the runs; latency per order, perf_counter_ns per call, GC on)"),
    Table("exchange-targets", "bench-exchange", "targets", TARGET_COLUMNS),
    Figure("exchange-plot", "bench-exchange", "Orders/s and latency per order, every engine"),
    *_values("bench-exchange", "ex", (
        ("orders", "config.orders", "{:,}"), ("repeats", "config.repeats", "{:,}"),
        ("date", "environment.date", when), ("cpu", "environment.cpu_model", "{}"),
        ("cores", "environment.cpu_count", "{}"),
        ("volume", "runs[engine=auctioneer].volume", _count),
        ("resting", "runs[engine=auctioneer].resting", _count),
        ("replay-native", "replay_rate", _rate), ("replay-python", "replay_reference", _rate))),
    *(Value(f"ex-{field}-{engine}", "bench-exchange", f"runs[engine={engine}].{path}", fmt)
      for engine in _ENGINES
      for field, path, fmt in (("rate", "rate", _rate), ("p50", "latency.p50", _us2),
                               ("p99", "latency.p99", _us2))),
    *(_versus(engine, "liquibook") for engine in ("auctioneer", "auctioneer-native",
                                                  "auctioneer-native-engine")),
    _versus("auctioneer-native-engine", "auctioneer"),
    Derived("ex-replay-x", ("bench-exchange",),
            lambda d: x.format(d["replay_rate"] / d["replay_reference"])),
    Derived("ex-decoders", ("bench-exchange",), _decoders),
    *(Value(f"ex-mem-{key.replace('_', '-')}", "bench-exchange", f"memory.{key}", "{:,.0f}")
      for key in ("python_order", "python_market", "native_order", "native_level",
                  "engine_order", "engine_market")),
    # -- the stream (docs/scale-out.md, "What was measured")
    Table("stream-partitions", "bench-stream", "partitions", (
        Column("partition", "partition"),
        Column("commands", "commands", "{:,}"),
        Column("in-process baseline (decode + apply) /s", "baseline_per_second", _rate),
        Column("replay from JetStream /s", "replay_per_second", _rate),
        Column("replay / baseline", "",
               lambda r: f"{r['replay_per_second'] / r['baseline_per_second']:.2f}×"),
        Column("second replica /s", "", lambda r: _rate(r["commands"] / r["replica_s"])),
        Column("replicas agree", "replicas_agree", lambda v: "yes" if v else "no"),
        Column("= in-process hash", "matches_baseline", lambda v: "yes" if v else "no"),
    ), caption="Each partition's commands applied in-process, replayed from its subject by "
       "a fresh engine, and by a second replica"),
    Table("stream-targets", "bench-stream", "targets", TARGET_COLUMNS),
    Figure("stream-plot", "bench-stream", "Replay rate per partition and publish latency"),
    *_values("bench-stream", "stream", (
        ("date", "environment.date", when), ("orders", "config.orders", "{:,}"),
        ("partition-count", "config.partitions", "{:,}"),
        ("samples", "config.latency_samples", "{:,}"), ("messages", "publish.messages", "{:,}"),
        ("publish-s", "publish.seconds", "{:.2f}"), ("publish-rate", "publish.per_second", _rate))),
    *(Value(f"stream-{what}-{q}", "bench-stream", f"latency_ns.publish_to_{what}.{q}",
            lambda v: f"{float(v) / 1e6:.2f}")
      for what in ("ack", "applied") for q in ("p50", "p99", "p999")),
    # -- the served cluster (docs/scale-out.md, "Measured: the served path")
    Table("cluster-runs", "bench-cluster", ("baseline", "served"), (
        Column("setup (same clients, same crossing orders)", "label", align=LEFT),
        Column("partitions", "partitions"),
        Column("orders acknowledged", "orders", "{:,}"),
        Column("orders/s", "rate", "{:,.0f}"),
        Column("p50 ms", "latency_ms.p50", "{:.1f}"),
        Column("p99 ms", "latency_ms.p99", "{:.1f}"),
        Column("p99.9 ms", "latency_ms.p999", "{:.1f}"),
        Column("refused", "refused", "{:,}"),
    ), caption="One `auctioneer serve` (journal, fsync on every group commit) against "
       "`serve --nats` ×2 on a three-node cluster, each partition a leader and a replica"),
    Table("cluster-targets", "bench-cluster", "targets", TARGET_COLUMNS),
    Figure("cluster-plot", "bench-cluster", "Served orders/s and latency, and failover times"),
    *_values("bench-cluster", "cluster", (
        ("date", "environment.date", when), ("clients", "config.clients", "{:,}"),
        ("duration", "config.duration_s", "{:g}"), ("ttl", "config.lease_ttl_s", "{:g}"),
        ("failovers", "config.failovers", "{:,}"), ("failover-p50", "failover_s.p50", "{:.2f}"),
        ("failover-p99", "failover_s.p99", "{:.2f}"),
        ("catchup-commands", "catchup.commands", "{:,}"),
        ("catchup-s", "catchup.seconds", "{:.2f}"), ("catchup-rate", "catchup.per_second", _rate))),
    *(Value(f"cluster-rate-{p}", "bench-cluster", f"{_served(p)}.rate", "{:,.0f}")
      for p in (1, 2)),
    *(Derived(f"cluster-x-{p}", ("bench-cluster",), lambda d, p=p: (
        f"{_served_run(d, p)['rate'] / d['baseline']['rate']:.2f}×")) for p in (1, 2)),
    # -- CPU per order of each stage (docs/scale-out.md, the plan)
    *(_stage(f"cost-{key.removesuffix('_us').replace('_', '-')}", key)
      for key in ("apply_us", "publish_client_us", "publish_server_us", "replay_client_us",
                  "replay_server_us")),
    *(_stage_median(f"cost-{key.removesuffix('_us').replace('_', '-')}-median", key)
      for key in ("apply_us", "publish_client_us", "publish_server_us", "replay_client_us")),
    _wall("cost-publish-wall", "publish_per_s"),
    _wall("cost-replay-wall", "replay_per_s"),
    Value("cost-runs", "scaleout-costs", "runs", lambda v: f"{len(v):,}"),
    Value("cost-load-min", "scaleout-costs", "runs",
          lambda v: f"{min(r['load_average'] for r in v):.0f}"),
    Value("cost-load-max", "scaleout-costs", "runs",
          lambda v: f"{max(r['load_average'] for r in v):.0f}"),
    *(Value(f"pg-{key.replace('_', '-')}-{batch}", "bench-pg", f"rows[batch={batch}].{key}", fmt)
      for batch in (1, 100, 1000)
      for key, fmt in (("projector_cpu_us", "{:,.0f}"), ("server_cpu_us", "{:,.0f}"),
                       ("wal_bytes", "{:,.0f}"), ("pg_per_s", "{:,.0f}"),
                       ("sqlite_per_s", "{:,.0f}"), ("pg_vs_sqlite", "{:.2f}×"))),
    Value("pg-orders", "bench-pg", "orders", "{:,}"),
    Value("pg-all", "bench-pg", "all_partitions.pg_per_s", "{:,.0f}"),
    Derived("pg-max-rate", ("bench-pg",),
            lambda d: f"{1e6 / float(_pg(d)['projector_cpu_us']):,.0f}"),
    Derived("plan-http", ("scaleout-costs",), lambda _: f"{HTTP_US:,}"),
    *(_plan_value(key) for key in ("api", "nats", "engines", "projection", "total", "busy",
                                   "vcpus", "machines", "nats_per_node", "wal_mb",
                                   "wal_per_primary", "all_machines", "all_vcpus", "hourly",
                                   "monthly")),
    _plan_value("nats_share", "{:.0%}"),
    _plan_value("headroom", "{:.1f}×"),
)
"""Everything docs/exchange.md and docs/scale-out.md place."""
