"""Records engine on one SQLite file: the embedded default, nothing to install.

One connection in WAL mode with ``synchronous=FULL``: a commit that returned survives a
crash of the process and of the machine.  Writers take an asyncio lock so that transactions
of concurrent coroutines never interleave on the shared connection.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from itertools import islice
from typing import Any

import aiosqlite

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
    merged,
    pack,
    plan_from,
    twin,
)

_PROVIDER_COLUMNS = "id, name, phone, active, device_key, token_version, created_ms, profile"


def _provider(row: Any) -> Provider:
    return Provider(
        id=row[0],
        name=row[1],
        phone=row[2],
        active=bool(row[3]),
        device_key=row[4],
        token_version=row[5],
        created_ms=row[6],
        profile=decode_profile(row[7]),
    )


class SqliteRecords:
    def __init__(self, path: str) -> None:
        self.path = path
        self._db: aiosqlite.Connection | None = None
        self._write_lock = asyncio.Lock()
        self.providers = SqliteProviders(self)
        self.tracks = SqliteTracks(self)
        self.users = SqliteUsers(self)
        self.audit = SqliteAudit(self)
        self.clients = SqliteClients(self)
        self.plans = SqlitePlans(self)
        self.beneficiaries = SqliteBeneficiaries(self)
        self.events = SqliteEvents(self)
        self.attendances = SqliteAttendances(self)

    async def open(self) -> SqliteRecords:
        try:
            db = await aiosqlite.connect(self.path, isolation_level=None)
            await db.execute("PRAGMA journal_mode=WAL")
            await db.execute("PRAGMA synchronous=FULL")
            await db.execute("PRAGMA busy_timeout=5000")
            await db.execute("PRAGMA foreign_keys=ON")
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"cannot open SQLite file {self.path}: {exc}") from None
        self._db = db
        return self

    @property
    def db(self) -> aiosqlite.Connection:
        if self._db is None:
            raise StoreUnavailable("SQLite records store is not open")
        return self._db

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        async with self._write_lock:
            db = self.db
            try:
                await db.execute("BEGIN IMMEDIATE")
                try:
                    yield db
                except BaseException:
                    await db.execute("ROLLBACK")
                    raise
                await db.execute("COMMIT")
            except sqlite3.IntegrityError as exc:
                raise Conflict(f"record conflicts with an existing one: {exc}") from None
            except sqlite3.Error as exc:
                raise StoreUnavailable(f"SQLite failed: {exc}") from None

    async def fetch(self, sql: str, *args: Any) -> list[Any]:
        try:
            async with self.db.execute(sql, args) as cursor:
                return list(await cursor.fetchall())
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"SQLite failed: {exc}") from None

    async def migrate(self) -> list[str]:
        await self.db.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_ms INT)"
        )
        applied = {row[0] for row in await self.fetch("SELECT name FROM schema_migrations")}
        done = []
        for name, sql in scripts("sqlite"):
            if name in applied:
                continue
            async with self.transaction() as db:
                for statement in _statements(sql):
                    await db.execute(statement)
                await db.execute(
                    "INSERT INTO schema_migrations VALUES (?, ?)", (name, int(time.time() * 1000))
                )
            done.append(name)
        return done

    async def secret(self, name: str, candidate: str) -> str:
        async with self.transaction() as db:
            await db.execute("INSERT OR IGNORE INTO secrets VALUES (?, ?)", (name, candidate))
        rows = await self.fetch("SELECT value FROM secrets WHERE name = ?", name)
        return str(rows[0][0])

    async def ping(self) -> None:
        await self.fetch("SELECT 1")

    async def close(self) -> None:
        if self._db is not None:
            db, self._db = self._db, None
            await db.close()


def _statements(script: str) -> list[str]:
    """Split a script into statements the way SQLite does (comments and quotes respected)."""
    statements, buffer = [], ""
    for line in script.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            statements.append(buffer.strip())
            buffer = ""
    return statements


_INSERT_PROVIDER = (
    "INSERT INTO providers (name, phone, active, device_key, created_ms, profile)"
    " VALUES (?, ?, ?, ?, ?, ?)"
)


def _provider_row(new: NewProvider, device_key: str, now_ms: int) -> tuple[Any, ...]:
    return (new.name, new.phone, int(new.active), device_key, now_ms, encode_profile(new.profile))


class SqliteProviders:
    def __init__(self, store: SqliteRecords) -> None:
        self.store = store

    async def add(self, new: NewProvider, device_key: str, now_ms: int) -> Provider:
        async with self.store.transaction() as db:
            cursor = await db.execute(_INSERT_PROVIDER, _provider_row(new, device_key, now_ms))
            provider_id = cursor.lastrowid
        found = await self.get(int(provider_id or 0))
        assert found is not None
        return found

    async def add_many(
        self, news: Sequence[NewProvider], device_keys: Sequence[str], now_ms: int
    ) -> list[Provider]:
        async with self.store.transaction() as db:
            first = None
            for new, key in zip(news, device_keys, strict=True):
                cursor = await db.execute(_INSERT_PROVIDER, _provider_row(new, key, now_ms))
                first = cursor.lastrowid if first is None else first
        if first is None:
            return []
        return await self.page(after_id=first - 1, limit=len(news))

    async def _one(self, where: str, *args: Any) -> Provider | None:
        rows = await self.store.fetch(f"SELECT {_PROVIDER_COLUMNS} FROM providers {where}", *args)
        return _provider(rows[0]) if rows else None

    async def get(self, provider_id: int) -> Provider | None:
        return await self._one("WHERE id = ?", provider_id)

    async def by_device_key(self, device_key: str) -> Provider | None:
        return await self._one("WHERE device_key = ?", device_key)

    async def page(self, *, after_id: int = 0, limit: int = 100) -> list[Provider]:
        rows = await self.store.fetch(
            f"SELECT {_PROVIDER_COLUMNS} FROM providers WHERE id > ? ORDER BY id LIMIT ?",
            after_id,
            limit,
        )
        return [_provider(row) for row in rows]

    async def _update(self, sql: str, *args: Any) -> None:
        async with self.store.transaction() as db:
            await db.execute(sql, args)

    async def bump_token_version(self, provider_id: int) -> Provider | None:
        await self._update(
            "UPDATE providers SET token_version = token_version + 1 WHERE id = ?", provider_id
        )
        return await self.get(provider_id)

    async def set_active(self, provider_id: int, active: bool) -> Provider | None:
        await self._update("UPDATE providers SET active = ? WHERE id = ?", int(active), provider_id)
        return await self.get(provider_id)

    async def set_profile(self, provider_id: int, profile: DispatchProfile) -> Provider | None:
        await self._update(
            "UPDATE providers SET profile = ? WHERE id = ?", encode_profile(profile), provider_id
        )
        return await self.get(provider_id)


class SqliteTracks:
    def __init__(self, store: SqliteRecords) -> None:
        self.store = store

    async def append(self, points: Sequence[TrackPoint]) -> None:
        rows = [(c.provider_id, c.t_first_ms, c.t_last_ms, c.count, c.data) for c in pack(points)]
        if not rows:
            return
        async with self.store.transaction() as db:
            await db.executemany(
                "INSERT INTO track_chunks (provider_id, t_first_ms, t_last_ms, points, data)"
                " VALUES (?, ?, ?, ?, ?)",
                rows,
            )

    async def history(
        self, provider_id: int, *, since_ms: int = 0, limit: int = 1000
    ) -> list[TrackPoint]:
        rows = await self.store.fetch(
            "SELECT data FROM track_chunks WHERE provider_id = ? AND t_last_ms >= ? ORDER BY id",
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
            marks = ",".join("?" * len(provider_ids)) or "NULL"
            rows = await self.store.fetch(
                "SELECT provider_id, data FROM track_chunks"
                f" WHERE provider_id IN ({marks}) ORDER BY provider_id, id",
                *provider_ids,
            )
        return distinct_count(rows)


_USER_COLUMNS = "id, login, name, role, active, token_version, created_ms"


def _user(row: Any) -> User:
    return User(
        id=row[0],
        login=row[1],
        name=row[2],
        role=Role(row[3]),
        active=bool(row[4]),
        token_version=row[5],
        created_ms=row[6],
    )


class SqliteUsers:
    def __init__(self, store: SqliteRecords) -> None:
        self.store = store

    async def add(self, new: NewUser, password_hash: str, now_ms: int) -> User:
        async with self.store.transaction() as db:
            cursor = await db.execute(
                "INSERT INTO users (login, name, role, password_hash, created_ms)"
                " VALUES (?, ?, ?, ?, ?)",
                (new.login, new.name, new.role.value, password_hash, now_ms),
            )
            user_id = cursor.lastrowid
        found = await self.get(int(user_id or 0))
        assert found is not None
        return found

    async def get(self, user_id: int) -> User | None:
        rows = await self.store.fetch(f"SELECT {_USER_COLUMNS} FROM users WHERE id = ?", user_id)
        return _user(rows[0]) if rows else None

    async def credentials(self, login: str) -> tuple[User, str] | None:
        rows = await self.store.fetch(
            f"SELECT {_USER_COLUMNS}, password_hash FROM users WHERE login = ?", login
        )
        return (_user(rows[0]), str(rows[0][7])) if rows else None

    async def page(self, *, after_id: int = 0, limit: int = 100) -> list[User]:
        rows = await self.store.fetch(
            f"SELECT {_USER_COLUMNS} FROM users WHERE id > ? ORDER BY id LIMIT ?", after_id, limit
        )
        return [_user(row) for row in rows]


class SqliteAudit:
    def __init__(self, store: SqliteRecords) -> None:
        self.store = store

    async def append(self, entry: AuditEntry) -> None:
        async with self.store.transaction() as db:
            await db.execute(
                "INSERT INTO audit_log (at_ms, actor, action, target, detail)"
                " VALUES (?, ?, ?, ?, ?)",
                (entry.at_ms, entry.actor, entry.action, entry.target, entry.detail),
            )

    async def recent(self, *, limit: int = 100) -> list[AuditEntry]:
        rows = await self.store.fetch(
            "SELECT at_ms, actor, action, target, detail FROM audit_log ORDER BY id DESC LIMIT ?",
            limit,
        )
        return [
            AuditEntry(at_ms=r[0], actor=r[1], action=r[2], target=r[3], detail=r[4]) for r in rows
        ]


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
    def __init__(self, store: SqliteRecords) -> None:
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


class SqlitePlans:
    def __init__(self, store: SqliteRecords) -> None:
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
    def __init__(self, store: SqliteRecords) -> None:
        self.store = store

    async def add(self, new: NewBeneficiary) -> Beneficiary:
        async with self.store.transaction() as db:
            cursor = await db.execute(
                "INSERT INTO beneficiaries (client_id, plan_id, name, name_folded, cpf, phones,"
                " address, active_from_ms, active_until_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    new.client_id,
                    new.plan_id,
                    new.name,
                    folded(new.name),
                    new.cpf,
                    encode_json(new.phones),
                    encode_json(new.address),
                    new.active_from_ms,
                    new.active_until_ms,
                ),
            )
            beneficiary_id = int(cursor.lastrowid or 0)
            await db.executemany(
                "INSERT INTO vehicles (beneficiary_id, plate, plate_twin, model, year, colour)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                [
                    (beneficiary_id, v.plate, twin(v.plate), v.model, v.year, v.colour)
                    for v in new.vehicles
                ],
            )
        found = await self.get(beneficiary_id)
        assert found is not None
        return found

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
        phrase = '"' + term.replace('"', '""') + '"'  # trigram FTS5: substring of the name
        return await self._load(
            "id IN (SELECT rowid FROM beneficiary_names WHERE beneficiary_names MATCH ?)" + scope,
            phrase,
            *args,
            limit=limit,
        )


class SqliteEvents:
    def __init__(self, store: SqliteRecords) -> None:
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

    async def get(self, event_id: int) -> Event | None:
        rows = await self.store.fetch(f"SELECT {EVENT_COLUMNS} FROM events WHERE id = ?", event_id)
        return event_from(rows[0]) if rows else None

    async def of_beneficiary(self, beneficiary_id: int, *, limit: int = 20) -> list[Event]:
        rows = await self.store.fetch(
            f"SELECT {EVENT_COLUMNS} FROM events WHERE beneficiary_id = ?"
            " ORDER BY opened_ms DESC, id DESC LIMIT ?",
            beneficiary_id,
            limit,
        )
        return [event_from(row) for row in rows]

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

    async def log(self, event_id: int) -> list[EventLogEntry]:
        rows = await self.store.fetch(
            "SELECT at_ms, actor, action, reason FROM event_log WHERE event_id = ? ORDER BY id",
            event_id,
        )
        return [EventLogEntry(at_ms=r[0], actor=r[1], action=r[2], reason=r[3]) for r in rows]


class SqliteAttendances:
    def __init__(self, store: SqliteRecords) -> None:
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

    async def get(self, attendance_id: int) -> Attendance | None:
        rows = await self.store.fetch(
            f"SELECT {ATTENDANCE_COLUMNS} FROM attendances WHERE id = ?", attendance_id
        )
        return attendance_from(rows[0]) if rows else None

    async def of_event(self, event_id: int) -> list[Attendance]:
        rows = await self.store.fetch(
            f"SELECT {ATTENDANCE_COLUMNS} FROM attendances WHERE event_id = ? ORDER BY id",
            event_id,
        )
        return [attendance_from(row) for row in rows]

    async def covered_uses(self, beneficiary_id: int, service: str) -> list[int]:
        rows = await self.store.fetch(
            "SELECT at_ms FROM attendances WHERE beneficiary_id = ? AND service = ?"
            " AND avulso = 0 ORDER BY at_ms",
            beneficiary_id,
            service,
        )
        return [int(r[0]) for r in rows]

    async def log(self, attendance_id: int) -> list[AttendanceLogEntry]:
        rows = await self.store.fetch(
            "SELECT at_ms, actor, action, detail FROM attendance_log WHERE attendance_id = ?"
            " ORDER BY id",
            attendance_id,
        )
        return [AttendanceLogEntry(at_ms=r[0], actor=r[1], action=r[2], detail=r[3]) for r in rows]
