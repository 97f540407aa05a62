"""The records role: durable rows (SQLite embedded, PostgreSQL distributed).

``Records`` bundles the roles (a Protocol each: hub/operations/records.py,
hub/dispatch/records.py, hub/ingest/tracks.py, hub/state/idempotency.py) with the engine's
lifecycle.  The roles are written once for both engines (hub/state/providers.py,
accounts.py, clients.py, beneficiaries.py, events.py, dispatch_sql.py, over hub/state/
db.py; what differs is declared in hub/state/dialect.py).  Both engines pass
tests/state/test_records_contract.py.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from hub.ingest.tracks import TrackRecords
from hub.operations.records import OperationsRecords

if TYPE_CHECKING:
    from hub.dispatch.records import AfterCommitJournal, DispatchRecords
    from hub.state.idempotency import IdempotencyRecords


class Records(OperationsRecords, Protocol):
    """Every records role, and the engine's lifecycle."""

    @property
    def tracks(self) -> TrackRecords: ...

    @property
    def dispatch(self) -> DispatchRecords: ...

    @property
    def idempotency(self) -> IdempotencyRecords: ...

    @property
    def after_commit(self) -> AfterCommitJournal: ...

    async def migrate(self) -> list[str]:
        """Apply pending migrations in order, each in its own transaction; return their names."""

    async def secret(self, name: str, candidate: str) -> str:
        """The stored secret ``name``; stores ``candidate`` first if none exists (atomic)."""

    async def replace_secret(self, name: str, value: str) -> None:
        """Store ``value`` as the secret ``name``, whatever was there."""

    async def ping(self) -> None:
        """Raise StoreUnavailable unless the store answers a query."""

    async def close(self) -> None:
        """Release connections; idempotent."""
