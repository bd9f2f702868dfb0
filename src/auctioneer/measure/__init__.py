"""Benchmarks of auctioneer's hot paths, driven by ``auctioneer bench ...``.

Modules:

* :mod:`auctioneer.tick.bench` -- the tick market's bid structures: latency
  of update, expire and one tick (update + winner + Vickrey price), timed
  natively in C and per call from Python, memory per agent, and the sampled
  book's miss rate.
* :mod:`auctioneer.tick.bench_report` -- that benchmark's table, target
  lines and plot.
* :mod:`auctioneer.tick.bench_baselines` -- the pure-Python books everyone would
  write first (``heapq`` with lazy deletion, ``SortedList``), with the tick
  books' API, so the same timing loop drives them.
* :mod:`auctioneer.measure.timing` -- percentiles, the Python timer's own cost
  and the environment a run records.
* :mod:`auctioneer.measure.record` -- a result's JSON record (``write_json``).
* :mod:`auctioneer.measure.startup` (and ``startup_report``) -- the command
  line's start-up as whole processes (``auctioneer bench startup``).

Nothing is imported here, so ``auctioneer --help`` stays fast; import the
module you need.
"""

__all__: list[str] = []
