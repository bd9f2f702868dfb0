"""``auctioneer bench cache``: cache misses per tick, simulated by cachegrind."""

from __future__ import annotations

from typing import Annotated

import typer

from auctioneer.cli.app import bench_app
from auctioneer.cli.options import JsonOption, int_in, parsed, user_errors

__all__ = ["bench_cache"]


@bench_app.command("cache")
def bench_cache(
    sizes: Annotated[str, typer.Option(help="Book sizes N, comma-separated.")] = "1000,10000",
    structures: Annotated[
        str, typer.Option(help="Structures, comma-separated, or all.")
    ] = "TierBook,LazyHeap,IndexedHeap",
    ticks: Annotated[str, typer.Option(help="Ticks per measured run.")] = "100000",
    json_path: JsonOption = None,
) -> None:
    """Cache misses per tick, simulated by cachegrind (needs valgrind; about a minute a cell).

    Two cachegrind runs per structure and size, with and without the ticks;
    their difference over the ticks is each tick's instructions, data
    references, L1 data misses and last-level misses.
    """
    import json

    from auctioneer.tick import bench as bench
    from auctioneer.tick import cache_probe

    config_sizes = parsed(bench.parse_sizes, sizes, "--sizes")
    config_structures = parsed(bench.parse_structures, structures, "--structures")
    count = int_in(ticks, "--ticks", 1, 10_000_000)
    with user_errors():
        results = cache_probe.measure(config_structures, config_sizes, count, typer.echo)
    for r in results:
        d = r.to_dict()
        typer.echo(f"{d['structure']:<15} N={d['n']:<6} {d['instructions']:>8.1f} instr  "
                   f"{d['data_refs']:>7.1f} data refs  {d['d1_misses']:>6.3f} D1 misses  "
                   f"{d['ll_misses']:>6.3f} LL misses per tick")
    if json_path is not None:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(json.dumps({
            "benchmark": "auctioneer.bench.cache",
            "tool": "valgrind --tool=cachegrind --cache-sim=yes (default simulated caches)",
            "method": "per tick = (run with ticks - run without) / ticks",
            "results": [r.to_dict() for r in results]}, indent=2) + "\n", encoding="utf-8")
        typer.echo(f"wrote {json_path}")
