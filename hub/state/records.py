"""The records role: durable rows (SQLite embedded, PostgreSQL distributed).

Each sub-role is a small Protocol; ``Records`` bundles them with the engine's lifecycle.
Both implementations pass tests/state/test_records_contract.py.
GPS history is stored in chunks (hub/ingest/tracks.py).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any, Protocol

import msgspec

from hub.ingest.tracks import TrackRecords
from hub.operations.attendances import (
    Attendance,
    AttendanceLogEntry,
    AttendanceState,
    Kind,
    NewAttendance,
    Place,
)
from hub.operations.beneficiaries import (
    Address,
    Beneficiary,
    Limit,
    NewBeneficiary,
    Plan,
    Vehicle,
)
from hub.operations.clients import DispatchRules, Partner
from hub.operations.documents import folded, plate_spellings
from hub.operations.events import Event, EventLogEntry, EventState, EventType
from hub.operations.providers import DispatchProfile
from hub.operations.records import OperationsRecords

if TYPE_CHECKING:
    from hub.dispatch.records import DispatchRecords
    from hub.state.idempotency import IdempotencyRecords


_encode_json = msgspec.json.Encoder().encode
_decode_profile_json = msgspec.json.Decoder(DispatchProfile).decode


def encode_profile(profile: DispatchProfile) -> str:
    return _encode_json(profile).decode()


def decode_profile(stored: str | bytes) -> DispatchProfile:
    return _decode_profile_json(stored)


_decode_rules_json = msgspec.json.Decoder(DispatchRules).decode


def encode_rules(rules: DispatchRules) -> str:
    return _encode_json(rules).decode()


def decode_rules(stored: str | bytes) -> DispatchRules:
    return _decode_rules_json(stored)


_decode_coverage = msgspec.json.Decoder(dict[str, Limit]).decode
_decode_phones = msgspec.json.Decoder(list[str]).decode
_decode_address = msgspec.json.Decoder(Address).decode


def encode_json(value: object) -> str:
    return _encode_json(value).decode()


def plan_from(row: Sequence[Any]) -> Plan:
    """A plan from (id, client_id, name, coverage JSON)."""
    return Plan(id=row[0], client_id=row[1], name=row[2], coverage=_decode_coverage(row[3]))


BENEFICIARY_COLUMNS = (
    "id, client_id, plan_id, name, cpf, phones, address, active_from_ms, active_until_ms"
)
VEHICLE_COLUMNS = "beneficiary_id, id, plate, model, year, colour"


def beneficiaries_from(
    rows: Sequence[Sequence[Any]], vehicle_rows: Sequence[Sequence[Any]]
) -> list[Beneficiary]:
    """Beneficiaries (BENEFICIARY_COLUMNS rows) with their vehicles (VEHICLE_COLUMNS rows)."""
    vehicles: dict[int, list[Vehicle]] = {}
    for v in vehicle_rows:
        vehicles.setdefault(v[0], []).append(
            Vehicle(id=v[1], plate=v[2], model=v[3], year=v[4], colour=v[5])
        )
    return [
        Beneficiary(
            id=r[0],
            client_id=r[1],
            plan_id=r[2],
            name=r[3],
            cpf=r[4],
            phones=_decode_phones(r[5]),
            address=_decode_address(r[6]),
            active_from_ms=r[7],
            active_until_ms=r[8],
            vehicles=vehicles.get(r[0], []),
        )
        for r in rows
    ]


def twin(canonical_plate: str) -> str:
    """The same plate in the other format (stored beside it, so either spelling finds it)."""
    (other,) = plate_spellings(canonical_plate) - {canonical_plate}
    return other


def beneficiary_row(new: NewBeneficiary) -> tuple[Any, ...]:
    """The values of a new beneficiaries row: client_id, plan_id, name, name_folded, cpf,
    phones, address, active_from_ms, active_until_ms."""
    return (
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


def vehicle_rows(beneficiary_id: int, new: NewBeneficiary) -> list[tuple[Any, ...]]:
    """The values of its vehicles rows: beneficiary_id, plate, plate_twin, model, year,
    colour."""
    return [
        (beneficiary_id, v.plate, twin(v.plate), v.model, v.year, v.colour) for v in new.vehicles
    ]


EVENT_COLUMNS = (
    "id, client_id, beneficiary_id, vehicle_id, type, notes, state, opened_ms,"
    " intake_done_ms, opened_by"
)


def event_from(row: Sequence[Any]) -> Event:
    return Event(
        id=row[0],
        client_id=row[1],
        beneficiary_id=row[2],
        vehicle_id=row[3],
        type=EventType(row[4]),
        notes=row[5],
        state=EventState(row[6]),
        opened_ms=row[7],
        intake_done_ms=row[8],
        opened_by=row[9],
    )


ATTENDANCE_COLUMNS = (
    "id, event_id, beneficiary_id, kind, service, avulso, avulso_reason, requester_name,"
    " requester_phone, notes, at_ms, scheduled_ms, origin, destination, police_report,"
    " last_seen, state, created_by"
)
# Written by dispatch only (AttendanceRecords.add leaves them to their defaults).
DISPATCH_COLUMNS = (
    "provider_id, assigned_ms, promised_ms, arrived_ms, finished_ms, automatic, due_ms,"
    " dispatch_note, price_cents"
)
ATTENDANCE_READ = f"{ATTENDANCE_COLUMNS}, {DISPATCH_COLUMNS}"
_decode_place = msgspec.json.Decoder(Place | None).decode


def attendance_row(
    event: Event, new: NewAttendance, state: AttendanceState, actor: str
) -> tuple[Any, ...]:
    """The values of ATTENDANCE_COLUMNS after id, places as JSON."""

    def place(p: Place | None) -> str | None:
        return None if p is None else encode_json(p)

    return (
        event.id,
        event.beneficiary_id,
        new.kind.value,
        new.service,
        new.avulso,
        new.avulso_reason,
        new.requester_name,
        new.requester_phone,
        new.notes,
        new.at_ms,
        new.scheduled_ms,
        place(new.origin),
        place(new.destination),
        new.police_report,
        place(new.last_seen),
        state.value,
        actor,
    )


def attendance_from(row: Sequence[Any]) -> Attendance:
    """An attendance from ATTENDANCE_COLUMNS then DISPATCH_COLUMNS."""

    def place(value: str | None) -> Place | None:
        return None if value is None else _decode_place(value)

    return Attendance(
        id=row[0],
        event_id=row[1],
        beneficiary_id=row[2],
        kind=Kind(row[3]),
        service=row[4],
        avulso=bool(row[5]),
        avulso_reason=row[6],
        requester_name=row[7],
        requester_phone=row[8],
        notes=row[9],
        at_ms=row[10],
        scheduled_ms=row[11],
        origin=place(row[12]),
        destination=place(row[13]),
        police_report=row[14],
        last_seen=place(row[15]),
        state=AttendanceState(row[16]),
        created_by=row[17],
        provider_id=row[18],
        assigned_ms=row[19],
        promised_ms=row[20],
        arrived_ms=row[21],
        finished_ms=row[22],
        automatic=bool(row[23]),
        due_ms=row[24],
        dispatch_note=row[25],
        price_cents=row[26],
    )


class EventReads:
    """The read side of EventRecords over an engine's ``fetch`` (``?`` placeholders)."""

    def __init__(self, fetch: Callable[..., Awaitable[list[Any]]]) -> None:
        self.fetch = fetch

    async def get(self, event_id: int) -> Event | None:
        rows = await self.fetch(f"SELECT {EVENT_COLUMNS} FROM events WHERE id = ?", event_id)
        return event_from(rows[0]) if rows else None

    async def of_beneficiary(self, beneficiary_id: int, *, limit: int = 20) -> list[Event]:
        rows = await self.fetch(
            f"SELECT {EVENT_COLUMNS} FROM events WHERE beneficiary_id = ?"
            " ORDER BY opened_ms DESC, id DESC LIMIT ?",
            beneficiary_id,
            limit,
        )
        return [event_from(row) for row in rows]

    async def log(self, event_id: int) -> list[EventLogEntry]:
        rows = await self.fetch(
            "SELECT at_ms, actor, action, reason FROM event_log WHERE event_id = ? ORDER BY id",
            event_id,
        )
        return [EventLogEntry(at_ms=r[0], actor=r[1], action=r[2], reason=r[3]) for r in rows]


class AttendanceReads:
    """The read side of AttendanceRecords over an engine's ``fetch`` (``?`` placeholders)
    and its spelling of ATTENDANCE_READ (PostgreSQL reads the JSON columns as text)."""

    def __init__(
        self, fetch: Callable[..., Awaitable[list[Any]]], columns: str = ATTENDANCE_READ
    ) -> None:
        self.fetch = fetch
        self.columns = columns

    async def _attendances(self, where: str, *args: Any) -> list[Attendance]:
        rows = await self.fetch(f"SELECT {self.columns} FROM attendances WHERE {where}", *args)
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
        marks = ",".join("?" * len(states)) or "NULL"
        return await self._attendances(f"state IN ({marks}) ORDER BY id LIMIT ?", *states, limit)

    async def covered_uses(self, beneficiary_id: int, service: str) -> list[int]:
        rows = await self.fetch(
            "SELECT at_ms FROM attendances WHERE beneficiary_id = ? AND service = ?"
            " AND avulso = ? AND state <> 'cancelled' ORDER BY at_ms",
            beneficiary_id,
            service,
            False,
        )
        return [int(r[0]) for r in rows]

    async def log(self, attendance_id: int) -> list[AttendanceLogEntry]:
        rows = await self.fetch(
            "SELECT at_ms, actor, action, detail FROM attendance_log WHERE attendance_id = ?"
            " ORDER BY id",
            attendance_id,
        )
        return [AttendanceLogEntry(at_ms=r[0], actor=r[1], action=r[2], detail=r[3]) for r in rows]


def dispatch_row(attendance: Attendance) -> tuple[Any, ...]:
    """The values of DISPATCH_COLUMNS, then state."""
    a = attendance
    return (
        a.provider_id,
        a.assigned_ms,
        a.promised_ms,
        a.arrived_ms,
        a.finished_ms,
        a.automatic,
        a.due_ms,
        a.dispatch_note,
        a.price_cents,
        a.state.value,
    )


_decode_address_json = msgspec.json.Decoder(Address).decode
PARTNER_COLUMNS = "id, client_id, name, address, lat, lng"


def partner_from(row: Sequence[Any]) -> Partner:
    return Partner(
        id=row[0],
        client_id=row[1],
        name=row[2],
        address=_decode_address_json(row[3]),
        lat=row[4],
        lng=row[5],
    )


def merged_names(
    starting: list[Beneficiary], containing: list[Beneficiary], limit: int
) -> list[Beneficiary]:
    """Name search results: those starting with the piece, then those containing it."""
    seen = {b.id for b in starting}
    return (starting + [b for b in containing if b.id not in seen])[:limit]


def like_pattern(fragment: str) -> str:
    """A LIKE pattern matching ``fragment`` anywhere, its own % and _ taken literally."""
    escaped = fragment.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


class Records(OperationsRecords, Protocol):
    """Every records role, and the engine's lifecycle."""

    @property
    def tracks(self) -> TrackRecords: ...

    @property
    def dispatch(self) -> DispatchRecords: ...

    @property
    def idempotency(self) -> IdempotencyRecords: ...

    async def migrate(self) -> list[str]:
        """Apply pending migrations in order, each in its own transaction; return their names."""

    async def secret(self, name: str, candidate: str) -> str:
        """The stored secret ``name``; stores ``candidate`` first if none exists (atomic)."""

    async def ping(self) -> None:
        """Raise StoreUnavailable unless the store answers a query."""

    async def close(self) -> None:
        """Release connections; idempotent."""
