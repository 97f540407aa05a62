"""Idempotency keys in the records store: what a request sent with a key answered.

A row is claimed (inserted, its answer still empty) before the request runs, so a second
request with the same key, arriving while the first runs, finds it and is told so instead
of acting twice; the answer is kept once the first finishes, and a failure (5xx) releases
the key for a retry.  The SQL is written once with ``?`` placeholders; the PostgreSQL
adaptor numbers them (``hub/state/dispatch_sql.py``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Protocol

import msgspec

CLAIM_SQL = (
    "INSERT INTO idempotency_keys (scope, key, fingerprint, created_ms) VALUES (?, ?, ?, ?)"
    " ON CONFLICT (scope, key) DO NOTHING"
)
FOUND_SQL = (
    "SELECT fingerprint, status, content_type, body, created_ms FROM idempotency_keys"
    " WHERE scope = ? AND key = ?"
)
TAKE_OVER_SQL = (
    "UPDATE idempotency_keys SET created_ms = ? WHERE scope = ? AND key = ?"
    " AND status IS NULL AND created_ms < ?"
)
FINISH_SQL = (
    "UPDATE idempotency_keys SET status = ?, content_type = ?, body = ? WHERE scope = ? AND key = ?"
)
RELEASE_SQL = "DELETE FROM idempotency_keys WHERE scope = ? AND key = ? AND status IS NULL"
EXPIRE_SQL = "DELETE FROM idempotency_keys WHERE created_ms < ?"


class Stored(msgspec.Struct, frozen=True, kw_only=True):
    """A key's row: the request it belongs to (a hash) and, once known, its answer."""

    fingerprint: str
    status: int | None  # None while the first request runs
    content_type: str
    body: bytes
    created_ms: int


class IdempotencyRecords(Protocol):
    async def claim(self, scope: str, key: str, fingerprint: str, now_ms: int) -> Stored | None:
        """Claim a key for a request: None when it was free (run the request), else the
        row already there."""

    async def take_over(self, scope: str, key: str, now_ms: int, stale_before_ms: int) -> bool:
        """Claim a key whose request never finished (claimed before ``stale_before_ms``,
        its node gone); False when it finished or was taken over meanwhile."""

    async def finish(
        self, scope: str, key: str, status: int, content_type: str, body: bytes
    ) -> None:
        """Keep the answer of a claimed key's request."""

    async def release(self, scope: str, key: str) -> None:
        """Free a claimed key whose request failed, so that a retry runs again."""

    async def expire(self, before_ms: int) -> int:
        """Forget keys claimed before ``before_ms``; how many."""


Fetch = Callable[..., Awaitable[list[Any]]]
Execute = Callable[..., Awaitable[int]]  # (sql, *args) -> rows affected


class IdempotencyKeys:
    """IdempotencyRecords over an engine's ``fetch`` and ``execute`` (``?`` placeholders)."""

    def __init__(self, fetch: Fetch, execute: Execute) -> None:
        self.fetch = fetch
        self.execute = execute

    async def claim(self, scope: str, key: str, fingerprint: str, now_ms: int) -> Stored | None:
        if await self.execute(CLAIM_SQL, scope, key, fingerprint, now_ms):
            return None
        rows = await self.fetch(FOUND_SQL, scope, key)
        if not rows:  # expired between the two statements: as good as free
            return await self.claim(scope, key, fingerprint, now_ms)
        fingerprint, status, content_type, body, created_ms = rows[0]
        return Stored(
            fingerprint=fingerprint,
            status=status,
            content_type=content_type or "",
            body=bytes(body or b""),
            created_ms=created_ms,
        )

    async def take_over(self, scope: str, key: str, now_ms: int, stale_before_ms: int) -> bool:
        return bool(await self.execute(TAKE_OVER_SQL, now_ms, scope, key, stale_before_ms))

    async def finish(
        self, scope: str, key: str, status: int, content_type: str, body: bytes
    ) -> None:
        await self.execute(FINISH_SQL, status, content_type, body, scope, key)

    async def release(self, scope: str, key: str) -> None:
        await self.execute(RELEASE_SQL, scope, key)

    async def expire(self, before_ms: int) -> int:
        return await self.execute(EXPIRE_SQL, before_ms)
