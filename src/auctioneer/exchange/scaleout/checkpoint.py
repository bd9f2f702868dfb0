"""A partition engine's checkpoint: its snapshot and the stream sequence it covers.

The snapshot and the sequence are written together, in one file replaced
atomically (write, fsync, rename, fsync the directory), so after any crash
the file on disk is either the old checkpoint or the new one, never a state
with the wrong position: that pairing is what makes resuming exactly-once.
The file is the service's snapshot format
(:class:`~auctioneer.exchange.snapshot.Saved`) labelled with the partition
and its stream.

Example:
    >>> checkpoint_path(Path("ck"), 3).name
    'partition-3.json'
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from auctioneer.exchange.durable import restore_saved
from auctioneer.exchange.engine import Exchange
from auctioneer.exchange.files import write_atomic
from auctioneer.exchange.snapshot import Saved, decode_saved, encode_saved

__all__ = ["Checkpoint", "CheckpointError", "checkpoint_path", "read_checkpoint",
           "write_checkpoint"]


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

    def restore(self) -> Exchange:
        """The exchange this checkpoint holds; CheckpointError when its state hash disagrees."""
        try:
            return restore_saved(Saved(self.seq, self.state_hash, self.snapshot))
        except ValueError as exc:
            raise CheckpointError(f"checkpoint of partition {self.partition}: {exc}") from None


def checkpoint_path(directory: Path, partition: int) -> Path:
    """Where ``partition``'s checkpoint lives in ``directory``."""
    return directory / f"partition-{partition}.json"


def write_checkpoint(directory: Path, checkpoint: Checkpoint) -> Path:
    """Replace ``checkpoint.partition``'s checkpoint in ``directory`` atomically; its path."""
    directory.mkdir(parents=True, exist_ok=True)
    labels = {"partition": checkpoint.partition, "stream": checkpoint.stream}
    data = encode_saved(Saved(checkpoint.seq, checkpoint.state_hash, checkpoint.snapshot, labels))
    return write_atomic(checkpoint_path(directory, checkpoint.partition), data)


def read_checkpoint(directory: Path, partition: int, stream: str) -> Checkpoint | None:
    """``partition``'s checkpoint in ``directory``, None when there is none yet.

    Raises CheckpointError when the file is unreadable or belongs to another
    partition or stream (the engine then refuses to start rather than guess).
    """
    path = checkpoint_path(directory, partition)
    try:
        saved = decode_saved(path.read_bytes())
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise CheckpointError(f"checkpoint {str(path)!r} is unreadable: {exc}") from None
    found = (saved.labels.get("partition"), saved.labels.get("stream"))
    if found != (partition, stream):
        raise CheckpointError(f"checkpoint {str(path)!r} is for partition {found[0]} "
                              f"of {found[1]}, not {partition} of {stream}")
    return Checkpoint(partition, stream, saved.seq, saved.state_hash, saved.state)
