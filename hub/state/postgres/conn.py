"""What the PostgreSQL role classes use of the store (hub/state/postgres/store.py builds
them and passes itself): pooled connections and queries."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol


class PostgresConn(Protocol):
    def connection(self, *, transaction: bool = False) -> AbstractAsyncContextManager[Any]:
        """A pooled connection (in a transaction if asked), PostgreSQL errors mapped."""
        ...

    async def fetch(self, sql: str, *args: Any) -> list[Any]:
        """Rows of a query written with ``$n`` placeholders."""
        ...

    async def fetch_numbered(self, sql: str, *args: Any) -> list[Any]:
        """``fetch`` for SQL written with ``?`` placeholders."""
        ...
