"""Records as rows and back, for both engines: column lists, the values of new rows, and
the records made from result rows, read by column name."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import msgspec

from hub.dispatch.offers import Offer, OfferState
from hub.operations.attendances import Attendance, AttendanceState, Kind, NewAttendance, Place
from hub.operations.beneficiaries import Address, Beneficiary, Limit, NewBeneficiary, Plan, Vehicle
from hub.operations.clients import Client, DispatchRules, Partner
from hub.operations.documents import folded, plate_spellings
from hub.operations.events import Event, EventState, EventType
from hub.operations.providers import Channel, DispatchProfile, Provider
from hub.operations.users import Role, User
from hub.state.db import Row

_encode_json = msgspec.json.Encoder().encode
_decode_profile = msgspec.json.Decoder(DispatchProfile).decode
_decode_rules = msgspec.json.Decoder(DispatchRules).decode
_decode_coverage = msgspec.json.Decoder(dict[str, Limit]).decode
_decode_phones = msgspec.json.Decoder(list[str]).decode
_decode_address = msgspec.json.Decoder(Address).decode
_decode_place = msgspec.json.Decoder(Place | None).decode


def encode_json(value: object) -> str:
    """A value as the JSON text both engines store (PostgreSQL casts it to jsonb)."""
    return _encode_json(value).decode()


# --- providers and users -----------------------------------------------------------------


def provider_from(row: Row) -> Provider:
    return Provider(
        id=row["id"],
        name=row["name"],
        phone=row["phone"],
        active=bool(row["active"]),
        token_version=row["token_version"],
        created_ms=row["created_ms"],
        profile=_decode_profile(row["profile"]),
    )


def user_from(row: Row) -> User:
    return User(
        id=row["id"],
        login=row["login"],
        name=row["name"],
        role=Role(row["role"]),
        active=bool(row["active"]),
        token_version=row["token_version"],
        created_ms=row["created_ms"],
    )


# --- clients, plans, partners -----------------------------------------------------------


def client_from(row: Row) -> Client:
    return Client(
        id=row["id"],
        name=row["name"],
        script=row["script"],
        rules=_decode_rules(row["rules"]),
        active=bool(row["active"]),
        created_ms=row["created_ms"],
    )


PLAN_COLUMNS = "id, client_id, name, coverage"


def plan_from(row: Row) -> Plan:
    return Plan(
        id=row["id"],
        client_id=row["client_id"],
        name=row["name"],
        coverage=_decode_coverage(row["coverage"]),
    )


PARTNER_COLUMNS = "id, client_id, name, address, lat, lng"


def partner_from(row: Row) -> Partner:
    return Partner(
        id=row["id"],
        client_id=row["client_id"],
        name=row["name"],
        address=_decode_address(row["address"]),
        lat=row["lat"],
        lng=row["lng"],
    )


# --- beneficiaries ------------------------------------------------------------------------

BENEFICIARY_COLUMNS = (
    "id, client_id, plan_id, name, cpf, phones, address, active_from_ms, active_until_ms"
)
VEHICLE_COLUMNS = "beneficiary_id, id, plate, model, year, colour"


def beneficiaries_from(rows: Sequence[Row], vehicle_rows: Sequence[Row]) -> list[Beneficiary]:
    """Beneficiaries (BENEFICIARY_COLUMNS rows) with their vehicles (VEHICLE_COLUMNS rows)."""
    vehicles: dict[int, list[Vehicle]] = {}
    for v in vehicle_rows:
        vehicles.setdefault(v["beneficiary_id"], []).append(
            Vehicle(
                id=v["id"], plate=v["plate"], model=v["model"], year=v["year"], colour=v["colour"]
            )
        )
    return [
        Beneficiary(
            id=r["id"],
            client_id=r["client_id"],
            plan_id=r["plan_id"],
            name=r["name"],
            cpf=r["cpf"],
            phones=_decode_phones(r["phones"]),
            address=_decode_address(r["address"]),
            active_from_ms=r["active_from_ms"],
            active_until_ms=r["active_until_ms"],
            vehicles=vehicles.get(r["id"], []),
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


def merged_names(
    starting: list[Beneficiary], containing: list[Beneficiary], limit: int
) -> list[Beneficiary]:
    """Name search results: those starting with the piece, then those containing it."""
    seen = {b.id for b in starting}
    return (starting + [b for b in containing if b.id not in seen])[:limit]


# --- events and attendances -------------------------------------------------------------

EVENT_COLUMNS = (
    "id, client_id, beneficiary_id, vehicle_id, type, notes, state, opened_ms,"
    " intake_done_ms, opened_by"
)


def event_from(row: Row) -> Event:
    return Event(
        id=row["id"],
        client_id=row["client_id"],
        beneficiary_id=row["beneficiary_id"],
        vehicle_id=row["vehicle_id"],
        type=EventType(row["type"]),
        notes=row["notes"],
        state=EventState(row["state"]),
        opened_ms=row["opened_ms"],
        intake_done_ms=row["intake_done_ms"],
        opened_by=row["opened_by"],
    )


ATTENDANCE_COLUMNS = (
    "id, event_id, beneficiary_id, kind, service, avulso, avulso_reason, requester_name,"
    " requester_phone, notes, at_ms, scheduled_ms, origin, destination, police_report,"
    " last_seen, state, created_by, client_id"
)
# Written by dispatch only (AttendanceRecords.add leaves them to their defaults).
DISPATCH_COLUMNS = (
    "provider_id, assigned_ms, promised_ms, arrived_ms, finished_ms, automatic, due_ms,"
    " dispatch_note, price_cents"
)
ATTENDANCE_READ = f"{ATTENDANCE_COLUMNS}, {DISPATCH_COLUMNS}"


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
        event.client_id,
    )


def attendance_from(row: Row) -> Attendance:
    """An attendance from a row of ATTENDANCE_READ."""

    def place(value: str | None) -> Place | None:
        return None if value is None else _decode_place(value)

    return Attendance(
        id=row["id"],
        event_id=row["event_id"],
        beneficiary_id=row["beneficiary_id"],
        kind=Kind(row["kind"]),
        service=row["service"],
        avulso=bool(row["avulso"]),
        avulso_reason=row["avulso_reason"],
        requester_name=row["requester_name"],
        requester_phone=row["requester_phone"],
        notes=row["notes"],
        at_ms=row["at_ms"],
        scheduled_ms=row["scheduled_ms"],
        origin=place(row["origin"]),
        destination=place(row["destination"]),
        police_report=row["police_report"],
        last_seen=place(row["last_seen"]),
        state=AttendanceState(row["state"]),
        created_by=row["created_by"],
        provider_id=row["provider_id"],
        assigned_ms=row["assigned_ms"],
        promised_ms=row["promised_ms"],
        arrived_ms=row["arrived_ms"],
        finished_ms=row["finished_ms"],
        automatic=bool(row["automatic"]),
        due_ms=row["due_ms"],
        dispatch_note=row["dispatch_note"],
        price_cents=row["price_cents"],
        client_id=row["client_id"] or 0,
    )


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


# --- offers ------------------------------------------------------------------------------

OFFER_COLUMNS = (
    "id, attendance_id, provider_id, mode, state, created_ms, deadline_ms, decided_ms,"
    " eta_min, reason, radius_km, created_by, decided_by"
)


def offer_from(row: Row) -> Offer:
    return Offer(
        id=row["id"],
        attendance_id=row["attendance_id"],
        provider_id=row["provider_id"],
        mode=Channel(row["mode"]),
        state=OfferState(row["state"]),
        created_ms=row["created_ms"],
        deadline_ms=row["deadline_ms"],
        decided_ms=row["decided_ms"],
        eta_min=row["eta_min"],
        reason=row["reason"],
        radius_km=row["radius_km"],
        created_by=row["created_by"],
        decided_by=row["decided_by"],
    )


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


_decode_offers = msgspec.json.Decoder(list[Offer]).decode


def offers_from_json(text: str | bytes) -> list[Offer]:
    """Offers from a JSON array of objects keyed by OFFER_COLUMNS (the snapshot's)."""
    return _decode_offers(text)
