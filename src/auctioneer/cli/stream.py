"""The scale-out commands: ``stream engine``, ``stream publish``, ``stream status``,
``generate stream`` and ``bench stream``.

Thin over :mod:`auctioneer.exchange.scaleout`; docs/scale-out.md shows a
session by hand. Heavy imports (nats, the engine) happen inside the
commands, so importing this module costs the CLI nothing.

Example:
    >>> partition_map("2", "us-east-1=1").of_market("us-east-1/gpu.a100")
    1
"""


from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from auctioneer.cli.app import app, bench_app, generate_app
from auctioneer.cli.options import (
    AssignOption,
    JsonOption,
    bad,
    float_in,
    int_in,
    output_dir_option,
    output_option,
    plot_option,
    write_or_print,
)

if TYPE_CHECKING:
    import asyncio
    from collections.abc import Coroutine, Mapping

    from auctioneer.exchange.scaleout.partition import PartitionMap
    from auctioneer.exchange.scaleout.stream import StreamSpec

__all__ = ["bench_stream", "engine_command", "generate_stream", "partition_map",
           "publish_command", "run_on_nats", "signalled_stop", "status_command", "stream_app"]

_T = TypeVar("_T")

stream_app = typer.Typer(
    help="Scale-out: commands sequenced through NATS JetStream, one engine per partition "
    "(docs/scale-out.md).", no_args_is_help=True, add_completion=False)
app.add_typer(stream_app, name="stream")

NatsOption = Annotated[str, typer.Option("--nats", metavar="URL", help="The NATS server.")]
StreamOption = Annotated[
    str, typer.Option("--stream", metavar="NAME", help="The JetStream stream of commands.")
]
PartitionsOption = Annotated[
    str, typer.Option("--partitions", metavar="INT", help="How many partitions there are.")
]
_DEFAULT_URL = "nats://127.0.0.1:4222"


def partition_map(count: str, assign: str) -> "PartitionMap":
    """The partition map of ``--partitions`` and ``--assign``; BadParameter naming the option."""
    from auctioneer.exchange.scaleout.partition import PartitionMap

    n = int_in(count, "--partitions", 1, 10_000)
    try:
        return PartitionMap.parse(str(n), assign)
    except ValueError as exc:
        raise bad("--assign", str(exc)) from None


def _spec(stream: str) -> "StreamSpec":
    from auctioneer.exchange.scaleout.stream import StreamSpec

    if not stream or not stream.replace("_", "").replace("-", "").isalnum():
        raise bad("--stream", f"{stream!r} must be letters, digits, '_' or '-'")
    return StreamSpec(stream)


def run_on_nats(main: "Coroutine[Any, Any, _T]", url: str,
                refusals: "Mapping[type[Exception], str] | None" = None) -> _T:
    """Run ``main``, which talks to the NATS server(s) at ``url``, to its result. An
    unreachable server is the ``--nats`` error; an exception of a type in ``refusals`` is
    the error of the option it maps to (a usage error, exit 2, naming the option)."""
    import asyncio

    from auctioneer.exchange.scaleout.node import NatsConnectError

    refused = refusals or {}
    try:
        return asyncio.run(main)
    except NatsConnectError as exc:
        raise bad("--nats", f"{url!r}: {exc}") from None
    except tuple(refused) as exc:
        option = next(o for kind, o in refused.items() if isinstance(exc, kind))
        raise bad(option, str(exc)) from None


def signalled_stop() -> "asyncio.Event":
    """An event the running loop sets on SIGINT or SIGTERM: a long-running command's stop."""
    import asyncio
    import signal

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    return stop


@stream_app.command("engine")
def engine_command(
    partition: Annotated[str, typer.Option(metavar="INT", help="The partition to match.")],
    nats_url: NatsOption = _DEFAULT_URL,
    stream: StreamOption = "AUCTIONEER_CMDS",
    checkpoint_dir: Annotated[
        Path | None,
        output_dir_option(metavar="DIR", text="Resume from and write partition-P.json here."),
    ] = None,
    checkpoint_every: Annotated[
        str, typer.Option(metavar="INT", help="Checkpoint after this many commands (0: only "
                          "on a clean stop).")
    ] = "1000",
    idle_exit: Annotated[
        str | None,
        typer.Option(metavar="SECONDS", help="Stop after this long without a command "
                     "(default: run until SIGINT/SIGTERM).", show_default=False),
    ] = None,
) -> None:
    """Run one partition's matching engine: apply its commands in stream order.

    Resumes from the checkpoint in --checkpoint-dir when there is one.
    SIGINT or SIGTERM stops it cleanly (a last checkpoint); SIGKILL is a
    crash, and the next run resumes from the last periodic checkpoint.
    Prints a JSON line on exit: partition, seq, applied, state_hash.
    """
    p = int_in(partition, "--partition", 0, 9_999)
    every = int_in(checkpoint_every, "--checkpoint-every", 0, 10**9)
    idle = None if idle_exit is None else float_in(idle_exit, "--idle-exit", 0.0, 86_400.0,
                                                  low_open=True)
    spec = _spec(stream)

    from auctioneer.exchange.scaleout.checkpoint import CheckpointError
    from auctioneer.exchange.scaleout.node import run_engine

    async def main() -> str:
        status = await run_engine(nats_url, p, spec, checkpoint_dir=checkpoint_dir,
                                  checkpoint_every=every, idle_s=idle, stop=signalled_stop())
        return status.line()

    typer.echo(run_on_nats(main(), nats_url, {CheckpointError: "--checkpoint-dir"}))


@stream_app.command("publish")
def publish_command(
    file: Annotated[
        Path, typer.Argument(metavar="FILE.jsonl", help="One JSON command per line "
                             "(docs/scale-out.md).", dir_okay=False)
    ],
    nats_url: NatsOption = _DEFAULT_URL,
    partitions: PartitionsOption = "1",
    assign: AssignOption = "",
    stream: StreamOption = "AUCTIONEER_CMDS",
) -> None:
    """Publish a file of commands to their partitions, each with its idempotency key.

    The whole file is checked (decoded and routed) before anything is
    published; publishing the same file again publishes nothing new.
    """
    pmap = partition_map(partitions, assign)
    spec = _spec(stream)

    from auctioneer.exchange.scaleout.commandfile import CommandFileError, read_commands
    from auctioneer.exchange.scaleout.node import publish_items
    from auctioneer.exchange.scaleout.partition import Router, RoutingError
    from auctioneer.exchange.scaleout.stream import PartitionMapMismatch

    try:
        items = read_commands(file)
    except (OSError, CommandFileError) as exc:
        raise bad("FILE.jsonl", str(exc)) from None
    dry = Router(pmap)
    for number, item in enumerate(items, 1):
        try:
            dry.route(item.command, item.partition)
        except RoutingError as exc:
            raise bad("FILE.jsonl", f"command {number} ({item.msg_id}): {exc}") from None
    try:
        landed = run_on_nats(publish_items(nats_url, pmap, spec, items), nats_url,
                             {PartitionMapMismatch: "--partitions/--assign"})
    except TimeoutError:
        raise bad("--nats", f"{nats_url!r} did not acknowledge every message in time; "
                   "publishing the file again is safe (duplicates are ignored)") from None
    fresh = sum(not p.duplicate for p in landed)
    last = max((p.seq for p in landed), default=0)
    typer.echo(f"{len(items):,} commands: {fresh:,} messages stored, "
               f"{len(landed) - fresh:,} duplicates ignored; stream at sequence {last:,}")


@stream_app.command("status")
def status_command(
    nats_url: NatsOption = _DEFAULT_URL,
    partitions: PartitionsOption = "1",
    stream: StreamOption = "AUCTIONEER_CMDS",
    checkpoint_dir: Annotated[
        Path | None, typer.Option(metavar="DIR", help="Also show the checkpoints here.",
                                  file_okay=False)
    ] = None,
) -> None:
    """Each partition's newest stream sequence and, with a directory, its checkpoint."""
    count = int_in(partitions, "--partitions", 1, 10_000)
    spec = _spec(stream)

    from auctioneer.exchange.scaleout.checkpoint import CheckpointError, read_checkpoint
    from auctioneer.exchange.scaleout.node import connect
    from auctioneer.exchange.scaleout.stream import ensure_stream, last_sequence

    async def heads() -> list[int]:
        nc = await connect(nats_url)
        try:
            js = nc.jetstream()
            await ensure_stream(js, spec)
            return [await last_sequence(js, p, spec) for p in range(count)]
        finally:
            await nc.close()

    newest = run_on_nats(heads(), nats_url)
    for p, head in enumerate(newest):
        line = f"partition {p}: {spec.subject(p)} newest sequence {head:,}"
        if checkpoint_dir is not None:
            try:
                found = read_checkpoint(checkpoint_dir, p, spec.name)
            except CheckpointError as exc:
                raise bad("--checkpoint-dir", str(exc)) from None
            line += ("; no checkpoint" if found is None else
                     f"; checkpoint at {found.seq:,} ({'behind' if found.seq < head else 'current'}"
                     f", state {found.state_hash[:16]})")
        typer.echo(line)


@generate_app.command("stream")
def generate_stream(
    orders: Annotated[str, typer.Option(metavar="INT", help="Order-flow commands.")] = "1000",
    partitions: PartitionsOption = "2",
    seed: Annotated[str, typer.Option(metavar="INT", help="Generator seed, 0..2**64-1.")] = "0",
    output: Annotated[
        Path | None,
        output_option("--output", "-o", text="Write here instead of stdout."),
    ] = None,
) -> None:
    """Write a seeded command file for ``stream publish``: 4 regions x 2 instance types.

    Deposits name their partition, so the file is for this --partitions with
    the regions dealt round-robin (--assign us-east-1=0,us-west-2=1,...).
    """
    from auctioneer.exchange.scaleout.commandfile import dumps_commands
    from auctioneer.exchange.scaleout.partition import PartitionMap
    from auctioneer.exchange.scaleout.workload import REGIONS, workload

    pmap = PartitionMap.spread(int_in(partitions, "--partitions", 1, 10_000), REGIONS)
    text = dumps_commands(workload(pmap, orders=int_in(orders, "--orders", 0, 10**8),
                                   seed=int_in(seed, "--seed", 0, 2**64 - 1)))
    if write_or_print(text, output):
        assign = ",".join(f"{r}={p}" for r, p in pmap.assignments.items())
        typer.echo(f"wrote {output}; publish with --partitions {pmap.count} --assign {assign}",
                   err=True)


@bench_app.command("stream")
def bench_stream(
    orders: Annotated[
        str | None, typer.Option(metavar="INT", help="Order-flow commands. "
                                 "[default: 20000; --quick: 2000]", show_default=False)
    ] = None,
    partitions: PartitionsOption = "2",
    latency_samples: Annotated[
        str | None, typer.Option(metavar="INT", help="Commands timed one at a time, publish "
                                 "to applied. [default: 2000; --quick: 200]",
                                 show_default=False)
    ] = None,
    nats_url: Annotated[
        str | None, typer.Option("--nats", metavar="URL", help="Use this server "
                                 "(default: start a local nats-server).", show_default=False)
    ] = None,
    seed: Annotated[str, typer.Option(metavar="INT", help="Workload seed.")] = "0",
    quick: Annotated[bool, typer.Option("--quick", help="A smoke run: a few seconds.")] = False,
    json_path: JsonOption = None,
    plot: Annotated[
        Path, plot_option("throughput plot")
    ] = Path("out/bench-stream.png"),
) -> None:
    """Commands per second through JetStream per partition, against the engine in-process.

    Publishes a seeded workload (pipelined, every publish acknowledged),
    replays each partition into a fresh engine and into a second replica
    (same state hash), times single commands from publish to applied, and
    compares with applying the same commands in-process (the baseline).
    """
    import auctioneer.exchange.scaleout.bench as bench
    import auctioneer.exchange.scaleout.bench_report as bench_report
    from auctioneer.measure.benchmark import run_benchmark

    config = bench.StreamBenchConfig.build(
        orders=None if orders is None else int_in(orders, "--orders", 1, 10**7),
        partitions=int_in(partitions, "--partitions", 1, 64),
        latency_samples=None if latency_samples is None
        else int_in(latency_samples, "--latency-samples", 1, 10**6),
        nats_url=nats_url, seed=int_in(seed, "--seed", 0, 2**64 - 1), quick=quick)
    run_benchmark(bench_report.BENCHMARK, config, json_path, plot)
