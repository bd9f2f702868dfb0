"""A partition engine's checkpoint: its snapshot and the stream sequence it covers.

The snapshot and the sequence are written together, in one file replaced
atomically (write, fsync, rename, fsync the directory), so after any crash
the file on disk is either the old checkpoint or the new one, never a state
with the wrong position: that pairing is what makes resuming exactly-once.

Example:
    >>> checkpoint_path(Path("ck"), 3).name
    'partition-3.json'
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from auctioneer.exchange.files import write_atomic

__all__ = ["Checkpoint", "CheckpointError", "checkpoint_path", "read_checkpoint",
           "write_checkpoint"]

_FORMAT = "auctioneer-partition-checkpoint/1"


class CheckpointError(ValueError):
    """A checkpoint file that cannot be used (unreadable, another partition, bad hash)."""


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """Engine state after applying every command of ``partition`` up to stream ``seq``."""

    partition: int
    stream: str
    seq: int
    state_hash: str
    snapshot: dict[str, Any]


def checkpoint_path(directory: Path, partition: int) -> Path:
    """Where ``partition``'s checkpoint lives in ``directory``."""
    return directory / f"partition-{partition}.json"


def write_checkpoint(directory: Path, checkpoint: Checkpoint) -> Path:
    """Replace ``checkpoint.partition``'s checkpoint in ``directory`` atomically; its path."""
    directory.mkdir(parents=True, exist_ok=True)
    body = {"format": _FORMAT, "partition": checkpoint.partition, "stream": checkpoint.stream,
            "seq": checkpoint.seq, "state_hash": checkpoint.state_hash,
            "snapshot": checkpoint.snapshot}
    data = json.dumps(body, separators=(",", ":"), sort_keys=True).encode()
    return write_atomic(checkpoint_path(directory, checkpoint.partition), data)


def read_checkpoint(directory: Path, partition: int, stream: str) -> Checkpoint | None:
    """``partition``'s checkpoint in ``directory``, None when there is none yet.

    Raises CheckpointError when the file is unreadable or belongs to another
    partition or stream (the engine then refuses to start rather than guess).
    """
    path = checkpoint_path(directory, partition)
    try:
        body = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise CheckpointError(f"checkpoint {str(path)!r} is unreadable: {exc}") from None
    if not isinstance(body, dict) or body.get("format") != _FORMAT:
        raise CheckpointError(f"checkpoint {str(path)!r} is not a {_FORMAT} file")
    if body["partition"] != partition or body["stream"] != stream:
        raise CheckpointError(f"checkpoint {str(path)!r} is for partition {body['partition']} "
                              f"of {body['stream']}, not {partition} of {stream}")
    return Checkpoint(int(body["partition"]), str(body["stream"]), int(body["seq"]),
                      str(body["state_hash"]), dict(body["snapshot"]))
