"""PostgreSQL: clients, plans, beneficiaries, events and attendances."""

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
from hub.state.postgres.sql import MS
from hub.state.records import (
    ATTENDANCE_COLUMNS,
    ATTENDANCE_READ,
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
    like_pattern,
    merged_names,
    partner_from,
    plan_from,
    vehicle_rows,
)

if TYPE_CHECKING:
    from hub.state.postgres.conn import PostgresConn

_CLIENT_COLUMNS = (
    "id, name, script, rules::text AS rules, active,"
    " (extract(epoch from created_at) * 1000)::bigint AS created_ms"
)


def _client(row: Any) -> Client:
    fields = dict(row)
    fields["rules"] = decode_rules(fields["rules"])
    return Client(**fields)


class PostgresClients:
    def __init__(self, store: PostgresConn) -> None:
        self.store = store

    async def _one(self, sql: str, *args: Any) -> Client | None:
        rows = await self.store.fetch(sql, *args)
        return _client(rows[0]) if rows else None

    async def add(self, new: NewClient, now_ms: int) -> Client:
        found = await self._one(
            "INSERT INTO clients (name, script, rules, active, created_at)"
            f" VALUES ($1, $2, $3::jsonb, $4, {MS.format('$5::bigint')})"
            f" RETURNING {_CLIENT_COLUMNS}",
            new.name,
            new.script,
            encode_rules(new.rules),
            new.active,
            now_ms,
        )
        assert found is not None
        return found

    async def get(self, client_id: int) -> Client | None:
        return await self._one(f"SELECT {_CLIENT_COLUMNS} FROM clients WHERE id = $1", client_id)

    async def replace(self, client_id: int, new: NewClient) -> Client | None:
        return await self._one(
            "UPDATE clients SET name = $2, script = $3, rules = $4::jsonb, active = $5"
            f" WHERE id = $1 RETURNING {_CLIENT_COLUMNS}",
            client_id,
            new.name,
            new.script,
            encode_rules(new.rules),
            new.active,
        )

    async def page(self, *, after_id: int = 0, limit: int = 100) -> list[Client]:
        rows = await self.store.fetch(
            f"SELECT {_CLIENT_COLUMNS} FROM clients WHERE id > $1 ORDER BY id LIMIT $2",
            after_id,
            limit,
        )
        return [_client(row) for row in rows]

    async def add_partner(self, client_id: int, new: NewPartner) -> Partner:
        async with self.store.connection() as conn:
            partner_id = await conn.fetchval(
                "INSERT INTO partners (client_id, name, address, lat, lng)"
                " VALUES ($1, $2, $3::jsonb, $4, $5) RETURNING id",
                client_id,
                new.name,
                encode_json(new.address),
                new.lat,
                new.lng,
            )
        return Partner(id=int(partner_id), client_id=client_id, **msgspec.structs.asdict(new))

    async def partners(self, client_id: int) -> list[Partner]:
        rows = await self.store.fetch(
            f"SELECT {PARTNER_COLUMNS.replace('address', 'address::text')} FROM partners"
            " WHERE client_id = $1 ORDER BY name, id",
            client_id,
        )
        return [partner_from(row) for row in rows]


class PostgresPlans:
    def __init__(self, store: PostgresConn) -> None:
        self.store = store

    async def add(self, new: NewPlan) -> Plan:
        rows = await self.store.fetch(
            "INSERT INTO plans (client_id, name, coverage) VALUES ($1, $2, $3::jsonb)"
            " RETURNING id, client_id, name, coverage::text",
            new.client_id,
            new.name,
            encode_json(new.coverage),
        )
        return plan_from(rows[0])

    async def get(self, plan_id: int) -> Plan | None:
        rows = await self.store.fetch(
            "SELECT id, client_id, name, coverage::text FROM plans WHERE id = $1", plan_id
        )
        return plan_from(rows[0]) if rows else None

    async def of_client(self, client_id: int) -> list[Plan]:
        rows = await self.store.fetch(
            "SELECT id, client_id, name, coverage::text FROM plans WHERE client_id = $1"
            " ORDER BY id",
            client_id,
        )
        return [plan_from(row) for row in rows]


_PG_BENEFICIARY_COLUMNS = BENEFICIARY_COLUMNS.replace("phones", "phones::text").replace(
    "address", "address::text"
)


class PostgresBeneficiaries:
    def __init__(self, store: PostgresConn) -> None:
        self.store = store

    async def add(self, new: NewBeneficiary) -> Beneficiary:
        return (await self.add_many([new]))[0]

    async def add_many(self, news: Sequence[NewBeneficiary]) -> list[Beneficiary]:
        ids = []
        async with self.store.connection(transaction=True) as conn:
            for new in news:
                ids.append(await self._insert(conn, new))
        found = {b.id: b for b in await self._load_ids(ids)}
        return [found[i] for i in ids]

    async def _insert(self, conn: Any, new: NewBeneficiary) -> int:
        beneficiary_id = await conn.fetchval(
            "INSERT INTO beneficiaries (client_id, plan_id, name, name_folded, cpf,"
            " phones, address, active_from_ms, active_until_ms)"
            " VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7::jsonb, $8, $9) RETURNING id",
            *beneficiary_row(new),
        )
        await conn.executemany(
            "INSERT INTO vehicles (beneficiary_id, plate, plate_twin, model, year,"
            " colour) VALUES ($1, $2, $3, $4, $5, $6)",
            vehicle_rows(beneficiary_id, new),
        )
        return int(beneficiary_id)

    async def _load_ids(self, ids: list[int]) -> list[Beneficiary]:
        found: list[Beneficiary] = []
        for start in range(0, len(ids), 1000):
            part = ids[start : start + 1000]
            found += await self._load("id = ANY($1::bigint[])", part, limit=len(part))
        return found

    async def _load(
        self, where: str, *args: Any, limit: int = 20, order: str = "name_folded, id"
    ) -> list[Beneficiary]:
        rows = await self.store.fetch(
            f"SELECT {_PG_BENEFICIARY_COLUMNS} FROM beneficiaries WHERE {where}"
            f" ORDER BY {order} LIMIT {int(limit)}",
            *args,
        )
        if not rows:
            return []
        vehicles = await self.store.fetch(
            f"SELECT {VEHICLE_COLUMNS} FROM vehicles WHERE beneficiary_id = ANY($1::bigint[])"
            " ORDER BY id",
            [r[0] for r in rows],
        )
        return beneficiaries_from(rows, vehicles)

    async def get(self, beneficiary_id: int) -> Beneficiary | None:
        found = await self._load("id = $1", beneficiary_id)
        return found[0] if found else None

    async def search(
        self, kind: SearchKind, term: str, *, client_id: int | None = None, limit: int = 20
    ) -> list[Beneficiary]:
        args: list[Any] = [term]
        if kind is SearchKind.CPF:
            where = "cpf = $1"
        elif kind is SearchKind.PLATE:
            where = (
                "id IN (SELECT beneficiary_id FROM vehicles WHERE plate = $1 OR plate_twin = $1)"
            )
        else:
            # Names starting with the piece first, in name order, from the name index;
            # then names containing it, a bounded handful from the trigram index (sorting
            # every match of a common piece would read thousands of rows to show twenty).
            scope = "" if client_id is None else " AND client_id = $3"
            extra = [] if client_id is None else [client_id]
            starting = await self._load(
                f'name_folded COLLATE "C" >= $1 AND name_folded COLLATE "C" < $2{scope}',
                term,
                term + "\U0010ffff",
                *extra,
                limit=limit,
                order='name_folded COLLATE "C", id',
            )
            if len(starting) >= limit:
                return starting
            scope = "" if client_id is None else " AND client_id = $2"
            containing = await self._load(
                f"id IN (SELECT id FROM beneficiaries WHERE name_folded LIKE $1{scope}"
                f" LIMIT {4 * limit})",
                like_pattern(term),
                *extra,
                limit=limit,
            )
            return merged_names(starting, containing, limit)
        if client_id is not None:
            where += " AND client_id = $2"
            args.append(client_id)
        return await self._load(where, *args, limit=limit)


class PostgresEvents(EventReads):
    def __init__(self, store: PostgresConn) -> None:
        super().__init__(store.fetch_numbered)
        self.store = store

    async def open(self, new: NewEvent, client_id: int, actor: str, now_ms: int) -> Event:
        async with self.store.connection(transaction=True) as conn:
            event_id = await conn.fetchval(
                "INSERT INTO events (client_id, beneficiary_id, vehicle_id, type, notes, state,"
                " opened_ms, opened_by) VALUES ($1, $2, $3, $4, $5, 'open', $6, $7) RETURNING id",
                client_id,
                new.beneficiary_id,
                new.vehicle_id,
                new.type.value,
                new.notes,
                now_ms,
                actor,
            )
            await conn.execute(
                "INSERT INTO event_log (event_id, at_ms, actor, action, reason)"
                " VALUES ($1, $2, $3, 'open', '')",
                event_id,
                now_ms,
                actor,
            )
        found = await self.get(int(event_id))
        assert found is not None
        return found

    async def change(
        self, before: Event, after: Event, action: str, actor: str, reason: str, now_ms: int
    ) -> Event | None:
        async with self.store.connection(transaction=True) as conn:
            status = await conn.execute(
                "UPDATE events SET state = $1, intake_done_ms = $2 WHERE id = $3 AND state = $4"
                " AND intake_done_ms IS NOT DISTINCT FROM $5",
                after.state.value,
                after.intake_done_ms,
                before.id,
                before.state.value,
                before.intake_done_ms,
            )
            if status != "UPDATE 1":
                return None
            await conn.execute(
                "INSERT INTO event_log (event_id, at_ms, actor, action, reason)"
                " VALUES ($1, $2, $3, $4, $5)",
                before.id,
                now_ms,
                actor,
                action,
                reason,
            )
        return await self.get(before.id)


PG_ATTENDANCE_COLUMNS = (
    ATTENDANCE_READ.replace("origin", "origin::text")
    .replace("destination", "destination::text")
    .replace("last_seen", "last_seen::text")
)


class PostgresAttendances(AttendanceReads):
    def __init__(self, store: PostgresConn) -> None:
        super().__init__(store.fetch_numbered, PG_ATTENDANCE_COLUMNS)
        self.store = store

    async def add(
        self, event: Event, new: NewAttendance, state: AttendanceState, actor: str, now_ms: int
    ) -> Attendance:
        columns = ATTENDANCE_COLUMNS.removeprefix("id, ")
        values = ", ".join(f"${i}::jsonb" if i in (12, 13, 15) else f"${i}" for i in range(1, 18))
        async with self.store.connection(transaction=True) as conn:
            attendance_id = await conn.fetchval(
                f"INSERT INTO attendances ({columns}) VALUES ({values}) RETURNING id",
                *attendance_row(event, new, state, actor),
            )
            await conn.execute(
                "INSERT INTO attendance_log (attendance_id, at_ms, actor, action, detail)"
                " VALUES ($1, $2, $3, 'create', $4)",
                attendance_id,
                now_ms,
                actor,
                state.value,
            )
        found = await self.get(int(attendance_id))
        assert found is not None
        return found
