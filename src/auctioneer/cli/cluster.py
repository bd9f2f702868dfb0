"""The served scale-out's processes: ``auctioneer engine`` and ``auctioneer cluster``.

``serve --nats`` (stateless API processes) lives with ``serve`` in
:mod:`auctioneer.cli.service`. docs/scale-out.md shows a session by hand.
Heavy imports happen inside the commands.
"""

import os
import socket
from pathlib import Path
from typing import Annotated

import typer

from auctioneer.cli import options
from auctioneer.cli.app import app, bench_app
from auctioneer.cli.options import (
    AssignOption,
    ClusterPartitionsOption,
    JsonOption,
    output_dir_option,
    plot_option,
)

__all__ = ["ClusterUrlOption", "bench_cluster", "cluster_command", "engine_command"]

ClusterUrlOption = Annotated[
    str, typer.Option("--nats", metavar="URL[,URL...]",
                      help="The NATS cluster's servers (any one answering is enough).")
]
_DEFAULT_URL = "nats://127.0.0.1:4222"


@app.command("engine")
def engine_command(
    partition: Annotated[str, typer.Option(metavar="INT", help="The partition to match.")],
    nats_url: ClusterUrlOption = _DEFAULT_URL,
    node: Annotated[
        str | None, typer.Option(metavar="NAME", help="This engine's name in leases and "
                                 "reports (default HOST-PID).", show_default=False)
    ] = None,
    lease_ttl: Annotated[
        str, typer.Option(metavar="SECONDS", help="The leader's lease: a replica takes over "
                          "this long after the leader stops renewing.")
    ] = "2",
    checkpoint_every: Annotated[
        str, typer.Option(metavar="INT", help="As leader, store a checkpoint every this many "
                          "commands (0: never); engines starting from nothing restore it.")
    ] = "10000",
    trim: Annotated[
        bool, typer.Option("--trim", help="After each checkpoint, trim the event log behind "
                           "the previous one.")
    ] = False,
    partitions: ClusterPartitionsOption = None,
    assign: AssignOption = "",
) -> None:
    """Run one engine of a partition: a warm replica, and the leader while it holds the lease.

    Run two or more per partition; SIGKILL the leader and a replica takes
    over once the lease expires. SIGINT/SIGTERM stops it cleanly (the lease
    is released at once). Prints its last report as a JSON line on exit.
    """
    p = options.int_in(partition, "--partition", 0, 9_999)
    ttl = options.float_in(lease_ttl, "--lease-ttl", 0.2, 3_600.0)
    every = options.int_in(checkpoint_every, "--checkpoint-every", 0, 10**12)
    name = node or f"{socket.gethostname()}-{os.getpid()}"
    if not name.replace("-", "").replace("_", "").isalnum():
        raise options.bad("--node", f"{name!r} must be letters, digits, '-' or '_'")
    pmap = None
    if partitions is not None:
        from auctioneer.cli.stream import partition_map

        pmap = partition_map(partitions, assign)

    from auctioneer.cli.stream import run_on_nats, signalled_stop
    from auctioneer.exchange.scaleout.cluster import replicas_for
    from auctioneer.exchange.scaleout.eventlog import EventSpec
    from auctioneer.exchange.scaleout.leader import ClusterEngine, EngineConfig
    from auctioneer.exchange.scaleout.node import connect
    from auctioneer.exchange.scaleout.stream import PartitionMapMismatch, StreamSpec

    replicas = replicas_for(nats_url)
    config = EngineConfig(p, name, StreamSpec(replicas=replicas), EventSpec(replicas=replicas),
                          lease_ttl_s=ttl, checkpoint_every=every, trim=trim)

    async def main() -> str:
        stop = signalled_stop()
        nc = await connect(nats_url)
        try:
            engine = await ClusterEngine.open(nc.jetstream(), config, pmap)
            if p >= engine.partitions.count:
                raise options.bad("--partition", f"{p} is out of range: the cluster has "
                                  f"{engine.partitions.count} partitions")
            return (await engine.run(stop)).line()
        finally:
            await nc.close()

    typer.echo(run_on_nats(main(), nats_url, {PartitionMapMismatch: "--partitions",
                                              TimeoutError: "--nats"}))


@app.command("cluster")
def cluster_command(
    directory: Annotated[
        Path | None, output_dir_option("--dir", metavar="DIR", show_default=False,
                                       text="Keep the nodes' stores here (default: a temporary "
                                       "directory, deleted on exit).")
    ] = None,
) -> None:
    """Run a three-node NATS JetStream cluster on loopback ports until Ctrl-C.

    Prints the --nats value for ``auctioneer engine`` and ``auctioneer serve``.
    """
    import signal

    from auctioneer.exchange.scaleout.cluster import LocalCluster
    from auctioneer.exchange.scaleout.server import NatsServerError

    try:
        cluster = LocalCluster(root=directory).start()
    except NatsServerError as exc:
        raise options.bad("nats-server", str(exc)) from None
    try:
        typer.echo(f"three nodes, stores under {cluster.root}\n--nats {cluster.url}\n"
                   "Ctrl-C stops them.")
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
        signal.sigwait({signal.SIGINT, signal.SIGTERM})
    finally:
        cluster.stop()


@bench_app.command("cluster")
def bench_cluster(
    clients: Annotated[
        str | None, typer.Option(metavar="INT", help="Closed-loop HTTP clients. "
                                 "[default: 8; --quick: 4]", show_default=False)
    ] = None,
    duration: Annotated[
        str | None, typer.Option(metavar="SECONDS", help="Load per run. "
                                 "[default: 8; --quick: 2]", show_default=False)
    ] = None,
    failovers: Annotated[
        str | None, typer.Option(metavar="INT", help="Leader kills timed. "
                                 "[default: 10; --quick: 3]", show_default=False)
    ] = None,
    partitions: Annotated[
        str, typer.Option(metavar="P[,P...]", help="The partition counts of the served runs.")
    ] = "1,2",
    quick: Annotated[bool, typer.Option("--quick", help="A smoke run.")] = False,
    json_path: JsonOption = None,
    plot: Annotated[Path, plot_option("throughput and failover plot")
                    ] = Path("out/bench-cluster.png"),
) -> None:
    """The served scale-out on this machine: orders/s and latency through `serve --nats`
    with 1 and 2 partitions against one `serve` process, leader failover and replica
    catch-up (a three-node cluster, engines and APIs as real processes)."""
    import auctioneer.service.clusterbench as bench
    import auctioneer.service.clusterbench_report as report
    from auctioneer.measure.benchmark import run_benchmark

    config = bench.ClusterBenchConfig.build(
        clients=None if clients is None else options.int_in(clients, "--clients", 1, 256),
        duration_s=(None if duration is None
                    else options.float_in(duration, "--duration", 0.5, 3600.0)),
        failovers=None if failovers is None else options.int_in(failovers, "--failovers", 1, 1000),
        partitions=tuple(options.int_in(p, "--partitions", 1, 2) for p in partitions.split(",")),
        quick=quick)
    run_benchmark(report.BENCHMARK, config, json_path, plot)
