"""The sqlite records engine: ``SqliteRecords`` and its stores, one module per group."""

from hub.state.sqlite.store import SqliteRecords

__all__ = ["SqliteRecords"]
