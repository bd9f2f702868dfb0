"""The exchange service's command line: ``auctioneer serve`` and ``auctioneer load``.

``serve`` runs the HTTP service (uvicorn, with uvloop and httptools when
installed) and prints the dashboard's address; ``load`` drives a running
service -- or, without ``--url``, one it starts in a child process on a free
port with a fresh data directory -- with many concurrent clients and prints
throughput and latency percentiles.

Heavy imports happen inside the commands, so importing this module costs the
CLI nothing.

Example:
    >>> parse_fsync("batch")
    <FsyncPolicy.BATCH: 'batch'>
"""


import importlib.util
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Annotated

import typer

from auctioneer.cli.app import app
from auctioneer.cli.options import (
    AssignOption,
    ClusterPartitionsOption,
    JsonOption,
    bad,
    float_in,
    int_in,
    one_of,
    output_dir_option,
    parsed,
)

if TYPE_CHECKING:
    from auctioneer.exchange.journal import FsyncPolicy
    from auctioneer.service.load import LoadResult
    from auctioneer.service.settings import ClusterSettings

__all__ = ["load_command", "parse_fsync", "serve_command"]

_FSYNC = ("always", "batch", "never")


def parse_fsync(text: str, option: str = "--fsync") -> "FsyncPolicy":
    """The journal fsync policy named ``text``."""
    from auctioneer.exchange.journal import FsyncPolicy

    return FsyncPolicy(one_of(text, option, _FSYNC))


def _installed(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


@app.command("serve")
def serve_command(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[str, typer.Option(metavar="INT", help="Port to listen on.")] = "8000",
    db: Annotated[
        str | None,
        typer.Option(help="SQLAlchemy URL of the query tables, e.g. "
                     "postgresql://user@host/db. [default: sqlite in --data-dir]. With "
                     "--nats: the PostgreSQL read side every API process projects into.",
                     show_default=False),
    ] = None,
    data_dir: Annotated[
        Path, output_dir_option(text="Journal, snapshots, secret and SQLite file.")
    ] = Path("out/exchange"),
    demo: Annotated[
        bool, typer.Option("--demo/--no-demo", help="Seed demo markets, providers and asks.")
    ] = False,
    demo_trader: Annotated[
        bool, typer.Option("--demo-trader", help="Run a random trader so prices move.")
    ] = False,
    fsync: Annotated[
        str, typer.Option(help="Journal fsync: always (each group commit), batch, never.")
    ] = "always",
    rate: Annotated[
        str, typer.Option(metavar="NUM", help="Each account's orders per second.")
    ] = "5000",
    burst: Annotated[
        str, typer.Option(metavar="INT", help="Each account's burst of orders.")
    ] = "10000",
    snapshot_every: Annotated[
        str, typer.Option(metavar="INT", help="Snapshot after this many journaled commands.")
    ] = "100000",
    keep_journal: Annotated[
        bool, typer.Option("--keep-journal", help="Never prune the journal (the tables can "
                           "then be rebuilt from nothing).")
    ] = False,
    log_level: Annotated[
        str, typer.Option(help="uvicorn's log level: critical, error, warning, info.")
    ] = "warning",
    nats_url: Annotated[
        str | None, typer.Option("--nats", metavar="URL[,URL...]",
                                 help="Serve as a stateless API process of this NATS "
                                 "cluster's partition engines (docs/scale-out.md).",
                                 show_default=False)
    ] = None,
    partitions: ClusterPartitionsOption = None,
    assign: AssignOption = "",
    apply_timeout: Annotated[
        str, typer.Option(metavar="SECONDS", help="With --nats: answer 503 when the "
                          "partition's leader has not applied a command within this long.")
    ] = "10",
) -> None:
    """Serve the exchange over HTTP: the API, the event stream and the dashboard.

    With --nats, a stateless API process instead: commands go to the
    cluster's command stream and are answered from the partition leaders'
    event log (no journal, no dashboard; only the key secret in --data-dir,
    shared by every API process of the cluster).
    """
    import uvicorn

    from auctioneer.service.main import create_app
    from auctioneer.service.protocols import default_parser, server_config
    from auctioneer.service.settings import Settings
    from auctioneer.service.store import check_database

    port_number = int_in(port, "--port", 0, 65535)
    if nats_url is not None:
        _serve_cluster(nats_url, host, port_number, data_dir, partitions, assign, db,
                       float_in(apply_timeout, "--apply-timeout", 0.0, 3600.0, low_open=True),
                       one_of(log_level, "--log-level", ("critical", "error", "warning",
                                                         "info")),
                       (float_in(rate, "--rate", 0.0, low_open=True),
                        int_in(burst, "--burst", 1)))
        return
    if db is not None:
        parsed(check_database, db, "--db")
    settings = Settings(
        data_dir=data_dir, host=host, port=port_number, database=db,
        fsync=parse_fsync(fsync), demo=demo, demo_trader=demo_trader,
        rate=float_in(rate, "--rate", 0.0, low_open=True),
        burst=int_in(burst, "--burst", 1),
        snapshot_every=int_in(snapshot_every, "--snapshot-every", 1),
        keep_journal=keep_journal, own_process=True,
    )
    level = one_of(log_level, "--log-level", ("critical", "error", "warning", "info"))
    data_dir.mkdir(parents=True, exist_ok=True)
    typer.echo(f"auctioneer exchange: dashboard at {settings.url}/  "
               f"(API docs {settings.url}/docs, OpenAPI {settings.url}/openapi.json)")
    typer.echo(f"journal and tables in {data_dir}/, database {settings.db_url}; "
               f"admin key in {data_dir / 'admin.key'}")
    app = create_app(settings)

    class Server(uvicorn.Server):
        """uvicorn, ending the event streams first on Ctrl+C (they never end by themselves)."""

        def handle_exit(self, sig: int, frame: FrameType | None) -> None:
            service = getattr(app.state, "service", None)
            if service is not None:
                service.end_streams()
            super().handle_exit(sig, frame)

    config = server_config(app, settings, default_parser(), wire=True, log_level=level,
                           access_log=False, timeout_graceful_shutdown=5,
                           loop="uvloop" if _installed("uvloop") else "asyncio")
    Server(config).run()


def _serve_cluster(nats_url: str, host: str, port: int, data_dir: Path,
                   partitions: str | None, assign: str, db: str | None, apply_timeout_s: float,
                   level: str, limits: tuple[float, int]) -> None:
    import uvicorn

    from auctioneer.cli.stream import partition_map
    from auctioneer.service.cluster_app import create_cluster_app
    from auctioneer.service.protocols import default_parser, server_config
    from auctioneer.service.settings import ClusterSettings

    expected = None if partitions is None else partition_map(partitions, assign).describe()
    data_dir.mkdir(parents=True, exist_ok=True)
    if db is not None and not db.startswith(("postgresql:", "postgresql+")):
        raise bad("--db", f"{db!r}: with --nats the read side is PostgreSQL "
                  "(postgresql://user@host/db)")
    settings = ClusterSettings(data_dir=data_dir, nats=nats_url, host=host, port=port,
                               partitions=expected, read_db=db,
                               apply_timeout_s=apply_timeout_s, rate=limits[0],
                               burst=limits[1])
    _preflight(settings)
    typer.echo(f"auctioneer exchange (stateless, cluster {nats_url}) at {settings.url}/  "
               f"(API docs {settings.url}/docs); admin key in {data_dir / 'admin.key'}")
    app = create_cluster_app(settings)
    config = server_config(app, settings, default_parser(), log_level=level,
                           access_log=False, timeout_graceful_shutdown=5,
                           loop="uvloop" if _installed("uvloop") else "asyncio")
    uvicorn.Server(config).run()


def _preflight(settings: "ClusterSettings") -> None:
    """Connect once before serving, so a wrong --nats or map is a usage error (exit 2)."""
    from auctioneer.cli.stream import run_on_nats
    from auctioneer.exchange.scaleout.stream import PartitionMapMismatch
    from auctioneer.service.cluster_app import open_gateway

    async def check() -> None:
        await (await open_gateway(settings)).close()

    run_on_nats(check(), settings.nats, {PartitionMapMismatch: "--partitions"})


def _service_pids(pid: int) -> dict[str, int]:
    """The service's process and its SQL follower (its child), by name, for CPU figures."""
    from auctioneer.service.process import children

    pids = {"service": pid}
    for child in children(pid)[:1]:
        pids["follower"] = child
    return pids


def _print(result: "LoadResult") -> None:
    from rich.table import Table

    from auctioneer.measure.progress import wide_console
    from auctioneer.measure.target import print_targets
    from auctioneer.service.load import targets

    console = wide_console(120)
    cfg = result.config
    table = Table(title=f"auctioneer load: {cfg.clients} {cfg.client} clients x {cfg.batch} "
                        f"orders/request, {result.elapsed_s:.1f} s against {cfg.url}")
    for column in ("orders/s", "requests/s", "orders", "trades", "p50 ms", "p99 ms",
                   "p99.9 ms", "mean ms", "client CPU µs/req", "errors"):
        table.add_column(column, justify="right")
    lat = result.latency_ms
    errors = ", ".join(f"{k} x{v}" for k, v in sorted(result.errors.items())) or "0"
    table.add_row(f"{result.orders_per_s:,.0f}", f"{result.requests_per_s:,.0f}",
                  f"{result.orders:,}", f"{result.trades:,}", f"{lat.p50:.2f}",
                  f"{lat.p99:.2f}", f"{lat.p999:.2f}", f"{result.mean_ms:.2f}",
                  f"{result.client_cpu_us:,.0f}", errors)
    console.print(table)
    if result.server_cpu_us:
        console.print("CPU per order while measuring: " + ", ".join(
            f"{name} {us:,.1f} µs" for name, us in result.server_cpu_us.items()))
    if result.fsync_ms is not None:
        console.print(f"fsync of the data directory's disk (4 KiB appends, after the run): "
                      f"p50 {result.fsync_ms.p50:.2f} ms, p99 {result.fsync_ms.p99:.2f} ms")
    print_targets(console, targets(result))


def _check_wrk(seconds: float, warm: float) -> None:
    """Before any work: ``wrk`` is installed and runs whole seconds."""
    from auctioneer.service.load import WRK_MISSING
    from auctioneer.service.loadwrk import wrk_program

    if wrk_program() is None:
        raise typer.BadParameter(WRK_MISSING, param_hint="'--client'")
    for value, option in ((seconds, "--duration"), (warm, "--warmup")):
        if value != int(value):
            raise typer.BadParameter(f"{value:g}: --client wrk runs whole seconds",
                                     param_hint=f"'{option}'")


@app.command("load")
def load_command(
    url: Annotated[
        str | None,
        typer.Option(help="The service to drive. [default: start one in a child process "
                     "with a fresh data directory]", show_default=False),
    ] = None,
    admin_key: Annotated[
        str | None,
        typer.Option(envvar="AUCTIONEER_ADMIN_KEY", help="The service's admin key (see its "
                     "data directory's admin.key); needed with --url.", show_default=False),
    ] = None,
    clients: Annotated[str, typer.Option(metavar="INT", help="Concurrent clients.")] = "2",
    duration: Annotated[
        str, typer.Option(metavar="SECONDS", help="How long to measure.")] = "10",
    batch: Annotated[
        str, typer.Option(metavar="INT", help="Orders per request (1: POST /orders).")
    ] = "25",
    warmup: Annotated[
        str, typer.Option(metavar="SECONDS", help="Unmeasured load before measuring.")
    ] = "1",
    fsync: Annotated[
        str, typer.Option(help="The started service's journal fsync policy.")
    ] = "always",
    seed: Annotated[str, typer.Option(metavar="INT", help="Order stream seed.")] = "0",
    client: Annotated[
        str, typer.Option(help="HTTP client of the order loop: raw (a minimal keep-alive "
                          "client that leaves the CPU to the service), httpx, or wrk (the "
                          "C program, Debian package wrk: whole seconds only).")
    ] = "raw",
    echo: Annotated[
        bool, typer.Option("--echo", help="Drive a trivial server that answers every order "
                           "at once and stores nothing instead: the load generator's own "
                           "ceiling on this machine.")
    ] = False,
    json_path: JsonOption = None,
) -> None:
    """Drive the service with concurrent clients; print orders/s and latency percentiles."""
    import asyncio
    from dataclasses import replace

    from auctioneer.service.load import LoadConfig, LoadError, probe_fsync, run_load
    from auctioneer.service.process import free_port, spawn_server, wait_ready

    n_clients = int_in(clients, "--clients", 1, 10_000)
    n_batch = int_in(batch, "--batch", 1, 1_000)
    seconds = float_in(duration, "--duration", 0.0, low_open=True)
    warm = float_in(warmup, "--warmup", 0.0)
    seed_value = int_in(seed, "--seed", 0)
    policy = parse_fsync(fsync)
    client_kind = one_of(client, "--client", ("httpx", "raw", "wrk"))
    if client_kind == "wrk":
        _check_wrk(seconds, warm)
    if url is not None and echo:
        raise typer.BadParameter("--echo starts its own trivial server: give no --url",
                                 param_hint="'--echo'")
    if url is not None and admin_key is None:
        raise typer.BadParameter("--url needs the service's admin key (or "
                                 "AUCTIONEER_ADMIN_KEY)", param_hint="'--admin-key'")

    def config(target: str, key: str) -> LoadConfig:
        return LoadConfig(url=target.rstrip("/"), admin_key=key, clients=n_clients,
                          duration_s=seconds, batch=n_batch, warmup_s=warm, seed=seed_value,
                          client=client_kind)

    if url is not None and admin_key is not None:
        try:
            result = asyncio.run(run_load(config(url, admin_key)))
        except LoadError as exc:
            raise typer.BadParameter(str(exc), param_hint=f"'{exc.option}'") from None
    elif echo:
        from auctioneer.service.load import echo_setup
        from auctioneer.service.process import spawn_echo

        port = free_port()
        server = spawn_echo(port, n_batch)
        try:
            target = f"http://127.0.0.1:{port}"
            wait_ready(target, server)
            typer.echo(f"started the trivial echo server at {target} (pid {server.pid})",
                       err=True)
            echo_config = config(target, "")
            result = asyncio.run(run_load(echo_config, echo_setup(echo_config)))
        finally:
            server.terminate()
            server.wait(timeout=30)
    else:
        import tempfile

        from auctioneer.service.runtime import admin_key_of

        with tempfile.TemporaryDirectory(prefix="auctioneer-load-") as tmp:
            data_dir = Path(tmp) / "data"
            port = free_port()
            server = spawn_server(data_dir, port, "--fsync", policy.value, "--rate", "1e9",
                                  "--burst", "1000000", log=Path(tmp) / "server.log")
            try:
                target = f"http://127.0.0.1:{port}"
                wait_ready(target, server)
                typer.echo(f"started auctioneer serve at {target} (pid {server.pid}, "
                           f"journal fsync {policy.value})", err=True)
                result = asyncio.run(run_load(config(target, admin_key_of(data_dir)),
                                              watch=lambda: _service_pids(server.pid)))
                result = replace(result, fsync_ms=probe_fsync(data_dir))
            finally:
                server.terminate()
                server.wait(timeout=30)
    _print(result)
    if json_path is not None:
        from auctioneer.measure.record import write_json

        write_json(result.as_json(), json_path)
        typer.echo(f"wrote {json_path}")
