"""The records role: durable rows (SQLite embedded, PostgreSQL distributed).

Each sub-role is a small Protocol; ``Records`` bundles them with the engine's lifecycle.
Both implementations pass tests/state/test_records_contract.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import msgspec

from hub.operations.providers import NewProvider, Provider


class TrackPoint(msgspec.Struct, frozen=True, array_like=True):
    """One stored GPS fix. ``flag``: 0 moved the live position, 1 late, 2 jump."""

    provider_id: int
    t_ms: int
    lat: float
    lng: float
    accuracy: float | None
    speed: float | None
    heading: float | None
    flag: int
    received_ms: int


class ProviderRecords(Protocol):
    async def add(self, new: NewProvider, device_key: str, now_ms: int) -> Provider:
        """Insert a checked provider with token version 1; ids increase."""

    async def add_many(
        self, news: Sequence[NewProvider], device_keys: Sequence[str], now_ms: int
    ) -> list[Provider]:
        """Insert checked providers in one transaction (all or none), in order."""

    async def get(self, provider_id: int) -> Provider | None:
        """The provider, or None."""

    async def by_device_key(self, device_key: str) -> Provider | None:
        """The provider owning this device key, or None. Keys are unique."""

    async def page(self, *, after_id: int = 0, limit: int = 100) -> list[Provider]:
        """Providers with id > after_id in id order, at most ``limit``."""

    async def bump_token_version(self, provider_id: int) -> Provider | None:
        """Atomically increment the token version, revoking every earlier token."""

    async def set_active(self, provider_id: int, active: bool) -> Provider | None:
        """Activate or deactivate; returns the updated provider or None if unknown."""


class TrackRecords(Protocol):
    async def append(self, points: Sequence[TrackPoint]) -> int:
        """Store all points in one transaction; durable when this returns.

        Idempotent: a point whose (provider_id, t_ms) is already stored is skipped.
        Returns how many were new.
        """

    async def history(
        self, provider_id: int, *, since_ms: int = 0, limit: int = 1000
    ) -> list[TrackPoint]:
        """Points of one provider with t_ms >= since_ms, oldest first."""

    async def count(self, provider_ids: Sequence[int] | None = None) -> int:
        """How many points are stored (for all providers or the given ones)."""


class Records(Protocol):
    @property
    def providers(self) -> ProviderRecords: ...

    @property
    def tracks(self) -> TrackRecords: ...

    async def migrate(self) -> list[str]:
        """Apply pending migrations in order, each in its own transaction; return their names."""

    async def secret(self, name: str, candidate: str) -> str:
        """The stored secret ``name``; stores ``candidate`` first if none exists (atomic)."""

    async def ping(self) -> None:
        """Raise StoreUnavailable unless the store answers a query."""

    async def close(self) -> None:
        """Release connections; idempotent."""
