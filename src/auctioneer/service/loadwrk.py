"""``auctioneer load --client wrk``: the orders sent by ``wrk``, a C load generator.

The Python generator (:class:`~auctioneer.service.rawhttp.RawHttp`) spends
about 45 µs of CPU per request on the cores the service runs on, so on a
2-core machine it cannot send much more than 13,000 requests/s. ``wrk``
(Debian package ``wrk``: C, epoll, LuaJIT) sends the same bodies for a few
µs each. :func:`lua_script` writes the script it runs: each wrk thread
cycles through the prepared requests of its share of the clients (their
keys, their bodies), counts orders and trades in the answers (``order_id``
and ``aggressor`` keys, as :mod:`~auctioneer.service.load` does with the
parsed JSON), and ``done()`` prints one JSON line with the counts and wrk's
latency percentiles (p90 and the maximum too, for whoever runs the script by
hand; :class:`WrkRun` keeps what ``LoadResult`` holds). :func:`run_wrk` runs
wrk and reads that line and wrk's own CPU time (``wait4``); the cost is one wrk
process start per call, so the loop of a run is wrk's, never Python's.

Example:
    >>> script = lua_script([[("k.1", b'{"side":"buy"}')]], "/orders", single=True)
    >>> "wrk.format" in script and "function done" in script
    True
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import orjson

from auctioneer.measure.timing import Percentiles

__all__ = ["MARK", "WrkRun", "lua_script", "run_wrk", "thread_groups", "wrk_program"]

MARK = "auctioneer-wrk "
"""What starts the script's result line on wrk's standard output."""

_SCRIPT = """
local groups = {%(groups)s}
local path = %(path)s
local single = %(single)s
local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("group", #threads)
end

function init(args)
  requests = {}
  for i, pair in ipairs(groups[group]) do
    requests[i] = wrk.format("POST", path, {["X-API-Key"] = pair[1],
                             ["Content-Type"] = "application/json"}, pair[2])
  end
  turn = 0
  orders = 0
  trades = 0
  statuses = {}
end

function request()
  turn = turn %% #requests + 1
  return requests[turn]
end

-- plain find, not gsub, which built a copy of the body per count: wrk spent 510-533 us
-- per answer of 200 orders with it, 153-155 with this
local function count(body, needle)
  local n, at = 0, 1
  while true do
    at = body:find(needle, at, true)
    if at == nil then return n end
    n, at = n + 1, at + #needle
  end
end

function response(status, headers, body)
  if status == 200 or status == 201 then
    orders = orders + count(body, '"order_id"')
    trades = trades + count(body, '"aggressor"')
  elseif status == 422 and single then
    -- refused by matching (e.g. a post-only): still answered, as load.py counts it
    orders = orders + 1
  else
    local key = "http:" .. status
    statuses[key] = (statuses[key] or 0) + 1
  end
end

function done(summary, latency, requests)
  local orders, trades, errors = 0, 0, {}
  for _, thread in ipairs(threads) do
    orders = orders + thread:get("orders")
    trades = trades + thread:get("trades")
    for key, count in pairs(thread:get("statuses")) do
      errors[key] = (errors[key] or 0) + count
    end
  end
  for _, kind in ipairs({"connect", "read", "write", "timeout"}) do
    if summary.errors[kind] > 0 then errors["error:" .. kind] = summary.errors[kind] end
  end
  local parts = {}
  for key, count in pairs(errors) do table.insert(parts, string.format('"%%s":%%d', key, count)) end
  io.write(string.format('%(mark)s{"requests":%%d,"duration_us":%%d,"orders":%%d,"trades":%%d,'
    .. '"p50_us":%%d,"p90_us":%%d,"p99_us":%%d,"p999_us":%%d,"max_us":%%d,"mean_us":%%f,'
    .. '"errors":{%%s}}\\n', summary.requests, summary.duration, orders, trades,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency:percentile(99.9), latency.max, latency.mean, table.concat(parts, ",")))
end
"""


def _long_string(data: bytes) -> str:
    """``data`` as a Lua long string (no escapes inside, so JSON goes in as it is)."""
    text = data.decode()
    level = 1
    # A text ending in "]" and the level's "="s would close the string early too.
    while f"]{'=' * level}]" in text or text.endswith(f"]{'=' * level}"):
        level += 1
    return f"[{'=' * level}[{text}]{'=' * level}]"


def lua_script(groups: list[list[tuple[str, bytes]]], path: str, single: bool) -> str:
    """The wrk script: thread ``i`` cycles through ``groups[i]``'s ``(api key, body)`` POSTs
    to ``path``; ``single`` counts a 422 as an answered order (``POST /orders``).

    Size is linear in the bodies; wrk builds each request string once, in ``init``.
    """
    tables = ",\n".join(
        "{" + ", ".join(f"{{{_long_string(key.encode())}, {_long_string(body)}}}"
                        for key, body in group) + "}"
        for group in groups)
    return _SCRIPT % {"groups": tables, "path": _long_string(path.encode()),
                      "single": "true" if single else "false", "mark": MARK}


@dataclass(frozen=True, slots=True)
class WrkRun:
    """What one wrk run counted and measured."""

    requests: int
    orders: int
    trades: int
    errors: dict[str, int]
    elapsed_s: float
    latency_ms: Percentiles
    mean_ms: float
    cpu_s: float
    """wrk's own CPU, user and system, all its threads."""


def wrk_program() -> str | None:
    """The ``wrk`` program on ``PATH`` (None when it is not installed)."""
    return shutil.which("wrk")


def thread_groups(clients: list[tuple[str, list[bytes]]], cores: int
                  ) -> list[list[tuple[str, bytes]]]:
    """Per wrk thread, the ``(api key, body)`` requests it cycles through: the clients dealt
    round-robin over the most threads (at most ``cores``) that divide the clients evenly,
    since wrk gives each thread ``connections // threads`` connections; each client's bodies
    in turn, as many turns as the client with the fewest.

    Example:
        >>> thread_groups([("a", [b"1", b"2"]), ("b", [b"3"]), ("c", [b"4"])], 2)
        [[('a', b'1'), ('b', b'3'), ('c', b'4')]]
    """
    threads = max(t for t in range(1, min(len(clients), cores) + 1) if len(clients) % t == 0)
    groups = []
    for first in range(threads):
        mine = clients[first::threads]
        turns = min(len(bodies) for _, bodies in mine)
        groups.append([(key, bodies[turn]) for turn in range(turns) for key, bodies in mine])
    return groups


def run_wrk(program: str, url: str, clients: list[tuple[str, list[bytes]]], path: str,
            seconds: int, scratch: Path) -> WrkRun:
    """Run ``program`` (wrk) against ``url`` for ``seconds``, one keep-alive connection per
    client (``(api key, bodies)``), one wrk thread per core at most; each thread sends its
    clients' bodies in turn (the script in ``scratch``).

    RuntimeError when wrk fails or prints no result line (its output in the message).
    """
    groups = thread_groups(clients, os.cpu_count() or 1)
    threads = len(groups)
    script_path = scratch / "orders.lua"
    script_path.write_text(lua_script(groups, path, single=path == "/orders"))
    argv = [program, "--threads", str(threads), "--connections", str(len(clients)),
            "--duration", f"{seconds}s", "--timeout", "30s", "--latency",
            "--script", str(script_path), url]
    with subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT) as wrk:
        assert wrk.stdout is not None
        output = wrk.stdout.read().decode(errors="replace")
        # wait4 rather than wait: the child's own rusage, the generator's CPU.
        _, status, usage = os.wait4(wrk.pid, 0)
        wrk.returncode = os.waitstatus_to_exitcode(status)
    line = next((x for x in output.splitlines() if x.startswith(MARK)), None)
    if wrk.returncode != 0 or line is None:
        raise RuntimeError(f"wrk exited {wrk.returncode} without a result: {output.strip()}")
    data = orjson.loads(line[len(MARK):])
    return WrkRun(
        requests=data["requests"], orders=data["orders"], trades=data["trades"],
        errors=data["errors"], elapsed_s=data["duration_us"] / 1e6,
        latency_ms=Percentiles(data["p50_us"] / 1e3, data["p99_us"] / 1e3,
                               data["p999_us"] / 1e3),
        mean_ms=data["mean_us"] / 1e3, cpu_s=usage.ru_utime + usage.ru_stime)
