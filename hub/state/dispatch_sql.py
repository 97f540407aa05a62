"""Dispatch records' SQL, written once for both engines: a decision's change as guarded
writes, and the read side (offers, due times, KPIs, notifications).

A ``Change`` (hub/dispatch/book.py) is sent as ``writes``: the guard first (the attendance
still at the version the decision read, and bumped), then the new offers, the decided
offers (each still pending, an accept still before its deadline), and the log entries.
The SQL here uses ``?`` placeholders (the engine's ``Db`` spells them), rows are read by
column name, and the snapshot's read is the one statement both engines run (``snapshot_sql``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import msgspec

from hub.dispatch.book import Change, DispatchSnapshot
from hub.dispatch.offers import Offer, OfferState
from hub.dispatch.records import KPI_WINDOW_MS, Kpis, Notification
from hub.state.db import Db, Row, marks
from hub.state.dialect import Dialect
from hub.state.rows import (
    ATTENDANCE_READ,
    DISPATCH_COLUMNS,
    OFFER_COLUMNS,
    attendance_from,
    dispatch_row,
    offer_from,
    offer_row,
    offers_from_json,
)


def snapshot_sql(dialect: Dialect) -> str:
    """The attendance, its version and its offers (a JSON array of objects): one query,
    as the engine takes it."""
    offers = dialect.objects_json(OFFER_COLUMNS, "offers", "attendance_id = attendances.id")
    return dialect.sql(
        f"SELECT {ATTENDANCE_READ}, version, {offers} AS offers FROM attendances WHERE id = ?"
    )


def snapshot_from(row: Row) -> DispatchSnapshot:
    """A snapshot from a row of ``snapshot_sql``."""
    return DispatchSnapshot(
        attendance_from(row), offers_from_json(row["offers"]), int(row["version"])
    )


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
_NEW_OFFER = (  # with the attendance's client and service, for the reports
    f"INSERT INTO offers ({OFFER_COLUMNS}, link_hash, client_id, service)"
    f" VALUES ({', '.join('?' * (OFFER_COLUMNS.count(',') + 4))})"
)
_json = msgspec.json.Encoder()
_LOG = (
    "INSERT INTO attendance_log (attendance_id, at_ms, actor, action, detail, facts)"
    " VALUES (?, ?, ?, ?, ?, ?)"
)


def writes(change: Change) -> list[Write]:
    """A decision's change as the statements of its commit, in order: the guard, new
    offers, decided offers, the log."""
    a = change.attendance
    guard = Write(_GUARD, (*dispatch_row(a), a.id, change.version), "version")
    made = [
        Write(_NEW_OFFER, (*offer_row(o), change.made[o.id], a.client_id, a.service), "one")
        for o in change.offers
        if o.id in change.made
    ]
    decided = [_decided(o) for o in change.decided]
    logs = [
        Write(
            _LOG,
            (e.attendance_id, e.at_ms, e.actor, e.action, e.detail, _json.encode(e.facts).decode()),
            "id",
        )
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


class DispatchQueries:
    """The read side of DispatchRecords over an engine's ``Db``."""

    def __init__(self, db: Db) -> None:
        self.db = db
        self.fetch = db.fetch

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
        return [int(row["id"]) for row in rows]

    async def engaged(self) -> dict[int, int]:
        rows = await self.fetch(
            "SELECT provider_id, id FROM attendances"
            " WHERE state IN ('assigned', 'en_route', 'on_site', 'in_service') ORDER BY id"
        )
        return {int(row["provider_id"]): int(row["id"]) for row in rows}

    async def kpis(self, now_ms: int, provider_id: int | None = None) -> dict[int, Kpis]:
        since = now_ms - KPI_WINDOW_MS
        one, args = ("", ()) if provider_id is None else (" AND provider_id = ?", (provider_id,))
        offers = await self.fetch(  # the index offers_answered
            "SELECT provider_id, COUNT(*) AS answered,"
            " SUM(CASE WHEN state = 'accepted' THEN 1 ELSE 0 END) AS accepted FROM offers"
            " WHERE created_ms >= ? AND mode <> 'verbal'"
            f" AND state IN ('accepted', 'refused', 'expired'){one} GROUP BY provider_id",
            since,
            *args,
        )
        arrivals = await self.fetch(  # the partial index attendances_arrived
            "SELECT provider_id, COUNT(*) AS arrivals,"
            " SUM(CASE WHEN arrived_ms <= promised_ms THEN 1 ELSE 0 END) AS on_time"
            " FROM attendances"
            f" WHERE arrived_ms >= ? AND promised_ms IS NOT NULL{one} GROUP BY provider_id",
            since,
            *args,
        )
        ratings = await self.fetch(  # the partial index attendances_rated
            "SELECT provider_id, COUNT(*) AS ratings, SUM(rating) AS total FROM attendances"
            f" WHERE rating IS NOT NULL AND at_ms >= ?{one} GROUP BY provider_id",
            since,
            *args,
        )
        found: dict[int, Kpis] = {}
        for row in offers:
            found[int(row["provider_id"])] = Kpis(
                decided=int(row["answered"]), accepted=int(row["accepted"]), arrivals=0, on_time=0
            )
        for row in arrivals:
            pid = int(row["provider_id"])
            before = found.get(pid, Kpis(decided=0, accepted=0, arrivals=0, on_time=0))
            found[pid] = Kpis(
                decided=before.decided,
                accepted=before.accepted,
                arrivals=int(row["arrivals"]),
                on_time=int(row["on_time"]),
            )
        for row in ratings:
            pid = int(row["provider_id"])
            before = found.get(pid, Kpis(decided=0, accepted=0, arrivals=0, on_time=0))
            found[pid] = msgspec.structs.replace(
                before, ratings=int(row["ratings"]), rating_total=int(row["total"])
            )
        return found

    async def panel_facts(self, attendance_ids: Sequence[int]) -> dict[int, tuple[int, int]]:
        if not attendance_ids:
            return {}
        rows = await self.fetch(
            "SELECT a.id, a.client_id,"
            " (SELECT COUNT(*) FROM offers o WHERE o.attendance_id = a.id) AS offers"
            f" FROM attendances a WHERE a.id IN ({marks(len(attendance_ids))})",
            *attendance_ids,
        )
        return {int(r["id"]): (int(r["offers"]), int(r["client_id"])) for r in rows}

    async def notifications(self, *, after_id: int = 0, limit: int = 100) -> list[Notification]:
        return await self._notes("id > ? ORDER BY id LIMIT ?", after_id, limit)

    async def notifications_of(self, attendance_id: int) -> list[Notification]:
        return await self._notes(
            "offer_id IN (SELECT id FROM offers WHERE attendance_id = ?) ORDER BY id",
            attendance_id,
        )

    async def _notes(self, where: str, *args: Any) -> list[Notification]:
        rows = await self.fetch(
            "SELECT id, at_ms, channel, recipient, subject, body, offer_id, outcome"
            f" FROM notifications WHERE {where}",
            *args,
        )
        return [
            Notification(
                id=r["id"],
                at_ms=r["at_ms"],
                channel=r["channel"],
                recipient=r["recipient"],
                subject=r["subject"],
                body=r["body"],
                offer_id=r["offer_id"],
                outcome=r["outcome"],
            )
            for r in rows
        ]

    async def notify(self, note: Notification) -> int:
        async with self.db.transaction() as tx:
            (row,) = await tx.fetch(NOTIFY_SQL + " RETURNING id", *notify_args(note))
        return int(row["id"])


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
