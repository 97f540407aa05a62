"""Attendance rules: plan coverage and usage, avulso, what each kind needs."""

from __future__ import annotations

import msgspec
import pytest

from hub.errors import BadRequest, Conflict
from hub.operations.attendances import (
    DAY_MS,
    Kind,
    NewAttendance,
    Place,
    checked_attendance,
    usage,
)
from hub.operations.beneficiaries import Address, Limit, Plan

NOW = 1_800_000_000_000
PLAN = Plan(
    id=1, client_id=1, name="P", coverage={"light_tow": Limit(uses_per_period=2, period_days=30)}
)
HERE = Place(address=Address(street="Avenida Paulista", number="1578"), lat=-23.56, lng=-46.65)


def tow(**changes) -> NewAttendance:
    base = NewAttendance(
        kind=Kind.ASSISTANCE,
        service="light_tow",
        requester_name=" Ana ",
        requester_phone="(11) 99999-0000",
        origin=HERE,
        destination=HERE,
    )
    return msgspec.structs.replace(base, **changes)


def test_usage_counts_only_the_limits_period():
    limit = Limit(uses_per_period=2, period_days=30)
    past = [NOW - 40 * DAY_MS, NOW - 10 * DAY_MS]
    assert usage("light_tow", limit, past, NOW).used == 1
    assert usage("light_tow", limit, past, NOW).remaining == 1
    assert usage("taxi", Limit(), past, NOW).remaining is None


def test_a_covered_assistance_is_tidied():
    checked = checked_attendance(
        tow(), PLAN, usage("light_tow", PLAN.coverage["light_tow"], [], NOW), NOW
    )
    assert (checked.requester_name, checked.requester_phone, checked.at_ms) == (
        "Ana",
        "11999990000",
        NOW,
    )


def test_used_up_or_uncovered_needs_avulso_with_a_reason():
    spent = usage("light_tow", PLAN.coverage["light_tow"], [NOW - DAY_MS, NOW - 2 * DAY_MS], NOW)
    with pytest.raises(Conflict, match="used up"):
        checked_attendance(tow(), PLAN, spent, NOW)
    with pytest.raises(Conflict, match="not covered"):
        checked_attendance(tow(service="taxi"), PLAN, None, NOW)
    with pytest.raises(BadRequest, match="needs a reason"):
        checked_attendance(tow(avulso=True), PLAN, spent, NOW)
    assert checked_attendance(
        tow(avulso=True, avulso_reason="cliente paga"), PLAN, spent, NOW
    ).avulso


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"service": None}, "needs a service"),
        ({"origin": None}, "needs an origin"),
        ({"destination": None}, "needs a destination"),
        ({"service": "rocket"}, "unknown service"),
        ({"requester_name": "   "}, "requester name"),
        ({"requester_phone": "12345678a"}, "not a phone number"),
        ({"scheduled_ms": NOW - 3_600_000}, "in the past"),
        ({"kind": Kind.QUESTION}, "not dispatched"),
        ({"kind": Kind.THEFT, "service": None}, "police report"),
        ({"origin": Place(address=Address(street="Rua X, 10"), lat=0, lng=0)}, "number"),
    ],
)
def test_what_the_form_must_refuse(changes, message):
    with pytest.raises(BadRequest, match=message):
        checked_attendance(tow(**changes), PLAN, None, NOW)


def test_questions_and_thefts_are_registered_without_dispatch():
    question = tow(kind=Kind.QUESTION, service=None, origin=None, destination=None)
    assert checked_attendance(question, PLAN, None, NOW).kind is Kind.QUESTION
    theft = tow(kind=Kind.THEFT, service=None, police_report="BO 123/2026", last_seen=HERE)
    assert checked_attendance(theft, PLAN, None, NOW).police_report == "BO 123/2026"
