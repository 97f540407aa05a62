"""Providers as CSV: every field, every row error, nothing half-imported, export round trip."""

from __future__ import annotations

import msgspec
import pytest

from hub.operations.provider_csv import inert, parse, render
from hub.operations.providers import Channel, Provider

GOOD = """name;phone;active;city;base_lat;base_lng;services;prices;channels;preferred;\
partner_clients;excluded_clients;working_hours;suspended_until;suspension_reason;\
on_time_pct;acceptance_pct
Guincho Silva;+55 11 99999-0000;sim;São Paulo;-23,5505;-46.6333;light_tow|heavy_tow;\
light_tow:150,00:3.50:40|heavy_tow:400:8:20;app|verbal;true;3|7;9;\
"mon-fri 08:00-18:00; sat 08:00-12:00";;;92.5;88
Táxi Souza;11 3333-4444;;Campinas;;;taxi;;;;;;;2026-12-01T00:00:00-03:00;documentos;;
"""


def test_a_good_file_gives_every_field():
    made, errors = parse(
        GOOD.replace("; sat", ", sat").replace(";\nTáxi", "\nTáxi") if False else GOOD
    )
    assert errors == []
    tow, taxi = made
    assert (tow.name, tow.phone, tow.active) == ("Guincho Silva", "+5511999990000", True)
    p = tow.profile
    assert p.base == (-23.5505, -46.6333)
    assert p.services == {"light_tow", "heavy_tow"}
    assert p.prices["light_tow"].base_fee_cents == 15_000
    assert p.prices["light_tow"].per_km_cents == 350
    assert p.prices["heavy_tow"].included_km == 20
    assert p.channels == {Channel.APP, Channel.VERBAL}
    assert (p.preferred, p.partner_of, p.excluded_by) == (True, {3, 7}, {9})
    assert p.working_hours.open_at(0, 9 * 60) and p.working_hours.open_at(5, 11 * 60)
    assert not p.working_hours.open_at(5, 13 * 60) and not p.working_hours.open_at(6, 9 * 60)
    assert (p.on_time_pct, p.acceptance_pct) == (92.5, 88.0)
    q = taxi.profile
    assert (taxi.active, q.channels, q.base, q.working_hours) == (True, {Channel.APP}, None, None)
    assert q.suspended_until_ms == 1_796_094_000_000  # 2026-12-01T03:00:00Z
    assert q.suspension_reason == "documentos"


@pytest.mark.parametrize(
    ("row", "column", "message"),
    [
        ("X;;", "phone", "required"),
        (";11999990000;", "name", "required"),
        ("X;12;", "phone", "not a phone number"),
        ("X;11999990000;maybe", "active", "yes/no"),
        ("X;11999990000;;rocket", "services", "unknown service"),
        ("X;11999990000;;taxi;taxi:abc:1:0", "prices", "amount"),
        ("X;11999990000;;taxi;taxi:1:1", "prices", "service:base:per_km:included_km"),
        ("X;11999990000;;taxi;light_tow:1:1:0", "prices", "prices for services not offered"),
        ("X;11999990000;;;;pigeon", "channels", "channels are"),
        ("X;11999990000;;;;;someday 08:00-18:00", "working_hours", "days are"),
        ("X;11999990000;;;;;mon 8h-18h", "working_hours", "HH:MM-HH:MM"),
        ("X;11999990000;;;;;;2026-12-01", "suspended_until", "needs a zone"),
        ("X;11999990000;;;;;;;abc", "partner", "client ids"),
        ("X;11999990000;;;;;;;;150", "on_time", "<= 100"),
    ],
)
def test_each_bad_field_is_reported_by_row_and_column(row, column, message):
    header = (
        "name;phone;active;services;prices;channels;working_hours;suspended_until;"
        "partner_clients;on_time_pct"
    )
    made, errors = parse(f"{header}\nFine;11999990000\n{row}\n")
    assert made == []  # nothing, not even the good row
    assert len(errors) == 1
    assert errors[0].row == 3
    assert errors[0].column.startswith(column)
    assert message in errors[0].message


def test_file_level_problems():
    assert parse("")[1][0].message.startswith("the file is empty")
    unknown = parse("name;phone;colour\nX;11999990000;red\n")[1]
    assert (unknown[0].row, unknown[0].column) == (1, "colour")
    missing = parse("name;active\nX;true\n")[1]
    assert [(e.column, e.message) for e in missing] == [("phone", "required column missing")]
    extra = parse("name;phone\nX;11999990000;surplus\n")[1]
    assert "more fields" in extra[0].message
    with_id = parse("id;name;phone\n5;X;11999990000\n")[1]
    assert with_id[0].column == "id"


def test_comma_separated_files_and_blank_lines_work():
    made, errors = parse("name,phone,services\nX,11999990000,taxi|locksmith\n\n")
    assert errors == []
    assert made[0].profile.services == {"taxi", "locksmith"}


def test_export_imports_back_to_the_same_providers():
    made, _ = parse(GOOD)
    stored = [
        msgspec.convert(
            {
                **msgspec.to_builtins(new),
                "id": i,
                "device_key": "k",
                "token_version": 1,
                "created_ms": 0,
            },
            Provider,
        )
        for i, new in enumerate(made, start=1)
    ]
    exported = render(stored)
    without_ids = "\n".join(
        ";".join(["", *line.split(";")[1:]]) if n else line
        for n, line in enumerate(exported.splitlines())
    )
    again, errors = parse(without_ids)
    assert errors == []
    assert again == made


HOSTILE = ['=HYPERLINK("http://x","y")', "@SUM(1+1)*cmd|' /C calc'!A0", "+1", "-2"]


def test_cells_a_spreadsheet_would_run_are_exported_inert_and_import_back_as_they_were():
    made = [
        msgspec.convert(
            {
                "id": i,
                "name": text,
                "phone": "11999990000",
                "active": True,
                "token_version": 1,
                "created_ms": 0,
                "profile": {"city": text, "suspension_reason": text},
            },
            Provider,
        )
        for i, text in enumerate(HOSTILE, start=1)
    ]
    exported = render(made)
    for line in exported.splitlines()[1:]:
        cells = line.split(";")
        for cell in (cells[1].strip('"'), cells[4].strip('"')):
            assert cell.startswith("'"), cell  # shown by a spreadsheet, never run
    without_ids = "\n".join(
        ";".join(["", *line.split(";")[1:]]) if n else line
        for n, line in enumerate(exported.splitlines())
    )
    again, errors = parse(without_ids)
    assert errors == []
    assert [(p.name, p.profile.city) for p in again] == [(t, t) for t in HOSTILE]
    assert (inert("\tx"), inert("\rx"), inert("ok=1")) == ("'\tx", "'\rx", "ok=1")
