"""The service's refusals as exceptions that carry the field.

Every 4xx and 5xx the exchange sends is ``{"error", "field", "details"}``;
:class:`ApiError` keeps them, so a caller can point at the offending field
(``orders[3].price``, ``quantity``, ``X-API-Key``) without parsing a message.

Example:
    >>> err = ApiError(422, "price", "2000500 is not on the tick 1000")
    >>> err.field, err.status
    ('price', 422)
    >>> str(err)
    'HTTP 422 on price: 2000500 is not on the tick 1000'
"""

from __future__ import annotations

from typing import Any

__all__ = ["ApiError", "error_from"]


class ApiError(Exception):
    """A request the exchange refused: HTTP ``status``, the ``field`` at fault and why.

    ``details`` lists every field's problem when validation found several;
    ``retry_after_s`` is set on a 429 (rate limited).
    """

    def __init__(self, status: int, field: str, message: str,
                 details: tuple[tuple[str, str], ...] = (),
                 retry_after_s: float | None = None) -> None:
        super().__init__(f"HTTP {status} on {field}: {message}")
        self.status = status
        self.field = field
        self.message = message
        self.details = details or ((field, message),)
        self.retry_after_s = retry_after_s


def error_from(status: int, body: bytes, headers: dict[str, str]) -> ApiError:
    """The :class:`ApiError` for an error response (any body, even one that is not JSON)."""
    import orjson

    try:
        data: Any = orjson.loads(body)
    except orjson.JSONDecodeError:
        data = None
    retry = headers.get("retry-after")
    retry_s = float(retry) if retry and retry.replace(".", "", 1).isdigit() else None
    if not isinstance(data, dict) or "field" not in data:
        text = body.decode("utf-8", "replace").strip()[:200] or "no body"
        return ApiError(status, "response", text, retry_after_s=retry_s)
    details = tuple((str(d.get("field", "")), str(d.get("message", "")))
                    for d in data.get("details") or () if isinstance(d, dict))
    return ApiError(status, str(data["field"]), str(data.get("error", "")), details, retry_s)
