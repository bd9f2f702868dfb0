"""``auctioneer experiment incentives``: truthfulness, Sybil and collusion on the tick mechanisms.

Importing this module adds the ``experiment`` command group to the root app
and its ``incentives`` command. Heavy imports (numpy, the experiment, rich)
happen inside the command, so importing this module costs the CLI nothing.
"""


from pathlib import Path
from typing import Annotated

import typer

from auctioneer.cli.app import app
from auctioneer.cli.options import JsonOption, int_in, output_option, quick_default, quick_option

__all__ = ["experiment_app", "experiment_incentives"]

experiment_app = typer.Typer(
    help="Run experiments on auctioneer's mechanisms.", no_args_is_help=True,
    add_completion=False,
)
app.add_typer(experiment_app, name="experiment")


@experiment_app.command("incentives")
def experiment_incentives(
    seed: Annotated[str, typer.Option(metavar="INT", help="Seed of every draw, 0..2**64-1.")
                    ] = "0",
    rounds: Annotated[
        str | None,
        quick_default("Auctions per seed in every cell.", "600", "200"),
    ] = None,
    quick: Annotated[
        bool, quick_option("fewer values, factors and seeds; a few seconds.")
    ] = False,
    json_path: JsonOption = None,
    markdown: Annotated[
        Path | None,
        output_option("--markdown", text="Also write the tables as markdown here."),
    ] = None,
    tick_bench: Annotated[
        Path | None,
        typer.Option("--tick-bench", help="Tick benchmark JSON (auctioneer bench tick --json) "
                     "for the matrix's time and space; without it a reduced tick benchmark "
                     "runs here.", dir_okay=False),
    ] = None,
    plot: Annotated[
        Path | None,
        output_option("--plot", text="Also write the curves as a PNG here: utility against "
                      "bid factor, Sybil gain against k, ring revenue per defence."),
    ] = None,
) -> None:
    """Best responses, Sybil identities and collusion rings on every tick mechanism.

    For first price, Vickrey (1 and k units), GSP, posted price, proportional
    share, the FIFO tier book and the sampled book: an agent's best response
    over shaded and inflated bids, the gain from splitting into k identities,
    bid rotation and all-low rings, and the effect of a reserve, an identity
    fee and reputation, and iterated best response among symmetric bidders
    (bid factor per value bucket) with its price of anarchy and revenue. Ends
    with the seed's mechanism comparison matrix, every cell measured. Progress
    on stderr, tables on stdout; --json, --markdown and --plot (PNG) write the
    same results to files.
    """
    n_seed = int_in(seed, "--seed", 0, 2**64 - 1)
    n_rounds = None if rounds is None else int_in(rounds, "--rounds", 1, 1_000_000)

    from rich.console import Console

    from auctioneer.incentives import experiment, report
    from auctioneer.incentives import plot as figure
    from auctioneer.incentives.market import IncentiveConfig

    bench = None
    source = "given"
    if tick_bench is not None:
        try:
            bench = experiment.load_tick_bench(tick_bench)
        except ValueError as exc:
            raise typer.BadParameter(str(exc), param_hint="'--tick-bench'") from None
        source = f"tick benchmark JSON {tick_bench}"
    config = IncentiveConfig.build(seed=n_seed, rounds=n_rounds, quick=quick)
    console = report.report_console()
    result = report.run_with_progress(config, Console(stderr=True), bench, source)
    report.print_report(result, console)
    outputs = (("--json", json_path, experiment.write_json),
               ("--markdown", markdown, report.write_markdown),
               ("--plot", plot, figure.write_plot))
    for option, path, write in outputs:
        if path is None:
            continue
        try:
            write(result, path)
        except OSError as exc:
            raise typer.BadParameter(f"cannot write {str(path)!r}: {exc.strerror or exc}",
                                     param_hint=f"'{option}'") from None
        console.print(f"wrote {path}")
