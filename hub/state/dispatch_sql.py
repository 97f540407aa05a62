"""Dispatch records' SQL, written once for both engines: a decision's change as guarded
writes, and the read side (offers, due times, KPIs, notifications).

A ``Change`` (hub/dispatch/book.py) is sent as ``writes``: the guard first (the attendance
still at the version the decision read, and bumped), then the new offers, the decided
offers (each still pending, an accept still before its deadline), and the log entries.
The SQL here uses ``?`` placeholders; the PostgreSQL adaptor numbers them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache
from typing import Any, Protocol

import msgspec

from hub.dispatch.book import Change, DispatchSnapshot
from hub.dispatch.offers import Offer, OfferState
from hub.dispatch.records import KPI_WINDOW_MS, Kpis, Notification
from hub.operations.providers import Channel
from hub.state.records import DISPATCH_COLUMNS, attendance_from, dispatch_row

OFFER_COLUMNS = (
    "id, attendance_id, provider_id, mode, state, created_ms, deadline_ms, decided_ms,"
    " eta_min, reason, radius_km, created_by, decided_by"
)


def offer_from(row: Sequence[Any]) -> Offer:
    return Offer(
        id=row[0],
        attendance_id=row[1],
        provider_id=row[2],
        mode=Channel(row[3]),
        state=OfferState(row[4]),
        created_ms=row[5],
        deadline_ms=row[6],
        decided_ms=row[7],
        eta_min=row[8],
        reason=row[9],
        radius_km=row[10],
        created_by=row[11],
        decided_by=row[12],
    )


_decode_offers = msgspec.json.Decoder(list[list[Any]]).decode


def snapshot_from(row: Sequence[Any]) -> DispatchSnapshot:
    """A snapshot from a row of ``ATTENDANCE_READ, version, offers as a JSON array``."""
    offers = [offer_from(o) for o in _decode_offers(row[-1])]
    return DispatchSnapshot(attendance_from(row), offers, int(row[-2]))


class Write(msgspec.Struct, frozen=True):
    """A statement kept for the commit.  ``expect`` says what it must answer, else the
    whole decision is undone: "version" (the guard: the attendance is still at the version
    the decision read, else ``Stale``), "one" (exactly one row changed, else ``Lost``) or
    "id" (an INSERT whose id is wanted)."""

    sql: str
    args: tuple[Any, ...]
    expect: str


_DECIDE = (
    "UPDATE offers SET state = ?, decided_ms = ?, eta_min = ?, reason = ?, decided_by = ?"
    " WHERE id = ? AND state = 'pending'"
)
_GUARD = (
    "UPDATE attendances SET "
    + ", ".join(f"{c.strip()} = ?" for c in DISPATCH_COLUMNS.split(","))
    + ", state = ?, version = version + 1 WHERE id = ? AND version = ?"
)
_NEW_OFFER = (
    f"INSERT INTO offers ({OFFER_COLUMNS}, link_hash)"
    f" VALUES ({', '.join('?' * (OFFER_COLUMNS.count(',') + 2))})"
)
_LOG = (
    "INSERT INTO attendance_log (attendance_id, at_ms, actor, action, detail)"
    " VALUES (?, ?, ?, ?, ?)"
)


def writes(change: Change) -> list[Write]:
    """A decision's change as the statements of its commit, in order: the guard, new
    offers, decided offers, the log."""
    a = change.attendance
    guard = Write(_GUARD, (*dispatch_row(a), a.id, change.version), "version")
    made = [
        Write(_NEW_OFFER, (*offer_row(o), change.made[o.id]), "one")
        for o in change.offers
        if o.id in change.made
    ]
    decided = [_decided(o) for o in change.decided]
    logs = [
        Write(_LOG, (e.attendance_id, e.at_ms, e.actor, e.action, e.detail), "id")
        for e in change.entries
    ]
    return [guard, *made, *decided, *logs]


def _decided(o: Offer) -> Write:
    """A stored offer moved out of pending, on condition that it still is (and that an
    accept still comes before its deadline)."""
    args: tuple[Any, ...] = (o.state.value, o.decided_ms, o.eta_min, o.reason, o.decided_by, o.id)
    if o.state is OfferState.ACCEPTED:
        return Write(_DECIDE + " AND deadline_ms > ?", (*args, o.decided_ms), "one")
    return Write(_DECIDE, args, "one")


def offer_row(o: Offer) -> tuple[Any, ...]:
    """The values of OFFER_COLUMNS."""
    return (
        o.id,
        o.attendance_id,
        o.provider_id,
        o.mode.value,
        o.state.value,
        o.created_ms,
        o.deadline_ms,
        o.decided_ms,
        o.eta_min,
        o.reason,
        o.radius_km,
        o.created_by,
        o.decided_by,
    )


class Fetch(Protocol):
    async def __call__(self, sql: str, *args: Any) -> list[Any]: ...


class DispatchQueries:
    """The read side of DispatchRecords over an engine's ``fetch`` (``?`` placeholders)."""

    def __init__(self, fetch: Fetch) -> None:
        self.fetch = fetch

    async def _offers(self, where: str, *args: Any) -> list[Offer]:
        rows = await self.fetch(f"SELECT {OFFER_COLUMNS} FROM offers WHERE {where}", *args)
        return [offer_from(row) for row in rows]

    async def offer(self, offer_id: int) -> Offer | None:
        found = await self._offers("id = ?", offer_id)
        return found[0] if found else None

    async def offer_by_link(self, offer_id: int, link_hash: str) -> Offer | None:
        found = await self._offers("id = ? AND link_hash = ?", offer_id, link_hash)
        return found[0] if found else None

    async def offers_of(self, attendance_id: int) -> list[Offer]:
        return await self._offers("attendance_id = ? ORDER BY id", attendance_id)

    async def pending_of(self, provider_id: int) -> list[Offer]:
        return await self._offers("provider_id = ? AND state = 'pending' ORDER BY id", provider_id)

    async def due(self, now_ms: int, *, limit: int = 100) -> list[int]:
        rows = await self.fetch(
            "SELECT id FROM attendances WHERE due_ms <= ? ORDER BY due_ms LIMIT ?", now_ms, limit
        )
        return [int(row[0]) for row in rows]

    async def engaged(self) -> dict[int, int]:
        rows = await self.fetch(
            "SELECT provider_id, id FROM attendances"
            " WHERE state IN ('assigned', 'en_route', 'on_site', 'in_service') ORDER BY id"
        )
        return {int(row[0]): int(row[1]) for row in rows}

    async def kpis(self, now_ms: int, provider_id: int | None = None) -> dict[int, Kpis]:
        since = now_ms - KPI_WINDOW_MS
        one, args = ("", ()) if provider_id is None else (" AND provider_id = ?", (provider_id,))
        offers = await self.fetch(
            "SELECT provider_id, COUNT(*),"
            " SUM(CASE WHEN state = 'accepted' THEN 1 ELSE 0 END) FROM offers"
            " WHERE created_ms >= ? AND mode <> 'verbal'"
            f" AND state IN ('accepted', 'refused', 'expired'){one} GROUP BY provider_id",
            since,
            *args,
        )
        arrivals = await self.fetch(
            "SELECT provider_id, COUNT(*),"
            " SUM(CASE WHEN arrived_ms <= promised_ms THEN 1 ELSE 0 END) FROM attendances"
            f" WHERE arrived_ms >= ? AND promised_ms IS NOT NULL{one} GROUP BY provider_id",
            since,
            *args,
        )
        counts: dict[int, list[int]] = {}
        for row in offers:
            counts.setdefault(int(row[0]), [0, 0, 0, 0])[0:2] = [int(row[1]), int(row[2])]
        for row in arrivals:
            counts.setdefault(int(row[0]), [0, 0, 0, 0])[2:4] = [int(row[1]), int(row[2])]
        return {
            pid: Kpis(decided=c[0], accepted=c[1], arrivals=c[2], on_time=c[3])
            for pid, c in counts.items()
        }

    async def offer_counts(self, attendance_ids: Sequence[int]) -> dict[int, int]:
        if not attendance_ids:
            return {}
        marks = ",".join("?" * len(attendance_ids))
        rows = await self.fetch(
            f"SELECT attendance_id, COUNT(*) FROM offers WHERE attendance_id IN ({marks})"
            " GROUP BY attendance_id",
            *attendance_ids,
        )
        return {int(r[0]): int(r[1]) for r in rows}

    async def notifications(self, *, after_id: int = 0, limit: int = 100) -> list[Notification]:
        rows = await self.fetch(
            "SELECT id, at_ms, channel, recipient, subject, body, offer_id, outcome"
            " FROM notifications WHERE id > ? ORDER BY id LIMIT ?",
            after_id,
            limit,
        )
        return [
            Notification(
                id=r[0],
                at_ms=r[1],
                channel=r[2],
                recipient=r[3],
                subject=r[4],
                body=r[5],
                offer_id=r[6],
                outcome=r[7],
            )
            for r in rows
        ]


NOTIFY_SQL = (
    "INSERT INTO notifications (at_ms, channel, recipient, subject, body, offer_id, outcome)"
    " VALUES (?, ?, ?, ?, ?, ?, ?)"
)


def notify_args(note: Notification) -> tuple[Any, ...]:
    return (
        note.at_ms,
        note.channel,
        note.recipient,
        note.subject,
        note.body,
        note.offer_id,
        note.outcome,
    )


@cache
def numbered(sql: str) -> str:
    """``?`` placeholders as PostgreSQL's ``$1, $2, ...``."""
    count = iter(range(1, 1000))
    return re.sub(r"\?", lambda _: f"${next(count)}", sql)
