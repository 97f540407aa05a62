"""The REST API as an OpenAPI 3.1 document, generated from the routes' own declarations.

Each routes module declares an ``Operation`` per route, once: its path and method, the
msgspec types it reads and writes, its endpoint and the least role it needs.  The routes
are made from them (hub/api/routes.py) and so is this document: ``/openapi.json`` serves
it, docs/openapi.json is its committed copy, and a test keeps both equal.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from hub.errors import CODES
from hub.operations.users import Role
from hub.schemas import components


class ErrorDetail(msgspec.Struct, omit_defaults=True):
    code: str
    message: str  # in English, for the log and the developer
    # What the message is about, for a client to word it (the keys each code carries are
    # in the document's description); absent when the code carries none.
    details: dict[str, Any] | None = None


class ErrorBody(msgspec.Struct):
    """Every REST error: a code from the registry and a human message."""

    error: ErrorDetail


@dataclass(frozen=True)
class Param:
    name: str
    description: str
    minimum: int = 0
    maximum: int = 2**53
    kind: str = "integer"  # or "string"

    def schema(self) -> dict[str, Any]:
        if self.kind == "string":
            return {"type": "string"}
        return {"type": "integer", "minimum": self.minimum, "maximum": self.maximum}


PAGE_PARAMS = (
    Param("after", "ids greater than this (the last id of the previous page)"),
    Param("limit", "at most this many", 1, 1000),
)


Endpoint = Callable[[Request], Awaitable[Response]]


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    summary: str
    response: Any = None  # a msgspec type, or None for a plain text body
    status: int = 200
    body: Any = None
    query: tuple[Param, ...] = ()
    errors: tuple[int, ...] = ()
    media_type: str = "application/json"
    request_media_type: str = "application/json"
    refusals: dict[int, Any] | None = None  # statuses whose body is not ErrorBody
    endpoint: Endpoint | None = None  # what answers it (hub/api/routes.py serves it)
    role: Role | None = None  # the least role a console token needs; None: no console token


def document(operations: list[Operation], version: str = "1") -> dict[str, Any]:
    types = [t for op in operations for t in (op.response, op.body) if t is not None]
    types += [t for op in operations for t in (op.refusals or {}).values()]
    schemas = components([*types, ErrorBody])
    paths: dict[str, dict[str, Any]] = {}
    for op in operations:
        paths.setdefault(op.path, {})[op.method.lower()] = _operation(op)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Dispatch hub REST API",
            "version": version,
            "description": "Errors are always ErrorBody; codes, with the keys of"
            " error.details each carries: "
            + ", ".join(
                f"{c} ({', '.join(info.details)})" if info.details else c
                for c, info in sorted(CODES.items())
                if info.severity == "error"
            )
            + ". A POST, PUT, PATCH or DELETE with an Idempotency-Key header (1 to 255"
            " printable ASCII characters) is answered once: sent again with the same key and"
            " request it gets the first answer, marked Idempotent-Replayed: true (not on"
            " logins, provider registration and app tokens, whose answers are never stored).",
        },
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "console": {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "JWT",
                    "description": "A console session token (POST /auth/login) or a CLI admin"
                    " token (hub admin token); each operation names the least role it needs.",
                }
            },
        },
    }


def implied(op: Operation) -> set[int]:
    """The error statuses every operation of its shape may answer, whatever its own list
    says: 401/403 behind a role, 413 with a body (hub/api/body_limit.py), 400 for a body,
    a query or a path id that cannot be used, 404 for a path id that names nothing."""
    statuses: set[int] = set()
    if op.role is not None:
        statuses |= {401, 403}
    if op.method in ("POST", "PUT", "PATCH"):
        statuses |= {400, 413}
    if op.query or "{" in op.path:
        statuses.add(400)
    if re.search(r"{\w+_id}", op.path):
        statuses.add(404)
    return statuses


def _operation(op: Operation) -> dict[str, Any]:
    parameters = [
        {
            "name": name,
            "in": "path",
            "required": True,
            "schema": {"type": "integer" if name.endswith("_id") else "string"},
        }
        for name in re.findall(r"{(\w+)}", op.path)
    ] + [
        {
            "name": p.name,
            "in": "query",
            "required": False,
            "description": p.description,
            "schema": p.schema(),
        }
        for p in op.query
    ]
    content = (
        {op.media_type: {"schema": _ref(op.response)}}
        if op.response is not None
        else {op.media_type: {"schema": {"type": "string"}}}
    )
    responses: dict[str, Any] = (
        {"204": {"description": "Done; no content"}}
        if op.status == 204
        else {str(op.status): {"description": "OK", "content": content}}
    )
    for status in sorted({*op.errors, *implied(op)}):
        responses[str(status)] = {
            "description": "Error",
            "content": {"application/json": {"schema": _ref(ErrorBody)}},
        }
    for status, kind in (op.refusals or {}).items():
        responses[str(status)] = {
            "description": "Refused",
            "content": {"application/json": {"schema": _ref(kind)}},
        }
    entry: dict[str, Any] = {"summary": op.summary, "responses": responses}
    if op.role is not None:
        entry["description"] = (
            f"Needs a console token (Authorization: Bearer) of the {op.role.value} role or"
            " above, or a CLI admin token."
        )
    if parameters:
        entry["parameters"] = parameters
    if op.body is not None:
        entry["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": _ref(op.body)}},
        }
    elif op.request_media_type != "application/json":
        entry["requestBody"] = {
            "required": True,
            "content": {op.request_media_type: {"schema": {"type": "string"}}},
        }
    if op.role is not None:
        entry["security"] = [{"console": []}]
    return entry


def _ref(kind: Any) -> dict[str, Any]:
    schema: dict[str, Any] = msgspec.json.schema(kind, ref_template="#/components/schemas/{name}")
    schema.pop("$defs", None)
    return schema


def render(operations: list[Operation]) -> str:
    return msgspec.json.format(msgspec.json.encode(document(operations)), indent=2).decode() + "\n"
