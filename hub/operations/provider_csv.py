"""Providers as CSV: how networks are onboarded and exported. Pure.

One header row, then one provider per row; ``;`` or ``,`` between fields (taken from the
header).  Lists inside a field are separated by ``|``.  Columns (only name and phone are
required; unknown columns are an error, so a typo never passes silently):

| column | example |
| --- | --- |
| id | (export only; must be empty on import: importing creates providers) |
| name | Guincho Silva |
| phone | +55 11 99999-0000 |
| active | true / false / sim / não / 1 / 0 (default true) |
| city | São Paulo |
| base_lat, base_lng | -23.5505, -46.6333 (the base address, used without live GPS) |
| services | light_tow\\|taxi (codes of hub/operations/services.py) |
| prices | light_tow:150.00:3.50:40\\|taxi:20.00:2.80:0 (service:base R$:per km R$:included km) |
| channels | app\\|web\\|link\\|verbal (default app) |
| preferred | true / false |
| partner_clients, excluded_clients | 3\\|7 (client ids) |
| working_hours | mon-fri 08:00-18:00; sat 08:00-12:00 (empty: around the clock) |
| suspended_until | 2026-12-01T00:00:00-03:00 (ISO 8601 with a zone) |
| suspension_reason | documentos vencidos |
| on_time_pct, acceptance_pct | 92.5 (track record, 0-100) |

``parse`` checks every row and reports every error by row and column; the caller imports
all rows or, if any row is wrong, none.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import msgspec

from hub.errors import BadRequest
from hub.operations.csv_rows import RowError, read
from hub.operations.pricing import PriceRule
from hub.operations.providers import (
    Channel,
    NewProvider,
    Provider,
    WorkingHours,
    checked,
    normalise_phone,
)
from hub.operations.services import service

COLUMNS = (
    "id",
    "name",
    "phone",
    "active",
    "city",
    "base_lat",
    "base_lng",
    "services",
    "prices",
    "channels",
    "preferred",
    "partner_clients",
    "excluded_clients",
    "working_hours",
    "suspended_until",
    "suspension_reason",
    "on_time_pct",
    "acceptance_pct",
)
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_TRUE = {"true", "sim", "yes", "1", "s", "y"}
_FALSE = {"false", "não", "nao", "no", "0", "n"}
_INTERVAL = re.compile(r"^(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})$")


class _Bad(ValueError):
    """One field's problem, raised inside a row and collected by ``parse``."""


def parse(text: str) -> tuple[list[NewProvider], list[RowError]]:
    """Every row as a checked NewProvider, or every error found; never a partial success."""
    rows, errors = read(text, COLUMNS, ("name", "phone"))
    made: list[NewProvider] = []
    for number, fields in rows:
        row_errors: list[RowError] = []
        values: dict[str, Any] = {}
        for column, convert in _CONVERTERS.items():
            if column not in fields:
                continue
            try:
                values[column] = convert(fields[column])
            except _Bad as exc:
                row_errors.append(RowError(number, column, str(exc)))
        if fields.get("id"):
            row_errors.append(RowError(number, "id", "importing creates providers: leave id empty"))
        if row_errors:
            errors.extend(row_errors)
            continue
        try:
            made.append(checked(_provider(values)))
        except BadRequest as exc:
            errors.append(RowError(number, _column_of(exc.message), exc.message))
        except msgspec.ValidationError as exc:
            message, _, path = str(exc).partition(" - at `$.")
            errors.append(RowError(number, _column_of(path.rstrip("`")), message))
    return ([] if errors else made), errors


def _provider(given: dict[str, Any]) -> NewProvider:
    # empty fields came back as None: they take the defaults
    v = {key: value for key, value in given.items() if value is not None}
    lat, lng = v.get("base_lat"), v.get("base_lng")
    if (lat is None) != (lng is None):
        raise BadRequest("base_lat and base_lng go together")
    profile = {
        "services": v.get("services", frozenset()),
        "prices": v.get("prices", {}),
        "city": v.get("city", ""),
        "base": (lat, lng) if lat is not None else None,
        "channels": v.get("channels") or frozenset({Channel.APP}),
        "preferred": v.get("preferred", False),
        "partner_of": v.get("partner_clients", frozenset()),
        "excluded_by": v.get("excluded_clients", frozenset()),
        "working_hours": v.get("working_hours"),
        "suspended_until_ms": v.get("suspended_until"),
        "suspension_reason": v.get("suspension_reason", ""),
        "on_time_pct": v.get("on_time_pct", 100.0),
        "acceptance_pct": v.get("acceptance_pct", 100.0),
    }
    new = {
        "name": v.get("name", ""),
        "phone": v.get("phone", ""),
        "active": v.get("active", True),
        "profile": profile,
    }
    # convert() validates ranges and lengths declared on the Structs.
    return msgspec.convert(new, NewProvider)


# Where a profile check or a schema path points, as the CSV column a user can fix.
_FIELD_COLUMNS = {
    "prices": "prices",
    "base": "base_lat",
    "partner": "partner_clients",
    "partner_of": "partner_clients",
    "excluded_by": "excluded_clients",
    "phone": "phone",
    "name": "name",
    "on_time_pct": "on_time_pct",
    "acceptance_pct": "acceptance_pct",
    "suspension_reason": "suspension_reason",
    "city": "city",
}


def _column_of(text: str) -> str:
    field = text.removeprefix("profile.").split(".")[0].split(" ")[0]
    if field in _FIELD_COLUMNS:
        return _FIELD_COLUMNS[field]
    if text.startswith("clients both"):
        return "partner_clients"
    if text.startswith("base address"):
        return "base_lat"
    return ""


# --- fields ----------------------------------------------------------------------------


# A spreadsheet runs a cell that starts with one of these as a formula.  Exported text
# cells that start so get a leading apostrophe (the usual rule: shown, not run), and an
# import drops that one apostrophe again, so an export imports back as it was.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def inert(text: str) -> str:
    """A text cell a spreadsheet will not run."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _unquoted(raw: str) -> str:
    return raw[1:] if raw.startswith("'") and raw[1:].startswith(FORMULA_STARTS) else raw


def _text(raw: str) -> str:
    return _unquoted(raw)


def _required(raw: str) -> str:
    if not raw:
        raise _Bad("required")
    return _unquoted(raw)


def _bool(raw: str) -> bool | None:
    lowered = raw.lower()
    if not raw:
        return None
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise _Bad(f"not a yes/no value: {raw!r}")


def _number(raw: str) -> float | None:
    if not raw:
        return None
    try:
        return float(Decimal(raw.replace(",", ".")))
    except InvalidOperation:
        raise _Bad(f"not a number: {raw!r}") from None


def _items(raw: str) -> list[str]:
    return [item.strip() for item in raw.split("|") if item.strip()]


def _phone(raw: str) -> str:
    try:
        return normalise_phone(_required(raw))
    except BadRequest as exc:
        raise _Bad(exc.message) from None


def _services(raw: str) -> frozenset[str]:
    codes = frozenset(_items(raw))
    for code in codes:
        try:
            service(code)
        except BadRequest as exc:
            raise _Bad(exc.message) from None
    return codes


def _ids(raw: str) -> frozenset[int]:
    try:
        return frozenset(int(item) for item in _items(raw))
    except ValueError:
        raise _Bad(f"client ids must be integers separated by |: {raw!r}") from None


def _channels(raw: str) -> frozenset[Channel]:
    try:
        return frozenset(Channel(item) for item in _items(raw))
    except ValueError:
        raise _Bad(f"channels are {', '.join(c.value for c in Channel)}: {raw!r}") from None


def _cents(raw: str) -> int:
    try:
        value = Decimal(raw.replace(",", "."))
    except InvalidOperation:
        raise _Bad(f"not an amount in reais: {raw!r}") from None
    if value < 0:
        raise _Bad(f"negative amount: {raw!r}")
    return int((value * 100).to_integral_value())


def _prices(raw: str) -> dict[str, PriceRule]:
    prices = {}
    for item in _items(raw):
        parts = item.split(":")
        if len(parts) != 4:
            raise _Bad(f"a price is service:base:per_km:included_km, got {item!r}")
        code, base, per_km, included = (p.strip() for p in parts)
        km = _number(included)
        if km is None or km < 0:
            raise _Bad(f"included km must be a number >= 0 in {item!r}")
        prices[code] = PriceRule(
            base_fee_cents=_cents(base), per_km_cents=_cents(per_km), included_km=km
        )
    return prices


def _hours(raw: str) -> WorkingHours | None:
    if not raw:
        return None
    days: list[list[tuple[int, int]]] = [[] for _ in DAYS]
    for entry in (e.strip() for e in raw.split(";") if e.strip()):
        try:
            day_part, times = entry.split()
        except ValueError:
            raise _Bad(f"each entry is 'days HH:MM-HH:MM', got {entry!r}") from None
        interval = _INTERVAL.match(times)
        if interval is None:
            raise _Bad(f"times are HH:MM-HH:MM, got {times!r}")
        h1, m1, h2, m2 = (int(g) for g in interval.groups())
        if h1 > 24 or h2 > 24 or m1 > 59 or m2 > 59:
            raise _Bad(f"no such time in {times!r}")
        for day in _days(day_part):
            days[day].append((h1 * 60 + m1, h2 * 60 + m2))
    return WorkingHours(days)


def _days(part: str) -> list[int]:
    found: list[int] = []
    for piece in part.lower().split(","):
        first, _, last = piece.partition("-")
        if first not in DAYS or (last and last not in DAYS):
            raise _Bad(f"days are {', '.join(DAYS)} or ranges like mon-fri, got {part!r}")
        start, end = DAYS.index(first), DAYS.index(last or first)
        found.extend(range(start, end + 1) if start <= end else [*range(start, 7), *range(end + 1)])
    return found


def _instant_ms(raw: str) -> int | None:
    if not raw:
        return None
    try:
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise _Bad(f"not an ISO 8601 date and time: {raw!r}") from None
    if moment.tzinfo is None:
        raise _Bad("the date and time needs a zone, e.g. -03:00")
    return int(moment.timestamp() * 1000)


_CONVERTERS = {
    "name": _required,
    "phone": _phone,
    "active": _bool,
    "city": _text,
    "base_lat": _number,
    "base_lng": _number,
    "services": _services,
    "prices": _prices,
    "channels": _channels,
    "preferred": _bool,
    "partner_clients": _ids,
    "excluded_clients": _ids,
    "working_hours": _hours,
    "suspended_until": _instant_ms,
    "suspension_reason": _text,
    "on_time_pct": _number,
    "acceptance_pct": _number,
}


# --- export ----------------------------------------------------------------------------


def render(providers: list[Provider]) -> str:
    """Providers as CSV in the import format (plus their ids), `;`-separated."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\n")
    writer.writerow(COLUMNS)
    for p in providers:
        f = p.profile
        writer.writerow(
            [
                p.id,
                inert(p.name),
                p.phone,
                "true" if p.active else "false",
                inert(f.city),
                "" if f.base is None else repr(f.base[0]),
                "" if f.base is None else repr(f.base[1]),
                "|".join(sorted(f.services)),
                "|".join(
                    f"{code}:{_reais(r.base_fee_cents)}:{_reais(r.per_km_cents)}:{r.included_km:g}"
                    for code, r in sorted(f.prices.items())
                ),
                "|".join(sorted(c.value for c in f.channels)),
                "true" if f.preferred else "false",
                "|".join(str(c) for c in sorted(f.partner_of)),
                "|".join(str(c) for c in sorted(f.excluded_by)),
                _render_hours(f.working_hours),
                ""
                if f.suspended_until_ms is None
                else datetime.fromtimestamp(f.suspended_until_ms / 1000).astimezone().isoformat(),
                inert(f.suspension_reason),
                f"{f.on_time_pct:g}",
                f"{f.acceptance_pct:g}",
            ]
        )
    return out.getvalue()


def _reais(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


def _render_hours(hours: WorkingHours | None) -> str:
    if hours is None:
        return ""
    return "; ".join(
        f"{DAYS[day]} {s // 60:02d}:{s % 60:02d}-{e // 60:02d}:{e % 60:02d}"
        for day, intervals in enumerate(hours.days)
        for s, e in intervals
    )
