"""Errors as JSON that names the field: ``{"error": ..., "field": ..., "details": [...]}``.

Every 4xx the service sends has this shape, whether it came from pydantic
(a bad value, malformed JSON), from the engine (a rejected command), from
auth, from the rate limiter or from the body-size guard, so a client can
always point at the offending field.

Example:
    >>> field_name(("body", "orders", 3, "price"))
    'orders[3].price'
    >>> field_name(("body", 17))
    'body'
    >>> field_name(("query", "depth"))
    'depth'
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = [
    "ApiError",
    "BodyLimit",
    "error_body",
    "error_response",
    "field_name",
    "install_handlers",
]


class ApiError(Exception):
    """A request the service refuses: HTTP ``status``, the offending ``field``, a message."""

    def __init__(self, status: int, field: str, message: str,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(f"{field}: {message}")
        self.status = status
        self.field = field
        self.message = message
        self.headers = headers


def field_name(loc: Sequence[int | str]) -> str:
    """A pydantic error location as a field path; ``body`` for the body as a whole."""
    parts = list(loc)
    if parts and parts[0] in ("body", "query", "path", "header", "cookie"):
        parts = parts[1:]
    if not parts or isinstance(parts[0], int):
        # A position in malformed JSON, or the body itself: the body is at fault.
        return "body"
    out = str(parts[0])
    for part in parts[1:]:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


def error_body(field: str, message: str,
               details: list[dict[str, str]] | None = None) -> dict[str, Any]:
    """The JSON of one error."""
    return {"error": message, "field": field,
            "details": details or [{"field": field, "message": message}]}


def error_response(status: int, field: str, message: str,
                   details: list[dict[str, str]] | None = None,
                   headers: dict[str, str] | None = None) -> Response:
    """An error as a response."""
    return Response(orjson.dumps(error_body(field, message, details)), status,
                    headers=headers, media_type="application/json")


def _validation(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    details = [{"field": field_name(e.get("loc", ())), "message": str(e.get("msg", "invalid"))}
               for e in exc.errors()]
    if not details:
        details = [{"field": "body", "message": "invalid request"}]
    first = details[0]
    return error_response(422, first["field"], first["message"], details)


def _api(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return error_response(exc.status, exc.field, exc.message, headers=exc.headers)


def _http(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    field = "path" if exc.status_code in (404, 405) else "request"
    headers = dict(exc.headers) if exc.headers else None
    return error_response(exc.status_code, field, str(exc.detail), headers=headers)


def install_handlers(app: FastAPI) -> None:
    """Make every error of ``app`` answer in the one JSON shape."""
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(ApiError, _api)
    app.add_exception_handler(StarletteHTTPException, _http)


class _TooLarge(Exception):
    pass


class BodyLimit:
    """ASGI middleware: a body over ``limit`` bytes gets 413 naming ``body``, unread.

    Checks the declared Content-Length first, then counts what actually
    arrives (a chunked body declares nothing).
    """

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                declared = int(value) if value.isdigit() else -1
                if declared > self.limit or declared < 0:
                    await self._refuse(scope, receive, send)
                    return
        seen = 0
        started = False

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.limit:
                raise _TooLarge
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except _TooLarge:
            if not started:
                await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = error_response(
            413, "body", f"request body exceeds {self.limit} bytes",
            headers={"Connection": "close"})
        await response(scope, receive, send)
