"""What the records roles (written once for both engines) use of an engine: queries whose
rows are read by column name, statements, and transactions.  SQLite's store and
PostgreSQL's store each implement it (hub/state/sqlite/store.py, hub/state/postgres/
store.py); statements are written with ``?`` and the engine spells them (``dialect``)."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol

from hub.state.dialect import Dialect

IDS_AT_ONCE = 500  # values in one IN (...) list


def marks(count: int) -> str:
    """The placeholders of an IN (...) list of ``count`` values (NULL for none: matches
    nothing, and stays valid SQL)."""
    return ",".join("?" * count) or "NULL"


class Row(Protocol):
    """A result row (sqlite3.Row, asyncpg.Record): columns by name, or by position."""

    def __getitem__(self, key: str | int) -> Any: ...


class Tx(Protocol):
    """Statements inside one transaction."""

    async def fetch(self, sql: str, *args: Any) -> list[Row]:
        """Rows of a query (or of an INSERT ... RETURNING)."""
        ...

    async def execute(self, sql: str, *args: Any) -> int:
        """Run one statement; the rows it changed."""
        ...

    async def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        """Run one statement for each row of arguments."""
        ...


class Db(Protocol):
    dialect: Dialect

    async def fetch(self, sql: str, *args: Any) -> list[Row]:
        """Rows of a query, read outside any transaction (what is committed)."""
        ...

    async def execute(self, sql: str, *args: Any) -> int:
        """One statement as its own transaction; the rows it changed."""
        ...

    def transaction(self) -> AbstractAsyncContextManager[Tx]:
        """A transaction: committed when the block ends, rolled back if it raises.
        Engine errors become the hub's (Conflict, StoreUnavailable)."""
        ...
