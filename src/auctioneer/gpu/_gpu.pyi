# The native exact GPU bundle solver (_gpu.c, gpu_core.c); see solver.py.
from collections.abc import Sequence

MAX_BIDS: int
MAX_BUNDLES: int
SANITIZED: int

def solve(bids: Sequence[Sequence[tuple[int, int, int]]], window_ms: int, memory: int,
          reserve_per_ms: int, max_nodes: int, /
          ) -> tuple[int, tuple[int | None, ...], tuple[int, ...], int] | None: ...
def solve_bids(bids: Sequence[object], window_ms: int, memory: int, reserve_per_ms: int,
               max_nodes: int, max_agents: int, /
               ) -> tuple[int, tuple[int | None, ...], tuple[int, ...], int] | None: ...
def units(bids: Sequence[object], slice_ms: int, max_agents: int, /) -> bytes | None: ...
