"""``auctioneer kernel ...``: load, drive and read the sched_ext market scheduler.

Needs root and a kernel with sched_ext (``CONFIG_SCHED_CLASS_EXT=y``); on any
other kernel every command that touches it says so and exits 1. A bad bid
file exits 2 naming the entry, field and value, before anything is loaded.

Example:
    >>> import typer
    >>> app = typer.Typer()
    >>> register(app)
    >>> [g.name for g in app.registered_groups]
    ['kernel']
"""


import json
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any

import typer

from auctioneer.cli.app import app, bench_app
from auctioneer.cli.options import JsonOption, bad, output_option

__all__ = ["kernel_app", "register"]

kernel_app = typer.Typer(help="The market as a sched_ext scheduler in the running kernel "
                         "(kernel/README.md).", no_args_is_help=True, add_completion=False)

DEFAULT_OBJ = Path("kernel/build/scx_auction.bpf.o")


def register(app: typer.Typer) -> None:
    """Add the ``kernel`` group to ``app``."""
    app.add_typer(kernel_app, name="kernel")


def _fail(message: str) -> typer.Exit:
    typer.echo(f"auctioneer kernel: {message}", err=True)
    return typer.Exit(1)


def _scheduler() -> Any:
    from auctioneer.kernel import BpftoolError, Scheduler, sched_ext_state

    try:
        sched_ext_state()
        return Scheduler()
    except BpftoolError as exc:
        raise _fail(str(exc)) from None
    except RuntimeError as exc:  # SchedExtError: no sched_ext in this kernel
        raise _fail(str(exc)) from None


def _write_json(path: Path | None, data: object) -> None:
    if path is not None:
        path.write_text(json.dumps(data, indent=2) + "\n")


def _check_out(path: Path | None, option: str) -> None:
    if path is not None and not path.parent.is_dir():
        raise bad(option, f"directory {str(path.parent)!r} does not exist")


def _bids(path: Path | None) -> list[Any]:
    from auctioneer.kernel import BidFileError, load_bids

    if path is None:
        return []
    try:
        return load_bids(path)
    except BidFileError as exc:
        raise bad("--bids", str(exc)) from None


@kernel_app.command("load")
def load_command(
    obj: Annotated[Path, typer.Argument(help="The scheduler object (make -C kernel).",
                                        dir_okay=False)] = DEFAULT_OBJ,
    bids: Annotated[Path | None, typer.Option(help="Bids and budgets (YAML; "
                                              "src/auctioneer/kernel/bids.py).",
                                              dir_okay=False)] = None,
    json_path: JsonOption = None,
) -> None:
    """Register the scheduler, pin its maps, write the bids; print each program's verified size.

    The verified size is the verifier's processed-instruction count
    (``verified_insns``), what the 1,000,000-instruction limit applies to.
    """
    _check_out(json_path, "--json")
    specs = _bids(bids)
    if not obj.is_file():
        raise bad("OBJ", f"no file {str(obj)!r} (build it: make -C kernel)")
    from auctioneer.kernel import BpftoolError

    sched = _scheduler()
    try:
        verified = sched.load(obj, specs)
    except (BpftoolError, RuntimeError) as exc:
        raise _fail(f"load failed: {exc}") from None
    for v in verified:
        typer.echo(f"{v.name:<24} verified_insns {v.verified_insns:>7}  xlated {v.xlated_bytes} B")
    typer.echo(f"loaded: sched_ext enabled, ops auction, {len(specs)} bids")
    _write_json(json_path, {"programs": [asdict(v) for v in verified]})


@kernel_app.command("unload")
def unload_command() -> None:
    """Unregister the scheduler: every task goes back to the fair class."""
    sched = _scheduler()
    sched.unload()
    typer.echo("unloaded")


@kernel_app.command("bid")
def bid_command(
    bids: Annotated[Path, typer.Argument(help="Bids and budgets (YAML).", dir_okay=False)],
) -> None:
    """Set or replace bids on the loaded scheduler."""
    specs = _bids(bids)
    sched = _scheduler()
    if not sched.loaded():
        raise _fail("the scheduler is not loaded (auctioneer kernel load)")
    sched.set_bids(specs)
    typer.echo(f"{len(specs)} bids set")


@kernel_app.command("price")
def price_command(
    cpu_price: Annotated[str, typer.Option(help="CPU reserve price, micro-units per quantum.")],
    tick: Annotated[str, typer.Option(help="Tick index of this publication.")] = "0",
    multiplier_ppm: Annotated[str | None, typer.Option(help="Thermal multiplier, ppm. "
                                                      "\\[default: from the plant]",
                                                      show_default=False)] = None,
    plant_seconds: Annotated[float, typer.Option(help="Simulated seconds of the thermal "
                                                 "plant at --cpu-util/--gpu-util.")] = 60.0,
    cpu_util: Annotated[float, typer.Option(help="Plant CPU utilisation 0..1.")] = 1.0,
    gpu_util: Annotated[float, typer.Option(help="Plant GPU utilisation 0..1.")] = 1.0,
) -> None:
    """Publish the price page: the reserve is cpu_price x the thermal multiplier."""
    from auctioneer.cli.options import int_in
    from auctioneer.kernel import publish, thermal_multiplier_ppm

    price = int_in(cpu_price, "--cpu-price", 0, 2**32 - 1)
    at = int_in(tick, "--tick", 0, 2**64 - 1)
    for name, value in (("--cpu-util", cpu_util), ("--gpu-util", gpu_util)):
        if not 0 <= value <= 1:
            raise bad(name, f"{value} is out of range 0..1")
    if not 0 <= plant_seconds <= 3600:
        raise bad("--plant-seconds", f"{plant_seconds} is out of range 0..3600")
    mult = (thermal_multiplier_ppm(plant_seconds, cpu_util, gpu_util) if multiplier_ppm is None
            else int_in(multiplier_ppm, "--multiplier-ppm", 0, 2**32 - 1))
    sched = _scheduler()
    if not sched.loaded():
        raise _fail("the scheduler is not loaded (auctioneer kernel load)")
    seq = publish(sched.pin("auc_price_page"), tick=at, cpu_price=price, cpu_multiplier_ppm=mult)
    typer.echo(f"published seq {seq}: cpu_price {price} x multiplier {mult} ppm "
               f"= reserve {price * mult // 1_000_000}")


@kernel_app.command("status")
def status_command(json_path: JsonOption = None) -> None:
    """sched_ext's state, the scheduler's counters, cost per dispatch, accounts, exit reason."""
    _check_out(json_path, "--json")
    from auctioneer.kernel import sched_ext_state

    sched = _scheduler()
    out: dict[str, Any] = {"state": sched_ext_state(), "loaded": sched.loaded()}
    if sched.loaded():
        stats = sched.stats()
        out["stats"] = stats.counters
        out["delay_hist"] = list(stats.delay_hist)
        out["ns_per_dispatch"] = stats.cost_per_dispatch_ns()
        out["ns_per_enqueue"] = stats.cost_per_enqueue_ns()
        out["accounts"] = {str(k): asdict(v) for k, v in sched.accounts().items()}
        info = sched.exit_info()
        out["exit"] = None if info is None else asdict(info)
    typer.echo(json.dumps(out, indent=2))
    _write_json(json_path, out)


@kernel_app.command("predict")
def predict_command(
    scenario: Annotated[Path, typer.Argument(help="A mix scenario (kernel/vm/mix.yaml).",
                                             dir_okay=False)],
    reserve: Annotated[str, typer.Option(help="The reserve, micro-units per quantum (the "
                                         "price page's price x multiplier).")] = "0",
    out: Annotated[Path | None, output_option(
        "--scenario", text="Also write the simulator's scenario here (auctioneer simulate "
        "runs it).")] = None,
    json_path: JsonOption = None,
) -> None:
    """What ``auctioneer simulate`` predicts for the mix's classes: share and payment.

    ``--json`` saves it for ``auctioneer kernel mix --prediction``.
    """
    import yaml

    from auctioneer.cli.options import int_in
    from auctioneer.kernel import Prediction, load_mix, mix_scenario, predict

    at = int_in(reserve, "--reserve", 0, 2**32 - 1)
    try:
        cpus, classes = load_mix(scenario)
    except (OSError, ValueError) as exc:
        raise bad("SCENARIO", str(exc)) from None
    if out is not None:
        out.write_text(yaml.safe_dump(mix_scenario(classes, cpus, at), sort_keys=False))
        typer.echo(f"wrote {out}")
    rows = predict(classes, cpus, at)
    typer.echo(f"{'class':<10} {'share':>8} {'paid/s':>14}")
    for r in rows:
        typer.echo(f"{r.name:<10} {100 * r.share:>7.2f}% {r.paid_per_s:>14.0f}")
    _write_json(json_path, Prediction(cpus, at, tuple(rows)).to_dict())


@kernel_app.command("mix")
def mix_command(
    scenario: Annotated[Path, typer.Argument(help="A mix scenario (kernel/vm/mix.yaml).",
                                             dir_okay=False)],
    seconds: Annotated[float, typer.Option(help="How long to measure.")] = 8.0,
    json_path: JsonOption = None,
    prediction: Annotated[Path | None, typer.Option(
        help="A saved prediction (kernel predict --json) for the same classes and reserve, "
        "instead of simulating here.", dir_okay=False)] = None,
) -> None:
    """Run bid classes of CPU-bound tasks; measured shares and payments vs the prediction.

    The prediction is ``auctioneer simulate``'s for the same classes
    (``auctioneer kernel predict``). Exits 1 when any class's share is off by
    more than 5 percentage points.
    """
    _check_out(json_path, "--json")
    from auctioneer.kernel import load_mix, run_mix

    try:
        cpus, classes = load_mix(scenario)
    except (OSError, ValueError) as exc:
        raise bad("SCENARIO", str(exc)) from None
    sched = _scheduler()
    if not sched.loaded():
        raise _fail("the scheduler is not loaded (auctioneer kernel load)")
    if prediction is not None:
        from auctioneer.kernel import load_prediction

        try:
            load_prediction(prediction, cpus, classes, sched.reserve())
        except ValueError as exc:
            raise bad("--prediction", str(exc)) from None
    mix = run_mix(sched, cpus, classes, seconds, prediction=prediction)
    rows = mix.rows
    typer.echo(f"reserve {sched.reserve()} (price page)")
    typer.echo(f"{'class':<10} {'simulate':>9} {'measured':>9} {'error pp':>9} "
               f"{'paid/s pred':>13} {'paid/s meas':>13}")
    for r in rows:
        typer.echo(f"{r.name:<10} {100 * r.predicted_share:>8.2f}%"
                   f" {100 * r.measured_share:>8.2f}% {r.share_error_pp:>+9.2f}"
                   f" {r.predicted_paid_per_s:>13.0f} {r.measured_paid_per_s:>13.0f}")
    worst = max(abs(r.share_error_pp) for r in rows)
    verdict = "PASS" if worst <= 5 else "MISS"
    typer.echo(f"worst share error {worst:.2f} pp (target <= 5): {verdict}")
    c = mix.counters
    typer.echo(f"window_cuts {c['window_cuts']} ({mix.window_cuts_per_window():.1f} a window), "
               f"window_cut_ns {c['window_cut_ns']}, kept {c['kept']}, "
               f"out_of_budget {c['out_of_budget']} over {mix.seconds:.2f} s")
    if mix.others is not None:
        typer.echo(f"tasks outside the classes ran {100 * mix.others:.2f}% of the CPUs' run time")
    _write_json(json_path, {"cpus": cpus, "seconds": seconds, "worst_pp": worst,
                            "classes": [asdict(r) for r in rows],
                            "measured_s": mix.seconds, "counters": c, "others": mix.others})
    if worst > 5:
        raise typer.Exit(1)


@kernel_app.command("starve")
def starve_command(
    hogs: Annotated[str, typer.Option(help="Busy loops at the highest bid.")] = "4",
    seconds: Annotated[float, typer.Option(help="How long they run.")] = 6.0,
    json_path: JsonOption = None,
) -> None:
    """Hogs at the highest bid and one with no bid: the free one must run within the bound."""
    _check_out(json_path, "--json")
    from auctioneer.cli.options import int_in
    from auctioneer.kernel import run_starve

    n = int_in(hogs, "--hogs", 1, 256)
    sched = _scheduler()
    if not sched.loaded():
        raise _fail("the scheduler is not loaded (auctioneer kernel load)")
    result = run_starve(sched, n, seconds)
    typer.echo(json.dumps(result))
    _write_json(json_path, result)
    if not result["ok"]:
        raise typer.Exit(1)


@bench_app.command("kernel")
def bench_kernel(
    samples: Annotated[Path, typer.Argument(
        help="The guest's samples: out/scx-vm/bench.txt from kernel/vm/run.sh bench.",
        dir_okay=False)] = Path("out/scx-vm/bench.txt"),
    json_path: JsonOption = None,
    png: Annotated[Path | None, output_option(
        "--png", text="Also plot each workload's medians per scheduler here.")] = None,
    baseline: Annotated[str, typer.Option(
        help="Pair every scheduler's rounds with this one's (e.g. auction, for the A/B "
        "of its variants).")] = "scx_simple",
) -> None:
    """scx_auction against EEVDF, scx_simple and scx_central from one VM boot (emulated).

    The VM run (``sudo kernel/vm/run.sh bench``, root and QEMU) interleaves
    the schedulers round by round; this reads its samples and prints each
    workload's median and range per scheduler, the median over rounds of the
    time paired with the baseline's and its 95 % bootstrap interval, and
    PASS/MISS for scx_auction within 10 % (SKIP where the interval straddles it).
    """
    from auctioneer.kernel.benchreport import (
        clock_of,
        event_counts,
        parse_samples,
        plot,
        summarise,
        targets,
    )
    from auctioneer.measure.target import target_line

    try:
        text = samples.read_text()
        parsed = parse_samples(text)
    except (OSError, ValueError) as exc:
        raise bad("SAMPLES", str(exc)) from None
    if not parsed:
        raise bad("SAMPLES", f"{samples} has no samples")
    if baseline not in {s.scheduler for s in parsed}:
        raise bad("--baseline", f"{baseline!r} has no samples in {samples}")
    rows = summarise(parsed, baseline)
    clock = clock_of(text)
    typer.echo(f"QEMU TCG, 2 vCPUs, {clock}: emulated times, comparable only within one boot")
    typer.echo(f"{'scheduler':<22} {'workload':<12} {'n':>3} {'median':>10} {'low':>10} "
               f"{'high':>10}  paired ratio to {baseline} [95 % CI], spread, rounds for +-5 %")
    for r in rows:
        typer.echo(f"{r.scheduler:<22} {r.workload:<12} {r.samples:>3} {r.median:>10.3f} "
                   f"{r.low:>10.3f} {r.high:>10.3f} {r.ratio:>8.2f}x "
                   f"[{r.ratio_low:.2f}, {r.ratio_high:.2f}] {r.spread:6.2f} {r.rounds_needed:>7}")
    checks = targets(rows, clock)
    for t in checks:
        typer.echo(target_line(t))
    counts_file = samples.with_name("counts.txt")
    try:
        counts = event_counts(counts_file.read_text()) if counts_file.exists() else {}
    except (OSError, ValueError) as exc:
        raise bad("SAMPLES", f"{counts_file}: {exc}") from None
    if counts:
        typer.echo(f"guest event counts per run, medians ({counts_file.name}):")
    for (name, workload), medians in counts.items():
        typer.echo(f"  {name:<22} {workload:<10} "
                   + " ".join(f"{k} {v:,.0f}" for k, v in medians.items()))
    _write_json(json_path, {"benchmark": "auctioneer.bench.kernel", "source": str(samples),
                            "emulated": True, "clock": clock, "rows": [asdict(r) for r in rows],
                            "targets": [asdict(t) for t in checks],
                            "counts": [{"scheduler": n, "workload": w, **m}
                                       for (n, w), m in counts.items()]})
    if png is not None:
        plot(rows, png, clock)
        typer.echo(f"wrote {png}")


@kernel_app.command("bpfstats")
def bpfstats_command(
    files: Annotated[list[Path], typer.Argument(
        help="bpfstats-<scheduler>-<turn>.json from kernel/vm/run.sh profile (out/scx-vm/).",
        dir_okay=False)],
    baseline: Annotated[str, typer.Option(
        help="Beside each callback, its ns per round trip less this scheduler's.")] = "scx_simple",
    json_path: JsonOption = None,
) -> None:
    """Each callback's calls per pipe round trip and ns per call, per scheduler (emulated).

    Medians over each scheduler's turns of ``perf bench sched pipe`` in one
    VM boot; no kernel needed here.
    """
    from auctioneer.kernel.bpfstats import load_turns, summarise

    try:
        rows = summarise(load_turns(files))
    except ValueError as exc:
        raise bad("FILES", str(exc)) from None
    base = {r.callback: r.ns_per_round_trip for r in rows if r.scheduler == baseline}
    typer.echo("BPF programs' own run time (bpf_stats) during perf bench sched pipe, guest "
               "clock under QEMU: emulated ns, comparable only within one boot")
    typer.echo(f"{'scheduler':<22} {'callback':<11} {'turns':>5} {'calls/rt':>9} "
               f"{'ns/call':>9} {'ns/rt':>9} {'- ' + baseline:>16}")
    for r in rows:
        diff = (f"{r.ns_per_round_trip - base.get(r.callback, 0.0):>+16.0f}"
                if base and r.scheduler != baseline else "")
        typer.echo(f"{r.scheduler:<22} {r.callback:<11} {r.turns:>5} "
                   f"{r.calls_per_round_trip:>9.3f} {r.ns_per_call:>9.0f} "
                   f"{r.ns_per_round_trip:>9.0f} {diff}")
    _write_json(json_path, {"source": [str(f) for f in files], "emulated": True,
                            "rows": [asdict(r) for r in rows]})


register(app)
