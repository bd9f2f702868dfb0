"""Command files: one JSON command per line, as ``auctioneer stream publish`` reads them.

Each line is the codec's dict (``{"type": "deposit", ...}``) with two
optional extra keys the router needs: ``"msg_id"`` (the idempotency key;
default ``"<file name>:<line number>"``, so publishing the same file twice
publishes nothing new) and ``"partition"`` (for deposits and withdrawals,
and cancels of orders not in the file). Blank lines and ``#`` lines are
skipped. The whole file is checked before anything is published.

Example:
    >>> item = parse_line('{"type": "tick", "ts_ns": 5}', "cmds.jsonl", 3)
    >>> item.command, item.msg_id, item.partition
    (Tick(ts_ns=5), 'cmds.jsonl:3', None)
    >>> parse_line('{"type": "tick"}', "cmds.jsonl", 4)
    Traceback (most recent call last):
      ...
    auctioneer.exchange.scaleout.commandfile.CommandFileError: cmds.jsonl line 4: ts_ns: ...
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from auctioneer.exchange.codec import CommandError, decode_command, encode_command
from auctioneer.exchange.scaleout.publisher import Routed

__all__ = ["CommandFileError", "dumps_commands", "parse_line", "read_commands"]


class CommandFileError(ValueError):
    """A line of a command file that is not a command: names the file, line and field."""


def parse_line(text: str, name: str, number: int) -> Routed:
    """The command on line ``number`` of file ``name``; CommandFileError naming the field."""
    where = f"{name} line {number}"
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise CommandFileError(f"{where}: not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise CommandFileError(f"{where}: a command must be a JSON object")
    msg_id = data.pop("msg_id", f"{name}:{number}")
    partition = data.pop("partition", None)
    if not isinstance(msg_id, str) or not msg_id or any(c.isspace() for c in msg_id):
        raise CommandFileError(f"{where}: msg_id: {msg_id!r} must be a non-empty string "
                               "without whitespace")
    if partition is not None and (type(partition) is not int or partition < 0):
        raise CommandFileError(f"{where}: partition: {partition!r} is not a partition number")
    try:
        command = decode_command(data)
    except CommandError as exc:
        raise CommandFileError(f"{where}: {exc}") from None
    return Routed(command, msg_id, partition)


def read_commands(path: Path) -> list[Routed]:
    """Every command in the file at ``path`` (O(lines)); CommandFileError on the first bad one."""
    items = []
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            text = line.strip()
            if text and not text.startswith("#"):
                items.append(parse_line(text, path.name, number))
    return items


def dumps_commands(items: Iterable[Routed]) -> str:
    """A command file holding ``items`` (keys and partitions kept), one line each."""
    lines = []
    for item in items:
        data = encode_command(item.command)
        data["msg_id"] = item.msg_id
        if item.partition is not None:
            data["partition"] = item.partition
        lines.append(json.dumps(data, separators=(",", ":")))
    return "".join(line + "\n" for line in lines)
