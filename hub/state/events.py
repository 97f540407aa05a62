"""Events and attendances with their logs, one statement set for both engines."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import msgspec

from hub.operations.attendances import (
    Attendance,
    AttendanceLogEntry,
    AttendanceState,
    NewAttendance,
)
from hub.operations.events import Event, EventLogEntry, NewEvent
from hub.state.db import Db, marks
from hub.state.rows import (
    ATTENDANCE_COLUMNS,
    ATTENDANCE_READ,
    EVENT_COLUMNS,
    attendance_from,
    attendance_row,
    event_from,
)

_EVENT_LOG = "INSERT INTO event_log (event_id, at_ms, actor, action, reason) VALUES (?, ?, ?, ?, ?)"
_NEW_ATTENDANCE = (
    f"INSERT INTO attendances ({ATTENDANCE_COLUMNS.removeprefix('id, ')})"
    f" VALUES ({', '.join('?' * (ATTENDANCE_COLUMNS.count(',')))}) RETURNING id"
)


class Events:
    def __init__(self, db: Db) -> None:
        self.db = db
        # a change applies only to the event as it was read (intake_done_ms may be null)
        self.change_sql = (
            "UPDATE events SET state = ?, intake_done_ms = ? WHERE id = ? AND state = ?"
            f" AND intake_done_ms {db.dialect.same} ?"
        )

    async def open(self, new: NewEvent, client_id: int, actor: str, now_ms: int) -> Event:
        async with self.db.transaction() as tx:
            (row,) = await tx.fetch(
                "INSERT INTO events (client_id, beneficiary_id, vehicle_id, type, notes, state,"
                " opened_ms, opened_by) VALUES (?, ?, ?, ?, ?, 'open', ?, ?) RETURNING id",
                client_id,
                new.beneficiary_id,
                new.vehicle_id,
                new.type.value,
                new.notes,
                now_ms,
                actor,
            )
            event_id = int(row["id"])
            await tx.execute(_EVENT_LOG, event_id, now_ms, actor, "open", "")
        found = await self.get(event_id)
        assert found is not None
        return found

    async def change(
        self, before: Event, after: Event, action: str, actor: str, reason: str, now_ms: int
    ) -> Event | None:
        async with self.db.transaction() as tx:
            changed = await tx.execute(
                self.change_sql,
                after.state.value,
                after.intake_done_ms,
                before.id,
                before.state.value,
                before.intake_done_ms,
            )
            if changed != 1:
                return None
            await tx.execute(_EVENT_LOG, before.id, now_ms, actor, action, reason)
        return await self.get(before.id)

    async def get(self, event_id: int) -> Event | None:
        rows = await self.db.fetch(f"SELECT {EVENT_COLUMNS} FROM events WHERE id = ?", event_id)
        return event_from(rows[0]) if rows else None

    async def of_beneficiary(self, beneficiary_id: int, *, limit: int = 20) -> list[Event]:
        rows = await self.db.fetch(
            f"SELECT {EVENT_COLUMNS} FROM events WHERE beneficiary_id = ?"
            " ORDER BY opened_ms DESC, id DESC LIMIT ?",
            beneficiary_id,
            limit,
        )
        return [event_from(row) for row in rows]

    async def log(self, event_id: int) -> list[EventLogEntry]:
        rows = await self.db.fetch(
            "SELECT at_ms, actor, action, reason FROM event_log WHERE event_id = ? ORDER BY id",
            event_id,
        )
        return [
            EventLogEntry(
                at_ms=r["at_ms"], actor=r["actor"], action=r["action"], reason=r["reason"]
            )
            for r in rows
        ]


class Attendances:
    def __init__(self, db: Db) -> None:
        self.db = db

    async def add(
        self, event: Event, new: NewAttendance, state: AttendanceState, actor: str, now_ms: int
    ) -> Attendance:
        async with self.db.transaction() as tx:
            (row,) = await tx.fetch(_NEW_ATTENDANCE, *attendance_row(event, new, state, actor))
            attendance_id = int(row["id"])
            await tx.execute(
                "INSERT INTO attendance_log (attendance_id, at_ms, actor, action, detail, facts)"
                " VALUES (?, ?, ?, 'create', ?, ?)",
                attendance_id,
                now_ms,
                actor,
                state.value,
                msgspec.json.encode({"state": state.value}).decode(),
            )
        found = await self.get(attendance_id)
        assert found is not None
        return found

    async def _attendances(self, where: str, *args: Any) -> list[Attendance]:
        rows = await self.db.fetch(
            f"SELECT {ATTENDANCE_READ} FROM attendances WHERE {where}", *args
        )
        return [attendance_from(row) for row in rows]

    async def get(self, attendance_id: int) -> Attendance | None:
        found = await self._attendances("id = ?", attendance_id)
        return found[0] if found else None

    async def of_event(self, event_id: int) -> list[Attendance]:
        return await self._attendances("event_id = ? ORDER BY id", event_id)

    async def of_beneficiary(self, beneficiary_id: int, *, limit: int = 50) -> list[Attendance]:
        return await self._attendances(
            "beneficiary_id = ? ORDER BY at_ms DESC, id DESC LIMIT ?", beneficiary_id, limit
        )

    async def in_states(self, states: Sequence[str], *, limit: int = 1000) -> list[Attendance]:
        return await self._attendances(
            f"state IN ({marks(len(states))}) ORDER BY id LIMIT ?", *states, limit
        )

    async def covered_uses(self, beneficiary_id: int, service: str) -> list[int]:
        rows = await self.db.fetch(
            "SELECT at_ms FROM attendances WHERE beneficiary_id = ? AND service = ?"
            " AND avulso = ? AND state <> 'cancelled' ORDER BY at_ms",
            beneficiary_id,
            service,
            False,
        )
        return [int(r["at_ms"]) for r in rows]

    async def log(self, attendance_id: int) -> list[AttendanceLogEntry]:
        rows = await self.db.fetch(
            "SELECT at_ms, actor, action, detail, facts FROM attendance_log"
            " WHERE attendance_id = ? ORDER BY id",
            attendance_id,
        )
        return [
            AttendanceLogEntry(
                at_ms=r["at_ms"],
                actor=r["actor"],
                action=r["action"],
                detail=r["detail"],
                facts=msgspec.json.decode(r["facts"]),
            )
            for r in rows
        ]
