"""A client's base file as CSV: its beneficiaries with their vehicles and plans. Pure.

One header row, then one row per vehicle: a beneficiary with two cars takes two rows with
the same CPF (its own fields are read from the first; the later rows may leave them
empty).  ``;`` or ``,`` between fields, as the header has them.  Columns (cpf, name and
plan are required; unknown columns are an error):

| column | example |
| --- | --- |
| cpf | 529.982.247-25 (check digits verified) |
| name | João da Silva |
| plan | Ouro (the name of one of the client's plans) |
| phones | 11 99999-0000\\|11 3333-4444 |
| street, number, complement | Rua Harmonia, 10, ap 3 |
| district, city, state, cep | Vila Madalena, São Paulo, SP, 05435-000 |
| lat, lng | -23.556, -46.69 |
| active_from, active_until | 2026-01-01 (dates; the period the beneficiary is covered) |
| plate, model, year, colour | ABC1D23, Onix, 2020, prata |

``parse`` reports every error by row and column; the caller imports every beneficiary or,
if anything is wrong, none.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import msgspec

from hub.errors import BadRequest
from hub.operations.beneficiaries import (
    Address,
    Beneficiary,
    NewBeneficiary,
    NewVehicle,
    SearchKind,
    checked_beneficiary,
)
from hub.operations.csv_rows import RowError, read
from hub.operations.documents import cpf_digits
from hub.operations.registry import ImportRefused

if TYPE_CHECKING:
    from hub.operations.records import OperationsRecords

COLUMNS = (
    "cpf", "name", "plan", "phones", "street", "number", "complement", "district", "city",
    "state", "cep", "lat", "lng", "active_from", "active_until", "plate", "model", "year",
    "colour",
)  # fmt: skip
REQUIRED = ("cpf", "name", "plan")
_VEHICLE = ("plate", "model", "year", "colour")


class _Bad(ValueError):
    pass


def parse(
    text: str, client_id: int, plans: dict[str, int]
) -> tuple[list[tuple[int, NewBeneficiary]], list[RowError]]:
    """Every beneficiary of the file, checked, with the row it starts on; or every error
    found (never a part)."""
    rows, errors = read(text, COLUMNS, REQUIRED)
    people: dict[str, dict[str, Any]] = {}  # cpf -> fields of its first row, and vehicles
    first_row: dict[str, int] = {}
    for number, fields in rows:
        try:
            cpf = cpf_digits(fields["cpf"])
        except BadRequest as exc:
            errors.append(RowError(number, "cpf", exc.message))
            continue
        person = people.get(cpf)
        if person is None:
            try:
                person = people[cpf] = _person(fields, client_id, plans)
                first_row[cpf] = number
            except _Bad as exc:
                column, _, message = str(exc).partition(": ")
                errors.append(RowError(number, column, message))
                continue
        if fields.get("plate"):
            try:
                person["vehicles"].append(_vehicle(fields))
            except _Bad as exc:
                column, _, message = str(exc).partition(": ")
                errors.append(RowError(number, column, message))
    made: list[tuple[int, NewBeneficiary]] = []
    for cpf, person in people.items():
        try:
            made.append(
                (first_row[cpf], checked_beneficiary(msgspec.convert(person, NewBeneficiary)))
            )
        except BadRequest as exc:
            errors.append(RowError(first_row[cpf], "", exc.message))
        except msgspec.ValidationError as exc:
            message, _, path = str(exc).partition(" - at `$.")
            errors.append(RowError(first_row[cpf], path.rstrip("`").split(".")[0], message))
    errors.sort(key=lambda e: e.row)
    return ([] if errors else made), errors


def _person(fields: dict[str, str], client_id: int, plans: dict[str, int]) -> dict[str, Any]:
    for column in REQUIRED:
        if not fields.get(column):
            raise _Bad(f"{column}: required")
    plan_id = plans.get(fields["plan"].casefold())
    if plan_id is None:
        raise _Bad(f"plan: the client has no plan {fields['plan']!r}; it has {', '.join(plans)}")
    lat, lng = _number(fields, "lat"), _number(fields, "lng")
    return {
        "client_id": client_id,
        "plan_id": plan_id,
        "name": fields["name"],
        "cpf": fields["cpf"],
        "phones": [p.strip() for p in fields.get("phones", "").split("|") if p.strip()],
        "address": Address(
            street=fields.get("street", ""),
            number=fields.get("number", ""),
            complement=fields.get("complement", ""),
            district=fields.get("district", ""),
            city=fields.get("city", ""),
            state=fields.get("state", "")[:2].upper(),
            cep=fields.get("cep", ""),
            lat=lat,
            lng=lng,
        ),
        "active_from_ms": _date_ms(fields, "active_from"),
        "active_until_ms": _date_ms(fields, "active_until"),
        "vehicles": [],
    }


def _vehicle(fields: dict[str, str]) -> NewVehicle:
    year = fields.get("year", "")
    if year and not year.isdigit():
        raise _Bad(f"year: not a year: {year!r}")
    try:
        return msgspec.convert(
            {
                "plate": fields["plate"],
                "model": fields.get("model", ""),
                "year": int(year) if year else None,
                "colour": fields.get("colour", ""),
            },
            NewVehicle,
        )
    except msgspec.ValidationError as exc:
        message, _, path = str(exc).partition(" - at `$.")
        raise _Bad(f"{path.rstrip('`') or 'plate'}: {message}") from None


def _number(fields: dict[str, str], column: str) -> float | None:
    raw = fields.get(column, "")
    if not raw:
        return None
    try:
        return float(raw.replace(",", "."))
    except ValueError:
        raise _Bad(f"{column}: not a number: {raw!r}") from None


def _date_ms(fields: dict[str, str], column: str) -> int | None:
    raw = fields.get(column, "")
    if not raw:
        return None
    try:
        day = datetime.strptime(raw, "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        raise _Bad(f"{column}: not a date (2026-01-31): {raw!r}") from None
    return int(day.timestamp() * 1000)


async def import_base_file(
    records: OperationsRecords, client_id: int, text: str
) -> list[Beneficiary]:
    """Every beneficiary of the file, or none: ImportRefused lists every problem, CPFs the
    client already has among them."""
    plans = {plan.name.casefold(): plan.id for plan in await records.plans.of_client(client_id)}
    rows, errors = parse(text, client_id, plans)
    for row, new in rows:
        if await records.beneficiaries.search(SearchKind.CPF, new.cpf, client_id=client_id):
            errors.append(RowError(row, "cpf", "the client already has this CPF"))
    if errors:
        raise ImportRefused(sorted(errors, key=lambda e: e.row))
    return await records.beneficiaries.add_many([new for _, new in rows])
