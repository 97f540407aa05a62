"""What dispatch needs of the records engine: one Protocol, implemented by SQLite and
PostgreSQL (hub/state/sqlite/dispatch.py, hub/state/postgres/dispatch.py; the SQL they
share is hub/state/dispatch_sql.py).

A decision's ``Change`` commits in one trip behind a guard, an UPDATE of the attendance on
condition that its version is still the one the decision read (and bumping it): of two
decisions made on the same snapshot, on any nodes, one commits and the other is
``Stale`` and is made again.  Decisions on one attendance are therefore serial on every
node, without a lock held between trips.  ``locked`` takes the row lock as well, for the
sweeper and for a decision made again.  On top of that the accept is a conditional UPDATE
(pending, before its deadline) and a partial unique index allows one accepted offer per
attendance: the store, not a cache, decides who wins.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from typing import NamedTuple, Protocol

import msgspec

from hub.dispatch.book import Change, DispatchSnapshot
from hub.dispatch.offers import Offer
from hub.errors import Conflict

KPI_WINDOW_MS = 90 * 86_400_000  # KPIs look at the last 90 days


class Kpis(msgspec.Struct, frozen=True, kw_only=True):
    """A provider's record: offers answered (expired counts as refused), arrivals, and
    the beneficiaries' ratings (the live page's)."""

    decided: int
    accepted: int
    arrivals: int
    on_time: int
    ratings: int = 0
    rating_total: int = 0

    def acceptance_pct(self) -> float | None:
        return None if self.decided == 0 else round(100 * self.accepted / self.decided, 1)

    def on_time_pct(self) -> float | None:
        return None if self.arrivals == 0 else round(100 * self.on_time / self.arrivals, 1)

    def rating_mean(self) -> float | None:
        return None if self.ratings == 0 else round(self.rating_total / self.ratings, 2)


class Notification(msgspec.Struct, frozen=True, kw_only=True):
    id: int = 0
    at_ms: int
    channel: str  # "sms" | "email"
    recipient: str
    subject: str
    body: str
    offer_id: int | None = None
    outcome: str  # "outbox" (development), "sent", or "failed: <why>"


class Stale(Exception):
    """The attendance moved on since the decision read it (another decision committed
    first): nothing was written; decide again on what is stored now."""


class Lost(Conflict):
    """A conditional write changed no row: another decision won (never expected under the
    version guard, so the decision is undone whole)."""

    def __init__(self) -> None:
        super().__init__("another decision changed this offer first")


class Held(Protocol):
    """An attendance locked in the store for one decision (``DispatchRecords.locked``)."""

    snapshot: DispatchSnapshot

    async def offer_ids(self, count: int) -> list[int]:
        """``count`` fresh offer ids, taken inside the lock's own transaction."""
        ...

    async def commit(self, change: Change) -> list[int]:
        """Send the change and commit (once); the ids of its log entries, in order.
        ``Lost`` (nothing written) if a conditional write changed no row."""
        ...


class DispatchRecords(Protocol):
    async def snapshot(self, attendance_id: int) -> DispatchSnapshot | None:
        """The attendance with its offers as committed (None if unknown); no lock."""
        ...

    async def offer_ids(self, count: int) -> list[int]:
        """``count`` fresh offer ids, never given before (an id not committed is a gap)."""
        ...

    async def commit(self, change: Change) -> list[int]:
        """Send a change and commit, in one trip: the ids of its log entries (the status
        stream's offsets), in order.  ``Stale`` (nothing written) if the attendance moved
        past the change's version, ``Lost`` if a conditional write changed no row."""
        ...

    def locked(
        self, attendance_id: int, *, skip_locked: bool = False
    ) -> AbstractAsyncContextManager[Held | None]:
        """The attendance locked (PostgreSQL ``SELECT ... FOR UPDATE``; SQLite's single
        writer): no other decision can commit on it until the block ends.  None if unknown
        or (skip_locked) held by another transaction.  Nothing is written unless the
        block calls ``commit``; a block that raises writes nothing."""
        ...

    async def offer(self, offer_id: int) -> Offer | None: ...

    async def offer_by_link(self, offer_id: int, link_hash: str) -> Offer | None:
        """The link offer with this id, if the secret's hash is its own."""
        ...

    async def offers_of(self, attendance_id: int) -> list[Offer]: ...

    async def pending_of(self, provider_id: int) -> list[Offer]:
        """The provider's pending offers, oldest first (re-sent when its app reconnects)."""
        ...

    async def due(self, now_ms: int, *, limit: int = 100) -> list[int]:
        """Attendances whose dispatch is due (a deadline passed, a stagger is due)."""
        ...

    async def engaged(self) -> dict[int, int]:
        """provider id -> the attendance it is assigned to and not yet done with."""
        ...

    async def kpis(self, now_ms: int, provider_id: int | None = None) -> dict[int, Kpis]:
        """Providers' records over the last KPI_WINDOW_MS (one provider's, or everyone's
        who has one)."""
        ...

    async def panel_facts(self, attendance_ids: Sequence[int]) -> dict[int, tuple[int, int]]:
        """Per attendance, (offers made, the client of its event): the panels' attempts and
        their client filter."""
        ...

    async def notify(self, note: Notification) -> int:
        """Record a notification; its id."""
        ...

    async def notifications(self, *, after_id: int = 0, limit: int = 100) -> list[Notification]:
        """Recorded notifications with id > after_id, oldest first."""
        ...

    async def notifications_of(self, attendance_id: int) -> list[Notification]:
        """The notifications of an attendance's offers (its links), oldest first."""
        ...


class Journaled(NamedTuple):
    """A step of the after-commit journal (hub/dispatch/after_commit.py)."""

    id: int
    lane: str
    body: bytes  # the step as hub/dispatch/told.py encodes it


class AfterCommitJournal(Protocol):
    """Steps committed decisions still have to tell, kept while a store is down, by node."""

    async def keep(self, node: str, lane: str, body: bytes, now_ms: int) -> int:
        """Keep one step of ``node``; its id (ids grow in the order steps are kept)."""
        ...

    async def forget(self, ids: Sequence[int]) -> None:
        """Steps told: gone."""
        ...

    async def holders(self) -> set[str]:
        """The nodes that have steps kept."""
        ...

    async def claim(self, node: str, by: str) -> list[Journaled]:
        """Every step ``node`` kept, now ``by``'s (atomic: of two claims, one gets them),
        in the order they were kept."""
        ...
