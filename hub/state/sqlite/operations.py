"""SQLite: clients, plans, beneficiaries, events and attendances."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import msgspec

from hub.operations.attendances import (
    Attendance,
    AttendanceState,
    NewAttendance,
)
from hub.operations.beneficiaries import Beneficiary, NewBeneficiary, NewPlan, Plan, SearchKind
from hub.operations.clients import Client, NewClient, NewPartner, Partner
from hub.operations.events import Event, NewEvent
from hub.state.records import (
    ATTENDANCE_COLUMNS,
    BENEFICIARY_COLUMNS,
    PARTNER_COLUMNS,
    VEHICLE_COLUMNS,
    AttendanceReads,
    EventReads,
    attendance_row,
    beneficiaries_from,
    beneficiary_row,
    decode_rules,
    encode_json,
    encode_rules,
    merged_names,
    partner_from,
    plan_from,
    vehicle_rows,
)

if TYPE_CHECKING:
    from hub.state.sqlite.conn import SqliteConn


_CLIENT_COLUMNS = "id, name, script, rules, active, created_ms"


def _client(row: Any) -> Client:
    return Client(
        id=row[0],
        name=row[1],
        script=row[2],
        rules=decode_rules(row[3]),
        active=bool(row[4]),
        created_ms=row[5],
    )


class SqliteClients:
    def __init__(self, store: SqliteConn) -> None:
        self.store = store

    async def add(self, new: NewClient, now_ms: int) -> Client:
        async with self.store.transaction() as db:
            cursor = await db.execute(
                "INSERT INTO clients (name, script, rules, active, created_ms)"
                " VALUES (?, ?, ?, ?, ?)",
                (new.name, new.script, encode_rules(new.rules), int(new.active), now_ms),
            )
            client_id = cursor.lastrowid
        found = await self.get(int(client_id or 0))
        assert found is not None
        return found

    async def get(self, client_id: int) -> Client | None:
        rows = await self.store.fetch(
            f"SELECT {_CLIENT_COLUMNS} FROM clients WHERE id = ?", client_id
        )
        return _client(rows[0]) if rows else None

    async def replace(self, client_id: int, new: NewClient) -> Client | None:
        async with self.store.transaction() as db:
            await db.execute(
                "UPDATE clients SET name = ?, script = ?, rules = ?, active = ? WHERE id = ?",
                (new.name, new.script, encode_rules(new.rules), int(new.active), client_id),
            )
        return await self.get(client_id)

    async def page(self, *, after_id: int = 0, limit: int = 100) -> list[Client]:
        rows = await self.store.fetch(
            f"SELECT {_CLIENT_COLUMNS} FROM clients WHERE id > ? ORDER BY id LIMIT ?",
            after_id,
            limit,
        )
        return [_client(row) for row in rows]

    async def add_partner(self, client_id: int, new: NewPartner) -> Partner:
        async with self.store.transaction() as db:
            cursor = await db.execute(
                "INSERT INTO partners (client_id, name, address, lat, lng) VALUES (?, ?, ?, ?, ?)",
                (client_id, new.name, encode_json(new.address), new.lat, new.lng),
            )
            partner_id = int(cursor.lastrowid or 0)
        return Partner(id=partner_id, client_id=client_id, **msgspec.structs.asdict(new))

    async def partners(self, client_id: int) -> list[Partner]:
        rows = await self.store.fetch(
            f"SELECT {PARTNER_COLUMNS} FROM partners WHERE client_id = ? ORDER BY name, id",
            client_id,
        )
        return [partner_from(row) for row in rows]


class SqlitePlans:
    def __init__(self, store: SqliteConn) -> None:
        self.store = store

    async def add(self, new: NewPlan) -> Plan:
        async with self.store.transaction() as db:
            cursor = await db.execute(
                "INSERT INTO plans (client_id, name, coverage) VALUES (?, ?, ?)",
                (new.client_id, new.name, encode_json(new.coverage)),
            )
            plan_id = cursor.lastrowid
        found = await self.get(int(plan_id or 0))
        assert found is not None
        return found

    async def get(self, plan_id: int) -> Plan | None:
        rows = await self.store.fetch(
            "SELECT id, client_id, name, coverage FROM plans WHERE id = ?", plan_id
        )
        return plan_from(rows[0]) if rows else None

    async def of_client(self, client_id: int) -> list[Plan]:
        rows = await self.store.fetch(
            "SELECT id, client_id, name, coverage FROM plans WHERE client_id = ? ORDER BY id",
            client_id,
        )
        return [plan_from(row) for row in rows]


class SqliteBeneficiaries:
    def __init__(self, store: SqliteConn) -> None:
        self.store = store

    async def add(self, new: NewBeneficiary) -> Beneficiary:
        return (await self.add_many([new]))[0]

    async def add_many(self, news: Sequence[NewBeneficiary]) -> list[Beneficiary]:
        ids = []
        async with self.store.transaction() as db:
            for new in news:
                cursor = await db.execute(
                    "INSERT INTO beneficiaries (client_id, plan_id, name, name_folded, cpf,"
                    " phones, address, active_from_ms, active_until_ms)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    beneficiary_row(new),
                )
                beneficiary_id = int(cursor.lastrowid or 0)
                ids.append(beneficiary_id)
                await db.executemany(
                    "INSERT INTO vehicles (beneficiary_id, plate, plate_twin, model, year,"
                    " colour) VALUES (?, ?, ?, ?, ?, ?)",
                    vehicle_rows(beneficiary_id, new),
                )
        found: dict[int, Beneficiary] = {}
        for start in range(0, len(ids), 500):
            part = ids[start : start + 500]
            marks = ",".join("?" * len(part))
            for b in await self._load(f"id IN ({marks})", *part, limit=len(part)):
                found[b.id] = b
        return [found[i] for i in ids]

    async def _load(self, where: str, *args: Any, limit: int = 20) -> list[Beneficiary]:
        rows = await self.store.fetch(
            f"SELECT {BENEFICIARY_COLUMNS} FROM beneficiaries WHERE {where}"
            " ORDER BY name_folded, id LIMIT ?",
            *args,
            limit,
        )
        if not rows:
            return []
        marks = ",".join("?" * len(rows))
        vehicles = await self.store.fetch(
            f"SELECT {VEHICLE_COLUMNS} FROM vehicles WHERE beneficiary_id IN ({marks}) ORDER BY id",
            *(r[0] for r in rows),
        )
        return beneficiaries_from(rows, vehicles)

    async def get(self, beneficiary_id: int) -> Beneficiary | None:
        found = await self._load("id = ?", beneficiary_id)
        return found[0] if found else None

    async def search(
        self, kind: SearchKind, term: str, *, client_id: int | None = None, limit: int = 20
    ) -> list[Beneficiary]:
        scope, args = ("", ()) if client_id is None else (" AND client_id = ?", (client_id,))
        if kind is SearchKind.CPF:
            return await self._load("cpf = ?" + scope, term, *args, limit=limit)
        if kind is SearchKind.PLATE:
            return await self._load(
                "id IN (SELECT beneficiary_id FROM vehicles WHERE plate = ? OR plate_twin = ?)"
                + scope,
                term,
                term,
                *args,
                limit=limit,
            )
        # Names starting with the piece first, in name order, from the name index; then
        # names containing it, a bounded handful from the trigram index (sorting every
        # match of a common piece would read thousands of rows to show twenty).
        starting = await self._load(
            "name_folded >= ? AND name_folded < ?" + scope,
            term,
            term + "\U0010ffff",
            *args,
            limit=limit,
        )
        if len(starting) >= limit:
            return starting
        phrase = '"' + term.replace('"', '""') + '"'  # trigram FTS5: substring of the name
        containing = await self._load(
            "id IN (SELECT rowid FROM beneficiary_names WHERE beneficiary_names MATCH ?"
            " LIMIT ?)" + scope,
            phrase,
            4 * limit,
            *args,
            limit=limit,
        )
        return merged_names(starting, containing, limit)


class SqliteEvents(EventReads):
    def __init__(self, store: SqliteConn) -> None:
        super().__init__(store.fetch)
        self.store = store

    async def open(self, new: NewEvent, client_id: int, actor: str, now_ms: int) -> Event:
        async with self.store.transaction() as db:
            cursor = await db.execute(
                "INSERT INTO events (client_id, beneficiary_id, vehicle_id, type, notes, state,"
                " opened_ms, opened_by) VALUES (?, ?, ?, ?, ?, 'open', ?, ?)",
                (
                    client_id,
                    new.beneficiary_id,
                    new.vehicle_id,
                    new.type.value,
                    new.notes,
                    now_ms,
                    actor,
                ),
            )
            event_id = int(cursor.lastrowid or 0)
            await db.execute(
                "INSERT INTO event_log (event_id, at_ms, actor, action, reason)"
                " VALUES (?, ?, ?, 'open', '')",
                (event_id, now_ms, actor),
            )
        found = await self.get(event_id)
        assert found is not None
        return found

    async def change(
        self, before: Event, after: Event, action: str, actor: str, reason: str, now_ms: int
    ) -> Event | None:
        async with self.store.transaction() as db:
            cursor = await db.execute(
                "UPDATE events SET state = ?, intake_done_ms = ? WHERE id = ? AND state = ?"
                " AND intake_done_ms IS ?",
                (
                    after.state.value,
                    after.intake_done_ms,
                    before.id,
                    before.state.value,
                    before.intake_done_ms,
                ),
            )
            if cursor.rowcount != 1:
                return None
            await db.execute(
                "INSERT INTO event_log (event_id, at_ms, actor, action, reason)"
                " VALUES (?, ?, ?, ?, ?)",
                (before.id, now_ms, actor, action, reason),
            )
        return await self.get(before.id)


class SqliteAttendances(AttendanceReads):
    def __init__(self, store: SqliteConn) -> None:
        super().__init__(store.fetch)
        self.store = store

    async def add(
        self, event: Event, new: NewAttendance, state: AttendanceState, actor: str, now_ms: int
    ) -> Attendance:
        columns = ATTENDANCE_COLUMNS.removeprefix("id, ")
        async with self.store.transaction() as db:
            cursor = await db.execute(
                f"INSERT INTO attendances ({columns}) VALUES ({', '.join('?' * 17)})",
                attendance_row(event, new, state, actor),
            )
            attendance_id = int(cursor.lastrowid or 0)
            await db.execute(
                "INSERT INTO attendance_log (attendance_id, at_ms, actor, action, detail)"
                " VALUES (?, ?, ?, 'create', ?)",
                (attendance_id, now_ms, actor, state.value),
            )
        found = await self.get(attendance_id)
        assert found is not None
        return found
