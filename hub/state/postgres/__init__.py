"""The postgres records engine: ``PostgresRecords`` and its stores, one module per group."""

from hub.state.postgres.store import PostgresRecords

__all__ = ["PostgresRecords"]
