# The benchmarks' native timing harnesses (_timing.c); times are timer ticks.
from typing import Any, TypeAlias

import numpy as np
import numpy.typing as npt
from typing_extensions import Buffer

# numpy arrays are buffers too; typeshed says so only from Python 3.12.
_U32: TypeAlias = Buffer | npt.NDArray[np.uint32]

SANITIZED: int
OP_SPSC_PUSH: int
OP_MPSC_PUSH: int
OP_SPSC_PUSH_BATCH: int
OP_MPSC_PUSH_BATCH: int
OP_SPSC_DRAIN_BOOK: int
OP_MPSC_DRAIN_BOOK: int
OP_PAGE_PUBLISH: int
OP_PAGE_READ: int
OP_EMPTY: int
KIND_SPSC: int
KIND_MPSC: int

def timer_hz() -> int: ...
def time_ops(book: object, op: int, agents: _U32, prices: _U32, n: int = 2) -> bytes: ...
def time_op(op: int, ops: int, capacity: int = 1024, batch: int = 256, /) -> bytes: ...
def run_pair(kind: int, capacity: int, producers: int, per_producer: int, timed: bool = False,
             pin: bool = True, pace_ns: int = 0, /) -> dict[str, Any]: ...
