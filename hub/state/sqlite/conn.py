"""What SQLite's dispatch records use of the store (hub/state/sqlite/store.py builds them
and passes itself): the ``Db`` every role uses, and the single writer's turns."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol, TypeVar

import aiosqlite

from hub.state.db import Db

T = TypeVar("T")


class SqliteConn(Db, Protocol):
    def writing(self) -> AbstractAsyncContextManager[aiosqlite.Connection]:
        """The single writer's turn (no transaction begun yet), SQLite errors mapped."""
        ...

    async def at_once(self, work: Callable[..., T], *args: Any) -> T:
        """``work`` as one transaction on the event loop's own thread (a decision)."""
        ...

    async def finish(self, work: Callable[..., T], *args: Any) -> T:
        """``work`` inside the transaction an earlier trip began, then COMMIT."""
        ...

    async def in_thread(self, work: Callable[..., T], *args: Any) -> T:
        """``work(sqlite3.Connection, *args)`` on the connection's own thread."""
        ...
