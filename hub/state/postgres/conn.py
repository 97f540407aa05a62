"""What PostgreSQL's dispatch records use of the store (hub/state/postgres/store.py builds
them and passes itself): the ``Db`` every role uses, and pooled connections."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol

from hub.state.db import Db


class PostgresConn(Db, Protocol):
    def connection(self, *, transaction: bool = False) -> AbstractAsyncContextManager[Any]:
        """A pooled connection (in a transaction if asked), PostgreSQL errors mapped."""
        ...
