"""The orders' lane on the wire against the ASGI way (the reference): two httptools services,
one answering order posts in its HTTP protocol and one through ASGI, take the same bytes on
the same connections (one at a time, pipelined, split anywhere) and must answer the same
bytes (the date and the order ids and stamps masked) and journal the same commands."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import fields
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from auctioneer.exchange.commands import Tick
from auctioneer.exchange.journal import JournalReader
from auctioneer.service.errors import read_head
from auctioneer.service.wire import Lane, OrderPost

from .conftest import MARKET, OTHER, Live, fresh_settings, start_live, stop_live

_BID = {"side": "buy", "market": MARKET, "price": 2_000_000, "quantity": 2}
_ASK = {"side": "sell", "market": MARKET, "price": 2_000_000, "quantity": 3}
_MAX_BODY = 4096


def _post(path: str, body: bytes, key: str | None, *extra: bytes,
          content_type: bytes = b"application/json", version: bytes = b"1.1") -> bytes:
    head = [b"POST " + path.encode() + b" HTTP/" + version, b"Host: t",
            b"Content-Type: " + content_type, b"Content-Length: %d" % len(body), *extra]
    if key is not None:
        head.append(b"X-API-Key: " + key.encode())
    return b"\r\n".join(head) + b"\r\n\r\n" + body


def _get(path: str, key: str) -> bytes:
    return b"GET " + path.encode() + b" HTTP/1.1\r\nHost: t\r\nX-API-Key: " + key.encode() \
        + b"\r\n\r\n"


def _json(path: str, data: Any, who: str = "buyer") -> Callable[[dict[str, str]], bytes]:
    body = json.dumps(data, separators=(",", ":")).encode()  # orjson stops at 64 bits
    return lambda keys: _post(path, body, keys[who])


def _chunked(keys: dict[str, str]) -> bytes:
    body = orjson.dumps(_BID)
    return (b"POST /orders HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
            b"Transfer-Encoding: chunked\r\nX-API-Key: " + keys["buyer"].encode()
            + b"\r\n\r\n%x\r\n" % len(body) + body + b"\r\n0\r\n\r\n")


# Each request as bytes for a service's keys; every one ends in an answer.
REQUESTS: dict[str, Callable[[dict[str, str]], bytes]] = {
    "ask": _json("/orders", _ASK, "seller"),
    "bid": _json("/orders", _BID),
    "ioc": _json("/orders", {**_BID, "tif": "ioc", "price": 1_000_000}),
    "market": _json("/orders", {"type": "market", "side": "buy", "market": MARKET,
                                "quantity": 1, "max_spend": 5_000_000}),
    "fok": _json("/orders", {"type": "market", "side": "buy", "market": MARKET,
                             "quantity": 50, "max_spend": 10**9, "tif": "fok"}),
    "unlisted": _json("/orders", {**_BID, "market": "nowhere/none"}),
    "off tick": _json("/orders", {**_BID, "price": 2_000_500}),
    "2^63": _json("/orders", {**_BID, "quantity": 2**63}),
    "10^30": _json("/orders", {**_BID, "price": 10**30}),
    "too dear": _json("/orders", {**_BID, "quantity": 10**12}),
    "other market": _json("/orders", {**_ASK, "market": OTHER, "price": 40_000}),
    "two markets": _json("/orders", {**_BID, "markets": [MARKET, OTHER], "market": None,
                                     "price": 1_000_000}),
    "extra field": _json("/orders", {**_BID, "extra": 1}),
    "bad key": lambda keys: _post("/orders", orjson.dumps(_BID), "nobody.0123456789abcdef"),
    "no key": lambda keys: _post("/orders", orjson.dumps(_BID), None),
    "malformed": lambda keys: _post("/orders", b'{"side": "buy",', keys["buyer"]),
    "not utf-8": lambda keys: _post("/orders", b'{"side": "buy\xff"}', keys["buyer"]),
    "text": lambda keys: _post("/orders", orjson.dumps(_BID), keys["buyer"],
                               content_type=b"text/plain"),
    "two types": lambda keys: _post("/orders", orjson.dumps(_BID), keys["buyer"],
                                    b"Content-Type: application/json", content_type=b"text/plain"),
    "empty": lambda keys: _post("/orders", b"", keys["buyer"]),
    "query": lambda keys: _post("/orders?x=1", orjson.dumps(_BID), keys["buyer"]),
    "http/1.0": lambda keys: _post("/orders", orjson.dumps(_BID), keys["buyer"],
                                   version=b"1.0"),
    "close": lambda keys: _post("/orders", orjson.dumps(_BID), keys["buyer"],
                                b"Connection: close"),
    "expect": lambda keys: _post("/orders", orjson.dumps(_BID), keys["buyer"],
                                 b"Expect: 100-continue"),
    "chunked": _chunked,
    "too large": lambda keys: _post("/orders", b" " * (_MAX_BODY + 1), keys["buyer"]),
    "many headers": lambda keys: _post("/orders", orjson.dumps(_BID), keys["buyer"],
                                       *[b"X-%d: 1" % i for i in range(30)]),
    "long head": lambda keys: _post("/orders", orjson.dumps(_BID), keys["buyer"],
                                    b"X-Pad: " + b"a" * 2100),
    "batch": _json("/orders/batch", {"orders": [_ASK, _BID, {**_BID, "tif": "fok"}]},
                   "seller"),
    "batch bids": _json("/orders/batch", {"orders": [_BID, _BID]}),
    "batch off tick": _json("/orders/batch", {"orders": [_BID, {**_BID, "price": 2_000_500}]}),
    "batch empty": _json("/orders/batch", {"orders": []}),
    "batch extra": _json("/orders/batch", {"orders": [_BID], "more": 1}),
    "batch burst": _json("/orders/batch", {"orders": [_BID] * 40}),
    "account": lambda keys: _get("/account", keys["buyer"]),
    "markets": lambda keys: _get("/markets", keys["buyer"]),
}
# What closes the connection after its answer; of those, what is answered from the head.
_EARLY = {"too large", "many headers", "long head"}
_CLOSING = {"http/1.0", "close", *_EARLY}


def _answers(sock: socket.socket, count: int) -> list[bytes]:
    """Up to ``count`` answers, each whole (head and Content-Length body); fewer if the
    server closes the connection."""
    data, out, answered = b"", [], 0
    while answered < count:
        end = data.find(b"\r\n\r\n")
        if end >= 0:
            head = data[:end + 4]
            if head.startswith(b"HTTP/1.1 1"):  # 100 Continue: no body, and not the answer
                out.append(head)
                data = data[end + 4:]
                continue
            length = int(re.search(rb"content-length: (\d+)", head, re.I)[1])  # type: ignore[index]
            if len(data) >= end + 4 + length:
                out.append(data[:end + 4 + length])
                data = data[end + 4 + length:]
                answered += 1
                continue
        chunk = sock.recv(1 << 20)
        if not chunk:
            break
        data += chunk
    return out


def _masked(answer: bytes) -> bytes:
    answer = re.sub(rb"date: [^\r]*\r\n", b"date: *\r\n", answer)
    answer = re.sub(rb'"o[0-9a-f]{16}"', b'"o*"', answer)
    return re.sub(rb'"ts_ns":\d+', b'"ts_ns":*', answer)


def _exchange(live: Live, pieces: list[bytes], count: int, pipelined: bool) -> list[bytes]:
    """Send ``pieces`` on one connection (all at once if ``pipelined``, else each after the
    answer before); the answers, masked."""
    with socket.create_connection((live.settings.host, live.settings.port), timeout=30) as sock:
        if pipelined:
            for piece in pieces:
                sock.sendall(piece)
                time.sleep(0.002)  # a read per piece: the parser's callbacks split there
            return [_masked(a) for a in _answers(sock, count)]
        out = []
        for piece in pieces[:count]:  # none after one that closes the connection
            sock.sendall(piece)
            got = _answers(sock, 1)
            out += [_masked(a) for a in got]
            if not got:
                break
        return out


def _commands(live: Live) -> list[str]:
    """The journaled commands but ticks, stamps and order ids masked."""
    with JournalReader(live.settings.data_dir / "journal") as reader:
        records = reader.poll()
    out = []
    for _, command in records:
        if isinstance(command, Tick):
            continue
        values = {f.name: getattr(command, f.name) for f in fields(command)}
        values = {k: "*" if k in ("ts_ns", "order_id") else v for k, v in values.items()}
        out.append(f"{type(command).__name__}{values}")
    return out


# Both loops: call_soon and I/O callbacks interleave differently on uvloop, which
# ``auctioneer serve`` runs, and on asyncio's own loop.
@pytest.fixture(scope="module", params=["asyncio", "uvloop"])
def both(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
         ) -> Iterator[list[tuple[Live, dict[str, str]]]]:
    services = []
    started = OrderPost.start
    _POSTS.clear()

    def counted(post: OrderPost) -> None:
        _POSTS.append(post.single)
        started(post)

    with pytest.MonkeyPatch.context() as patched:
        patched.setattr(OrderPost, "start", counted)
        try:
            yield _started(request.param, tmp_path_factory, services)
        finally:
            for live in services:
                stop_live(live)


def _started(loop: str, tmp_path_factory: pytest.TempPathFactory, services: list[Live]
             ) -> list[tuple[Live, dict[str, str]]]:
    """The wire's service and the reference on ``loop``, each with the two markets, a seller
    and a buyer (appended to ``services`` as they start, for the caller to stop)."""
    for wire in (True, False):
        root = tmp_path_factory.mktemp(("wire-" if wire else "asgi-") + loop)
        settings_ = fresh_settings(root, max_body=_MAX_BODY, max_head=2048, max_headers=20,
                                   keep_journal=True, tick_interval_s=3600.0)
        services.append(start_live(settings_, "httptools", wire=wire, loop=loop))
    out = []
    for live in services:
        live.market(MARKET, tick=1_000, base=2_000_000)
        live.market(OTHER, tick=100, base=40_000)
        keys = {"seller": live.provider("seller"),
                "buyer": live.account("buyer", deposit=600_000_000)}
        out.append((live, keys))
    return out


_POSTS: list[bool] = []  # each OrderPost started: whether it carried one order


def _same(both: list[tuple[Live, dict[str, str]]], names: list[str], pipelined: bool,
          cut: Callable[[bytes], list[bytes]] | None = None) -> list[bytes]:
    for i, name in enumerate(names):
        if name in _CLOSING:  # nothing after it: the server may reset what it did not read
            names = names[:i + 1]
            break
    expected = len(names)
    seen = []
    for live, keys in both:
        stream = [REQUESTS[name](keys) for name in names]
        pieces = stream
        if cut is not None:
            # A request answered from its head and closed is sent whole: the server may
            # close before the rest of it arrives, and reset the connection.
            whole = stream[-1:] if names[-1] in _EARLY else []
            pieces = cut(b"".join(stream[:len(stream) - len(whole)])) + whole
        seen.append(_exchange(live, pieces, expected, pipelined))
    wire, reference = seen
    assert wire == reference, names
    answers = [a for a in wire if not a.startswith(b"HTTP/1.1 1")]
    assert len(answers) == expected, (names, wire)
    return answers


def test_every_request_one_at_a_time_answers_as_asgi(
        both: list[tuple[Live, dict[str, str]]]) -> None:
    statuses = set()
    for name in REQUESTS:
        [answer] = _same(both, [name], pipelined=False)
        statuses.add(int(answer.split(b" ")[1]))
    assert {200, 201, 401, 413, 422, 431} <= statuses
    assert {True, False} <= set(_POSTS)  # the wire answered both kinds, on one server only
    assert _commands(both[0][0]) == _commands(both[1][0])


def test_keep_alive_and_pipelined_answer_in_order(
        both: list[tuple[Live, dict[str, str]]]) -> None:
    names = ["ask", "bid", "account", "malformed", "batch", "bid", "text", "batch bids",
             "extra field", "markets", "bid", "query", "chunked", "bid", "close", "bid"]
    assert len(_same(both, names, pipelined=False)) == names.index("close") + 1
    assert len(_same(both, names, pipelined=True)) == names.index("close") + 1
    assert _commands(both[0][0]) == _commands(both[1][0])


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(names=st.lists(st.sampled_from(sorted(REQUESTS)), min_size=1, max_size=8),
       pipelined=st.booleans(), cuts=st.lists(st.integers(1, 2000), max_size=6))
def test_any_requests_split_anywhere_answer_as_asgi(
        both: list[tuple[Live, dict[str, str]]], names: list[str], pipelined: bool,
        cuts: list[int]) -> None:
    """Drawn requests on one connection, the bytes cut at drawn offsets when pipelined."""
    def cut(stream: bytes) -> list[bytes]:
        if not stream:
            return []
        at = sorted({c % len(stream) for c in cuts} - {0})
        return [stream[a:b] for a, b in zip([0, *at], [*at, len(stream)], strict=True)]

    _same(both, names, pipelined, cut if pipelined else None)
    assert _commands(both[0][0]) == _commands(both[1][0])


def test_the_lane_judges_a_head_by_the_limits() -> None:
    lane = Lane(object(), max_body=10, max_headers=3)
    json = (b"content-type", b"application/json")

    def judged(headers: list[tuple[bytes, bytes]], max_head: int) -> int:
        return lane.head_ok(read_head(headers), len(headers), max_head)

    assert judged([json, (b"content-length", b"10")], 100) == 10
    assert judged([json, (b"content-length", b"11")], 100) == -1  # 413 the ASGI way
    assert judged([json, (b"content-length", b"0")], 100) == -1
    assert judged([json, (b"content-length", b"1e3")], 100) == -1
    assert judged([json, (b"content-length", b"9" * 30)], 100) == -1
    assert judged([(b"content-length", b"5")], 100) == -1  # not JSON
    assert judged([(b"content-type", b"text/plain"), json, (b"content-length", b"5")],
                  100) == -1  # the first type decides
    assert judged([json, (b"content-length", b"5"), (b"transfer-encoding", b"x")],
                  100) == -1
    assert judged([json, (b"content-length", b"5")] * 2, 100) == -1  # 4 fields
    size = len(json[0] + json[1]) + len(b"content-length5")
    assert judged([json, (b"content-length", b"5")], size) == 5
    assert judged([json, (b"content-length", b"5")], size - 1) == -1  # 431


@pytest.mark.parametrize("loop", ["asyncio", "uvloop"])
def test_an_order_in_flight_at_shutdown_is_answered_and_journaled(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, loop: str) -> None:
    """uvicorn's graceful shutdown: what the connection has sent is answered, the last
    answer closes it (uvicorn marks its last request), and every order answered is kept."""
    live = start_live(fresh_settings(tmp_path, keep_journal=True, tick_interval_s=3600.0),
                      "httptools", wire=True, loop=loop)
    try:
        live.market(MARKET, tick=1_000, base=2_000_000)
        keys = {"buyer": live.account("buyer", deposit=600_000_000)}
        queue = live.service.sequencer.queue_built

        def held(count: int, build: Any) -> asyncio.Future[Any]:
            """The outcomes a second late: the shutdown begins while the order waits."""
            inner = queue(count, build)
            running = asyncio.get_running_loop()
            outer = running.create_future()
            inner.add_done_callback(lambda done: running.call_later(
                1.0, outer.set_result, done.result()))
            return outer

        monkeypatch.setattr(live.service.sequencer, "queue_built", held)
        with socket.create_connection((live.settings.host, live.settings.port),
                                      timeout=30) as sock:
            sock.sendall(REQUESTS["bid"](keys) * 3)
            time.sleep(0.2)
            live.server.should_exit = True
            answers = _answers(sock, 3)
            assert sock.recv(1) == b""
    finally:
        stop_live(live)
    assert len(answers) == 3 and all(a.startswith(b"HTTP/1.1 201 ") for a in answers)
    assert [b"connection: close\r\n" in a for a in answers] == [False, False, True]
    assert len([c for c in _commands(live) if c.startswith("PlaceOrder")]) == 3


@contextlib.contextmanager
def _unread(live: Live, data: bytes) -> Iterator[tuple[socket.socket, threading.Thread]]:
    """A connection with a small receive buffer sending ``data`` from a thread while the
    caller does not read yet: the server's transport fills and pauses."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.settimeout(60)
        sock.connect((live.settings.host, live.settings.port))
        sender = threading.Thread(target=sock.sendall, args=(data,))
        sender.start()
        yield sock, sender


_FLOOD = 24_000


def test_a_client_that_does_not_read_pauses_the_answers(
        both: list[tuple[Live, dict[str, str]]], monkeypatch: pytest.MonkeyPatch) -> None:
    """Flow control: hundreds of pipelined posts to a client with a small receive buffer
    that waits before reading fill the server's transport; the next request waits for it
    to drain (uvicorn's send waits likewise), and every answer still comes, in order."""
    drained = []
    drain = OrderPost._drained

    async def counted(post: OrderPost) -> None:
        drained.append(post)
        await drain(post)

    monkeypatch.setattr(OrderPost, "_drained", counted)
    seen = []
    for live, keys in both:
        # Refused before the rate limit; 6 MB of answers, past what the kernel buffers (4 MB)
        stream = REQUESTS["bad key"](keys) * _FLOOD
        with _unread(live, stream) as (sock, sender):
            deadline = time.monotonic() + 30  # the answers pile up meanwhile
            while live is both[0][0] and not drained and time.monotonic() < deadline:
                time.sleep(0.05)
            seen.append([_masked(a) for a in _answers(sock, _FLOOD)])
            sender.join(60)
    wire, reference = seen
    assert len(wire) == _FLOOD and wire == reference
    assert drained, "the wire's transport never paused"


def test_many_refusals_pipelined_behind_an_order_are_answered(
        both: list[tuple[Live, dict[str, str]]]) -> None:
    """Refusals answered at once, queued behind an order that waits for the journal: each
    starts the next when answered, which must not nest (uvicorn starts each in a task)."""
    seen = []
    for live, keys in both:
        stream = REQUESTS["bid"](keys) + REQUESTS["bad key"](keys) * 3000
        with socket.create_connection((live.settings.host, live.settings.port),
                                      timeout=60) as sock:
            sock.sendall(stream)
            seen.append([_masked(a) for a in _answers(sock, 3001)])
    wire, reference = seen
    assert len(wire) == 3001 and wire == reference


def test_a_request_behind_a_closing_refusal_does_not_run(
        both: list[tuple[Live, dict[str, str]]]) -> None:
    """A refusal that ends the connection (HTTP/1.0, or Connection: close) is its last
    answer: a cancel sent behind it in the same write is never run."""
    for live, _ in both:
        key = live.account("closer")  # its own money: the tests before spend the buyer's
        for extra, version in ((b"Connection: keep-alive", b"1.0"),
                               (b"Connection: close", b"1.1")):
            placed = live.post("/orders", _BID, key)
            assert placed.status_code == 201, placed.text
            order_id = placed.json()["order_id"]
            refused = _post("/orders", orjson.dumps(_BID), "nobody.0123456789abcdef", extra,
                            version=version)
            cancel = (b"DELETE /orders/" + order_id.encode() + b" HTTP/1.1\r\nHost: t\r\n"
                      b"X-API-Key: " + key.encode() + b"\r\n\r\n")
            with socket.create_connection((live.settings.host, live.settings.port),
                                          timeout=10) as sock:
                sock.sendall(refused + cancel)
                answers = _answers(sock, 2)
            assert [a[:12] for a in answers] == [b"HTTP/1.1 401"], answers
            live.wait_projected()
            with live.client(key) as client:
                assert client.get(f"/orders/{order_id}").json()["status"] == "open"


def test_a_request_behind_a_slow_one_waits_for_it(
        both: list[tuple[Live, dict[str, str]]]) -> None:
    """Refusals piling up in a paused transport ahead of a stream: the posts behind the
    stream wait for it (pipelined, as uvicorn's send waits for the drain) and are never
    written inside its body."""
    for live, keys in both:
        stream = _get("/stream", keys["buyer"])
        data = REQUESTS["bad key"](keys) * 30_000 + stream + REQUESTS["bad key"](keys) * 3
        with _unread(live, data) as (sock, sender):
            time.sleep(2)  # not reading: the server's transport fills and pauses
            got = b""
            sock.settimeout(3)
            with contextlib.suppress(TimeoutError):
                while chunk := sock.recv(1 << 20):
                    got += chunk
            sender.join(30)
        # The stream and the posts queued behind it hold the connection open (reading
        # paused, the client's close unseen): end the stream, as a shutdown does.
        live.service.end_streams()
        heads = re.findall(rb"HTTP/1.1 (\d+)", got)
        assert heads == [b"401"] * 30_000 + [b"200"], (live is both[0][0], heads[-5:])
