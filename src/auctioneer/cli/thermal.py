"""Thermal commands: ``auctioneer bench thermal`` and ``auctioneer thermal step-response``.

Heavy imports happen inside the commands, so importing this module costs the CLI nothing.

Example:
    >>> sorted(c.name for c in thermal_app.registered_commands)
    ['step-response']
"""


import json
from pathlib import Path
from typing import Annotated

import typer

from auctioneer.cli.app import app, bench_app
from auctioneer.cli.options import (
    JsonOption,
    float_in,
    int_in,
    output_option,
    plot_option,
    quick_default,
    quick_option,
    user_errors,
)

__all__ = ["bench_thermal", "step_response_command", "thermal_app"]

thermal_app = typer.Typer(
    help="Thermal pricing: the controller's step response.", no_args_is_help=True,
    add_completion=False,
)
app.add_typer(thermal_app, name="thermal")


@thermal_app.command("step-response")
def step_response_command(
    target: Annotated[str, typer.Option(metavar="CELSIUS", help="CPU die target.")] = "85",
    kp: Annotated[str | None, typer.Option(metavar="NUM", help="Proportional gain, "
                  "multiplier per K. [default: shipped]", show_default=False)] = None,
    ki: Annotated[str | None, typer.Option(metavar="NUM", help="Integral gain, per K*s. "
                  "[default: shipped]", show_default=False)] = None,
    kd: Annotated[str | None, typer.Option(metavar="NUM", help="Derivative gain, per K/s. "
                  "[default: shipped]", show_default=False)] = None,
    gpu_util: Annotated[str, typer.Option(metavar="SHARE", help="GPU utilisation.")] = "0.9",
    before: Annotated[str, typer.Option(metavar="SHARE", help="Offered CPU load before.")] = "0.3",
    after: Annotated[str, typer.Option(metavar="SHARE", help="Offered CPU load after.")] = "1.0",
    duration: Annotated[str, typer.Option(metavar="SECONDS", help="Simulated time.")] = "120",
    noise: Annotated[str, typer.Option(metavar="CELSIUS", help="Sensor noise sd.")] = "0.25",
    seed: Annotated[str, typer.Option(metavar="INT", help="Sensor seed.")] = "0",
    output: Annotated[Path, output_option("--output", "-o", text="PNG path; the JSON goes "
                      "next to it (.json).")] = Path("out/step-response.png"),
) -> None:
    """Simulate the closed loop through a CPU load step; write the response as PNG and JSON.

    Prints overshoot, settling time (1 K band), crossings and the final multiplier.
    """
    from auctioneer.thermal import DEFAULT_GAINS, Gains
    from auctioneer.thermal.response import StepScenario, step_response

    shipped = DEFAULT_GAINS.as_floats()
    gains = [shipped[i] if text is None else float_in(text, f"--{name}", 0.0, 1000.0)
             for i, (name, text) in enumerate((("kp", kp), ("ki", ki), ("kd", kd)))]
    with user_errors():
        scenario = StepScenario(
            target_c=float_in(target, "--target", 0.0, 150.0),
            gpu_util=float_in(gpu_util, "--gpu-util", 0.0, 1.0),
            before=float_in(before, "--before", 0.0, 1.0),
            after=float_in(after, "--after", 0.0, 1.0),
            duration_s=float_in(duration, "--duration", 1.0, 3600.0),
            noise_sd_c=float_in(noise, "--noise", 0.0, 10.0),
            seed=int_in(seed, "--seed", 0, 2**63 - 1),
        )
        result = step_response(scenario, Gains.from_float(*gains))
    typer.echo(f"gains kp={gains[0]:.3g} ki={gains[1]:.3g} kd={gains[2]:.3g}: "
               f"overshoot {result.overshoot_c:.2f} K, settling "
               + (f"{result.settling_s:.1f} s" if result.settling_s is not None else "never")
               + f", crossings {result.crossings}, final multiplier "
               f"{result.final_multiplier:.3f}x")
    json_path = output.with_suffix(".json")
    json_path.parent.mkdir(parents=True, exist_ok=True)
    json_path.write_text(json.dumps(result.to_dict()) + "\n", encoding="utf-8")
    _plot(result, output)
    typer.echo(f"wrote {output} and {json_path}", err=True)


def _plot(result: object, path: Path) -> None:
    from matplotlib.figure import Figure

    from auctioneer.thermal.response import StepResponse

    assert isinstance(result, StepResponse)
    fig = Figure(figsize=(11, 6.5), layout="constrained")
    temp, mult = fig.subplots(2, 1, sharex=True)
    t = result.times_s
    temp.plot(t, result.measured_c, color="tab:gray", alpha=0.4, lw=0.6, label="CPU (sensor)")
    temp.plot(t, result.cpu_c, color="tab:red", label="CPU die")
    temp.plot(t, result.gpu_c, color="tab:purple", label="GPU die")
    temp.plot(t, result.chassis_c, color="tab:blue", label="chassis")
    sc = result.scenario
    temp.axhline(sc.target_c, color="black", linestyle=":", label=f"target {sc.target_c:g} C")
    temp.axhspan(sc.target_c - sc.band_c, sc.target_c + sc.band_c, color="green", alpha=0.1)
    temp.set_ylabel("temperature (C)")
    kp, ki, kd = result.gains.as_floats()
    temp.set_title(f"Step response: CPU load {sc.before:g} -> {sc.after:g}, GPU {sc.gpu_util:g}; "
                   f"kp={kp:.3g} ki={ki:.3g} kd={kd:.3g}; overshoot {result.overshoot_c:.2f} K")
    mult.plot(t, result.multiplier, color="tab:orange", label="CPU price multiplier")
    mult.plot(t, result.cpu_util, color="tab:green", label="CPU utilisation")
    mult.set_ylabel("multiplier (x) / utilisation")
    mult.set_xlabel("time (s)")
    for ax in (temp, mult):
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize="small", loc="right")
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100, format="png")


@bench_app.command("thermal")
def bench_thermal(
    samples: Annotated[
        str | None, quick_default("Timed batches per operation.", "200", "50")
    ] = None,
    dispatches: Annotated[
        str | None, quick_default("Timed GPU dispatches per size.", "200", "30")
    ] = None,
    repeats: Annotated[
        str | None, quick_default("Runs of the dispatches per GPU row; each percentile is "
                                  "the median over runs.", "5", "1")
    ] = None,
    bundles_per_bid: Annotated[list[str] | None, typer.Option(
        "--bundles-per-bid", metavar="INT", show_default=False,
        help="XOR bundles per bid in the bundle dispatch rows, 1..16; repeat for several. "
        "[default: 2 and 4; --quick: 2]")] = None,
    seed: Annotated[str, typer.Option(metavar="INT", help="Input seed.")] = "0",
    realtime: Annotated[bool, typer.Option(
        "--realtime/--no-realtime", help="Time the dispatches under SCHED_FIFO where "
        "permitted (root or CAP_SYS_NICE), as a dispatcher thread would run; the JSON "
        "records the policy each row got.")] = True,
    quick: Annotated[bool, quick_option("a few seconds.")] = False,
    json_path: JsonOption = None,
    plot: Annotated[Path, plot_option("figure")] = Path("out/bench-thermal.png"),
) -> None:
    """Controller update, schedule lookup vs recompute per tick, coupling lookup vs formula,
    and GPU dispatch p50/p99 against the 100 us budget (bundle rows also time the clearing
    path and the pure-Python reference solver on the same batches)."""
    from auctioneer.measure.benchmark import run_benchmark
    from auctioneer.thermal import bench as bench
    from auctioneer.thermal import bench_report as report

    config = bench.ThermalBenchConfig.build(
        quick=quick, seed=int_in(seed, "--seed", 0, 2**64 - 1),
        samples=None if samples is None else int_in(samples, "--samples", 1, 10**6),
        dispatches=None if dispatches is None else int_in(dispatches, "--dispatches", 1, 10**6),
        repeats=None if repeats is None else int_in(repeats, "--repeats", 1, 100),
        bundles_per_bid=tuple(int_in(k, "--bundles-per-bid", 1, 16)
                              for k in bundles_per_bid or ()) or None,
        realtime=realtime,
    )
    run_benchmark(report.BENCHMARK, config, json_path, plot)
