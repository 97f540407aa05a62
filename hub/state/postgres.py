"""Records engine on PostgreSQL through an asyncpg pool: the distributed mode.

Every table lives in ``schema`` (the tests give each test its own).  Track points go in with
one ``INSERT ... SELECT FROM unnest(...)`` per batch: a single round trip whatever the size.
asyncpg and OS errors are mapped here to the hub's own errors.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from itertools import islice
from typing import Any

import asyncpg

from hub.errors import Conflict, StoreUnavailable
from hub.operations.attendances import (
    Attendance,
    AttendanceLogEntry,
    AttendanceState,
    NewAttendance,
)
from hub.operations.beneficiaries import Beneficiary, NewBeneficiary, NewPlan, Plan, SearchKind
from hub.operations.clients import Client, NewClient
from hub.operations.documents import folded
from hub.operations.events import Event, EventLogEntry, NewEvent
from hub.operations.providers import DispatchProfile, NewProvider, Provider
from hub.operations.users import AuditEntry, NewUser, Role, User
from hub.state.migrations import scripts
from hub.state.records import (
    ATTENDANCE_COLUMNS,
    BENEFICIARY_COLUMNS,
    EVENT_COLUMNS,
    VEHICLE_COLUMNS,
    TrackPoint,
    attendance_from,
    attendance_row,
    beneficiaries_from,
    decode_profile,
    decode_rules,
    distinct_count,
    encode_json,
    encode_profile,
    encode_rules,
    event_from,
    like_pattern,
    merged,
    pack,
    plan_from,
    twin,
)

_PROVIDER_COLUMNS = (
    "id, name, phone, active, device_key, token_version,"
    " (extract(epoch from created_at) * 1000)::bigint AS created_ms, profile::text AS profile"
)
_MS = "to_timestamp({} / 1000.0)"
# Serialises migrations of concurrently starting nodes.
_MIGRATION_LOCK = 7_201_004


class PostgresRecords:
    def __init__(self, url: str, *, schema: str = "public", pool_size: int = 10) -> None:
        self.url = url
        self.schema = schema
        self.pool_size = pool_size
        self._pool: asyncpg.Pool | None = None
        self.providers = PostgresProviders(self)
        self.tracks = PostgresTracks(self)
        self.users = PostgresUsers(self)
        self.audit = PostgresAudit(self)
        self.clients = PostgresClients(self)
        self.plans = PostgresPlans(self)
        self.beneficiaries = PostgresBeneficiaries(self)
        self.events = PostgresEvents(self)
        self.attendances = PostgresAttendances(self)

    async def open(self) -> PostgresRecords:
        try:
            self._pool = await asyncpg.create_pool(
                self.url,
                min_size=1,
                max_size=self.pool_size,
                server_settings={"search_path": self.schema},
            )
        except (OSError, asyncpg.PostgresError) as exc:
            raise StoreUnavailable(f"cannot connect to PostgreSQL: {exc}") from None
        return self

    @asynccontextmanager
    async def connection(self, *, transaction: bool = False) -> AsyncIterator[Any]:
        if self._pool is None:
            raise StoreUnavailable("PostgreSQL records store is not open")
        try:
            async with self._pool.acquire() as conn:
                if transaction:
                    async with conn.transaction():
                        yield conn
                else:
                    yield conn
        except asyncpg.UniqueViolationError as exc:
            raise Conflict(f"record conflicts with an existing one: {exc.detail}") from None
        except asyncpg.ForeignKeyViolationError as exc:
            raise Conflict(f"refers to a record that does not exist: {exc.detail}") from None
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            raise StoreUnavailable(f"PostgreSQL failed: {exc}") from None

    async def fetch(self, sql: str, *args: Any) -> list[Any]:
        async with self.connection() as conn:
            return list(await conn.fetch(sql, *args))

    async def migrate(self) -> list[str]:
        done = []
        async with self.connection(transaction=True) as conn:
            await conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{self.schema}"')
            await conn.execute("SELECT pg_advisory_xact_lock($1)", _MIGRATION_LOCK)
            await conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations"
                " (name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
            )
            applied = {r[0] for r in await conn.fetch("SELECT name FROM schema_migrations")}
            for name, sql in scripts("postgres"):
                if name not in applied:
                    async with conn.transaction():
                        await conn.execute(sql)
                        await conn.execute("INSERT INTO schema_migrations (name) VALUES ($1)", name)
                    done.append(name)
        return done

    async def secret(self, name: str, candidate: str) -> str:
        async with self.connection() as conn:
            await conn.execute(
                "INSERT INTO secrets VALUES ($1, $2) ON CONFLICT (name) DO NOTHING", name, candidate
            )
            return str(await conn.fetchval("SELECT value FROM secrets WHERE name = $1", name))

    async def ping(self) -> None:
        await self.fetch("SELECT 1")

    async def close(self) -> None:
        if self._pool is not None:
            pool, self._pool = self._pool, None
            await pool.close()


def _provider(row: Any) -> Provider:
    fields = dict(row)
    fields["profile"] = decode_profile(fields["profile"])
    return Provider(**fields)


class PostgresProviders:
    def __init__(self, store: PostgresRecords) -> None:
        self.store = store

    async def _one(self, sql: str, *args: Any) -> Provider | None:
        rows = await self.store.fetch(sql, *args)
        return _provider(rows[0]) if rows else None

    async def add(self, new: NewProvider, device_key: str, now_ms: int) -> Provider:
        found = await self._one(
            "INSERT INTO providers (name, phone, active, device_key, created_at, profile)"
            f" VALUES ($1, $2, $3, $4, {_MS.format('$5::bigint')}, $6::jsonb)"
            f" RETURNING {_PROVIDER_COLUMNS}",
            new.name,
            new.phone,
            new.active,
            device_key,
            now_ms,
            encode_profile(new.profile),
        )
        assert found is not None
        return found

    async def add_many(
        self, news: Sequence[NewProvider], device_keys: Sequence[str], now_ms: int
    ) -> list[Provider]:
        async with self.store.connection(transaction=True) as conn:
            rows = await conn.fetch(
                "INSERT INTO providers (name, phone, active, device_key, created_at, profile)"
                f" SELECT n, p, a, k, {_MS.format('$5::bigint')}, j::jsonb"
                " FROM unnest($1::text[], $2::text[], $3::bool[], $4::text[], $6::text[])"
                " WITH ORDINALITY AS u(n, p, a, k, j, i) ORDER BY i"
                f" RETURNING {_PROVIDER_COLUMNS}",
                [n.name for n in news],
                [n.phone for n in news],
                [n.active for n in news],
                list(device_keys),
                now_ms,
                [encode_profile(n.profile) for n in news],
            )
        return sorted((_provider(row) for row in rows), key=lambda p: p.id)

    async def get(self, provider_id: int) -> Provider | None:
        return await self._one(
            f"SELECT {_PROVIDER_COLUMNS} FROM providers WHERE id = $1", provider_id
        )

    async def by_device_key(self, device_key: str) -> Provider | None:
        return await self._one(
            f"SELECT {_PROVIDER_COLUMNS} FROM providers WHERE device_key = $1", device_key
        )

    async def page(self, *, after_id: int = 0, limit: int = 100) -> list[Provider]:
        rows = await self.store.fetch(
            f"SELECT {_PROVIDER_COLUMNS} FROM providers WHERE id > $1 ORDER BY id LIMIT $2",
            after_id,
            limit,
        )
        return [_provider(row) for row in rows]

    async def bump_token_version(self, provider_id: int) -> Provider | None:
        return await self._one(
            "UPDATE providers SET token_version = token_version + 1 WHERE id = $1"
            f" RETURNING {_PROVIDER_COLUMNS}",
            provider_id,
        )

    async def set_active(self, provider_id: int, active: bool) -> Provider | None:
        return await self._one(
            f"UPDATE providers SET active = $2 WHERE id = $1 RETURNING {_PROVIDER_COLUMNS}",
            provider_id,
            active,
        )

    async def set_profile(self, provider_id: int, profile: DispatchProfile) -> Provider | None:
        return await self._one(
            f"UPDATE providers SET profile = $2::jsonb WHERE id = $1 RETURNING {_PROVIDER_COLUMNS}",
            provider_id,
            encode_profile(profile),
        )


class PostgresTracks:
    def __init__(self, store: PostgresRecords) -> None:
        self.store = store

    async def append(self, points: Sequence[TrackPoint]) -> None:
        chunks = pack(points)
        if not chunks:
            return
        async with self.store.connection() as conn:
            await conn.execute(
                "INSERT INTO track_chunks (provider_id, t_first, t_last, points, data)"
                f" SELECT p, {_MS.format('f')}, {_MS.format('l')}, n, d"
                " FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::int[], $5::bytea[])"
                " AS u(p, f, l, n, d)",
                [c.provider_id for c in chunks],
                [c.t_first_ms for c in chunks],
                [c.t_last_ms for c in chunks],
                [c.count for c in chunks],
                [c.data for c in chunks],
            )

    async def history(
        self, provider_id: int, *, since_ms: int = 0, limit: int = 1000
    ) -> list[TrackPoint]:
        rows = await self.store.fetch(
            "SELECT data FROM track_chunks"
            f" WHERE provider_id = $1 AND t_last >= {_MS.format('$2::bigint')} ORDER BY id",
            provider_id,
            since_ms,
        )
        return list(islice(merged((row[0] for row in rows), since_ms), limit))

    async def count(self, provider_ids: Sequence[int] | None = None) -> int:
        if provider_ids is None:
            rows = await self.store.fetch(
                "SELECT provider_id, data FROM track_chunks ORDER BY provider_id, id"
            )
        else:
            rows = await self.store.fetch(
                "SELECT provider_id, data FROM track_chunks WHERE provider_id = ANY($1::bigint[])"
                " ORDER BY provider_id, id",
                list(provider_ids),
            )
        return distinct_count(rows)


_USER_COLUMNS = (
    "id, login, name, role, active, token_version,"
    " (extract(epoch from created_at) * 1000)::bigint AS created_ms"
)


def _user(row: Any) -> User:
    fields = {k: row[k] for k in User.__struct_fields__}
    fields["role"] = Role(fields["role"])
    return User(**fields)


class PostgresUsers:
    def __init__(self, store: PostgresRecords) -> None:
        self.store = store

    async def add(self, new: NewUser, password_hash: str, now_ms: int) -> User:
        rows = await self.store.fetch(
            "INSERT INTO users (login, name, role, password_hash, created_at)"
            f" VALUES ($1, $2, $3, $4, {_MS.format('$5::bigint')}) RETURNING {_USER_COLUMNS}",
            new.login,
            new.name,
            new.role.value,
            password_hash,
            now_ms,
        )
        return _user(rows[0])

    async def get(self, user_id: int) -> User | None:
        rows = await self.store.fetch(f"SELECT {_USER_COLUMNS} FROM users WHERE id = $1", user_id)
        return _user(rows[0]) if rows else None

    async def credentials(self, login: str) -> tuple[User, str] | None:
        rows = await self.store.fetch(
            f"SELECT {_USER_COLUMNS}, password_hash FROM users WHERE login = $1", login
        )
        return (_user(rows[0]), str(rows[0]["password_hash"])) if rows else None

    async def page(self, *, after_id: int = 0, limit: int = 100) -> list[User]:
        rows = await self.store.fetch(
            f"SELECT {_USER_COLUMNS} FROM users WHERE id > $1 ORDER BY id LIMIT $2",
            after_id,
            limit,
        )
        return [_user(row) for row in rows]


class PostgresAudit:
    def __init__(self, store: PostgresRecords) -> None:
        self.store = store

    async def append(self, entry: AuditEntry) -> None:
        async with self.store.connection() as conn:
            await conn.execute(
                "INSERT INTO audit_log (at, actor, action, target, detail)"
                f" VALUES ({_MS.format('$1::bigint')}, $2, $3, $4, $5)",
                entry.at_ms,
                entry.actor,
                entry.action,
                entry.target,
                entry.detail,
            )

    async def recent(self, *, limit: int = 100) -> list[AuditEntry]:
        rows = await self.store.fetch(
            "SELECT (extract(epoch from at) * 1000)::bigint AS at_ms, actor, action, target,"
            " detail FROM audit_log ORDER BY id DESC LIMIT $1",
            limit,
        )
        return [AuditEntry(**dict(row)) for row in rows]


_CLIENT_COLUMNS = (
    "id, name, script, rules::text AS rules, active,"
    " (extract(epoch from created_at) * 1000)::bigint AS created_ms"
)


def _client(row: Any) -> Client:
    fields = dict(row)
    fields["rules"] = decode_rules(fields["rules"])
    return Client(**fields)


class PostgresClients:
    def __init__(self, store: PostgresRecords) -> None:
        self.store = store

    async def _one(self, sql: str, *args: Any) -> Client | None:
        rows = await self.store.fetch(sql, *args)
        return _client(rows[0]) if rows else None

    async def add(self, new: NewClient, now_ms: int) -> Client:
        found = await self._one(
            "INSERT INTO clients (name, script, rules, active, created_at)"
            f" VALUES ($1, $2, $3::jsonb, $4, {_MS.format('$5::bigint')})"
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


class PostgresPlans:
    def __init__(self, store: PostgresRecords) -> None:
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
    def __init__(self, store: PostgresRecords) -> None:
        self.store = store

    async def add(self, new: NewBeneficiary) -> Beneficiary:
        async with self.store.connection(transaction=True) as conn:
            beneficiary_id = await conn.fetchval(
                "INSERT INTO beneficiaries (client_id, plan_id, name, name_folded, cpf,"
                " phones, address, active_from_ms, active_until_ms)"
                " VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7::jsonb, $8, $9) RETURNING id",
                new.client_id,
                new.plan_id,
                new.name,
                folded(new.name),
                new.cpf,
                encode_json(new.phones),
                encode_json(new.address),
                new.active_from_ms,
                new.active_until_ms,
            )
            await conn.executemany(
                "INSERT INTO vehicles (beneficiary_id, plate, plate_twin, model, year,"
                " colour) VALUES ($1, $2, $3, $4, $5, $6)",
                [
                    (beneficiary_id, v.plate, twin(v.plate), v.model, v.year, v.colour)
                    for v in new.vehicles
                ],
            )
        found = await self.get(int(beneficiary_id))
        assert found is not None
        return found

    async def _load(self, where: str, *args: Any, limit: int = 20) -> list[Beneficiary]:
        rows = await self.store.fetch(
            f"SELECT {_PG_BENEFICIARY_COLUMNS} FROM beneficiaries WHERE {where}"
            f" ORDER BY name_folded, id LIMIT {int(limit)}",
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
            where = "name_folded LIKE $1"
            args = [like_pattern(term)]
        if client_id is not None:
            where += " AND client_id = $2"
            args.append(client_id)
        return await self._load(where, *args, limit=limit)


class PostgresEvents:
    def __init__(self, store: PostgresRecords) -> None:
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

    async def get(self, event_id: int) -> Event | None:
        rows = await self.store.fetch(f"SELECT {EVENT_COLUMNS} FROM events WHERE id = $1", event_id)
        return event_from(rows[0]) if rows else None

    async def of_beneficiary(self, beneficiary_id: int, *, limit: int = 20) -> list[Event]:
        rows = await self.store.fetch(
            f"SELECT {EVENT_COLUMNS} FROM events WHERE beneficiary_id = $1"
            " ORDER BY opened_ms DESC, id DESC LIMIT $2",
            beneficiary_id,
            limit,
        )
        return [event_from(row) for row in rows]

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

    async def log(self, event_id: int) -> list[EventLogEntry]:
        rows = await self.store.fetch(
            "SELECT at_ms, actor, action, reason FROM event_log WHERE event_id = $1 ORDER BY id",
            event_id,
        )
        return [EventLogEntry(**dict(row)) for row in rows]


_PG_ATTENDANCE_COLUMNS = (
    ATTENDANCE_COLUMNS.replace("origin", "origin::text")
    .replace("destination", "destination::text")
    .replace("last_seen", "last_seen::text")
)


class PostgresAttendances:
    def __init__(self, store: PostgresRecords) -> None:
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

    async def get(self, attendance_id: int) -> Attendance | None:
        rows = await self.store.fetch(
            f"SELECT {_PG_ATTENDANCE_COLUMNS} FROM attendances WHERE id = $1", attendance_id
        )
        return attendance_from(rows[0]) if rows else None

    async def of_event(self, event_id: int) -> list[Attendance]:
        rows = await self.store.fetch(
            f"SELECT {_PG_ATTENDANCE_COLUMNS} FROM attendances WHERE event_id = $1 ORDER BY id",
            event_id,
        )
        return [attendance_from(row) for row in rows]

    async def covered_uses(self, beneficiary_id: int, service: str) -> list[int]:
        rows = await self.store.fetch(
            "SELECT at_ms FROM attendances WHERE beneficiary_id = $1 AND service = $2"
            " AND NOT avulso ORDER BY at_ms",
            beneficiary_id,
            service,
        )
        return [int(r[0]) for r in rows]

    async def log(self, attendance_id: int) -> list[AttendanceLogEntry]:
        rows = await self.store.fetch(
            "SELECT at_ms, actor, action, detail FROM attendance_log WHERE attendance_id = $1"
            " ORDER BY id",
            attendance_id,
        )
        return [AttendanceLogEntry(**dict(row)) for row in rows]
