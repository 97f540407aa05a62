"""JSON responses and the mapping of hub errors to ``{"error": {"code", "message",
"details"}}``."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, TypeVar

import msgspec
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Send

from hub.errors import CODES, BadRequest, HubError

_encoder = msgspec.json.Encoder()
T = TypeVar("T")


class JSON(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return _encoder.encode(content)


def error_body(
    code: str, message: str, details: Mapping[str, object] | None = None
) -> dict[str, Any]:
    """``{"error": {"code", "message"}}``, with ``details`` when the code carries some."""
    error: dict[str, Any] = {"code": code, "message": message}
    if details:
        error["details"] = details
    return {"error": error}


async def send_error(
    send: Send, code: str, message: str, headers: Mapping[str, str] | None = None
) -> None:
    """An error answer written straight to an ASGI ``send``, for the middleware that
    answers before any route: the same body and status the routes give (``_hub_error``)."""
    response = JSON(error_body(code, message), CODES[code].http_status, headers=headers)
    await send(
        {
            "type": "http.response.start",
            "status": response.status_code,
            "headers": response.raw_headers,
        }
    )
    await send({"type": "http.response.body", "body": response.body})


async def _hub_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HubError)
    body = error_body(exc.code, exc.message, exc.details())
    return JSON(body, status_code=exc.http_status, headers=exc.headers())


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    code = {404: "not_found", 405: "bad_request"}.get(exc.status_code, "bad_request")
    return JSON(error_body(code, exc.detail), status_code=exc.status_code)


def error_handlers() -> dict[Any, Any]:
    return {HubError: _hub_error, HTTPException: _http_error}


async def body_as(request: Request, kind: type[T]) -> T:
    """Decode a JSON body into ``kind``; BadRequest naming the bad field otherwise (a NUL
    character in any string included: no store keeps one)."""
    body = await request.body()
    if b"\\u0000" in body or b"\x00" in body:
        raise BadRequest("invalid body: NUL characters are not accepted")
    try:
        return msgspec.json.decode(body, type=kind)
    except msgspec.ValidationError as exc:
        raise invalid_field(exc) from None
    except msgspec.DecodeError:
        raise BadRequest("body is not valid JSON") from None


_AT = re.compile(r" - at `\$(?:\.(?P<path>[^`]*))?`$")
_MISSING = re.compile(r"^Object missing required field `(?P<name>[^`]+)`")


def invalid_field(exc: msgspec.ValidationError) -> BadRequest:
    """A decoding error as ``invalid_field`` (or ``field_required``) naming the field's path
    (``origin.street``; list indexes dropped), the English message kept as msgspec said it."""
    text = str(exc)
    at = _AT.search(text)
    path = re.sub(r"\[\d+\]", "", (at and at.group("path")) or "")
    missing = _MISSING.match(text)
    if missing is not None:
        field = f"{path}.{missing.group('name')}" if path else missing.group("name")
        return BadRequest(f"invalid body: {text}", problem="required", field=field)
    return BadRequest(f"invalid body: {text}", problem="invalid", field=path or "body")


def int_param(request: Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BadRequest(f"{name} must be an integer, got {raw!r}") from None
    if not low <= value <= high:
        raise BadRequest(f"{name} must be between {low} and {high}, got {value}")
    return value


def path_id(request: Request, name: str) -> int:
    """A positive integer id from the path; BadRequest naming the parameter otherwise."""
    raw = request.path_params[name]
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= 2**53:
        raise BadRequest(f"{name} must be a positive integer, got {raw!r}")
    return int(raw)


def page_params(request: Request) -> tuple[int, int]:
    """(after_id, limit) of a keyset-paginated list: ?after=<last id seen>&limit=<1..1000>."""
    return int_param(request, "after", 0, 0, 2**63 - 1), int_param(request, "limit", 100, 1, 1000)


MAX_CSV_BYTES = 10 * 1024 * 1024


async def csv_body(request: Request) -> str:
    """The request body as CSV text: UTF-8 (at most MAX_CSV_BYTES: hub/api/body_limit.py)."""
    body = await request.body()
    if b"\x00" in body:
        raise BadRequest("the CSV has NUL characters")
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        raise BadRequest("the CSV must be UTF-8") from None
