"""The measuring kit every ``auctioneer bench <area>`` shares.

Each area keeps its benchmark beside its code (``auctioneer.<area>.bench``
measures, ``auctioneer.<area>.bench_report`` shows it and declares the area's
:class:`~auctioneer.measure.benchmark.Benchmark`); this package is what they
have in common, and it imports no area:

* :mod:`auctioneer.measure.benchmark` -- the ``Benchmark`` description and
  ``run_benchmark``: progress, report, JSON and plot, the same for every area.
* :mod:`auctioneer.measure.timing` -- percentiles, the timer's own cost, the
  paused garbage collector and the environment a run records.
* :mod:`auctioneer.measure.target` -- a target and its PASS/MISS/SKIP line.
* :mod:`auctioneer.measure.record` -- a result's JSON record (``write_json``).
* :mod:`auctioneer.measure.progress` -- the wide console and the progress bar.
* :mod:`auctioneer.measure.latency_plot` -- latency against percentile, tail stretched.
* :mod:`auctioneer.measure.interval` -- a median and its bootstrap confidence interval.
* :mod:`auctioneer.measure.sizes` -- the one parser of comma-separated size lists.
* :mod:`auctioneer.measure.memory` -- the peak Python memory of one call.
* :mod:`auctioneer.measure.startup` (and ``startup_report``) -- the command
  line's start-up as whole processes (``auctioneer bench startup``).

Nothing is imported here, so ``auctioneer --help`` stays fast; import the
module you need.
"""

__all__: list[str] = []
