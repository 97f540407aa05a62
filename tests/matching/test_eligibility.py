"""Every eligibility rule excludes what it should, and the explanation names it."""

from __future__ import annotations

import itertools

import msgspec
import pytest

from hub.matching.eligibility import (
    RULE_NAMES,
    RULE_TEXT,
    Flag,
    Request,
    Situation,
    eligible,
    excluded,
    flags,
    reasons,
)
from hub.operations.providers import Channel, DispatchProfile, WorkingHours
from hub.presence import Connectivity

NOW = 1_800_000_000_000
PROFILE = DispatchProfile(services=frozenset({"light_tow"}), channels=frozenset(Channel))
SITUATION = Situation(
    active=True, on_duty=True, engaged=False, connectivity=Connectivity.ONLINE, distance_m=5000
)
REQUEST = Request(
    service="light_tow",
    client_id=7,
    radius_m=20_000,
    mode=Channel.APP,
    now_ms=NOW,
    weekday=2,
    minute=600,
)


def test_the_baseline_is_eligible():
    assert reasons(PROFILE, SITUATION, REQUEST) == []
    assert eligible(PROFILE, SITUATION, REQUEST)


WEEKDAYS_9_TO_18 = WorkingHours([[(540, 1080)]] * 5 + [[], []])

CASES = [
    ("service", {"request": {"service": "taxi"}}),
    ("active", {"situation": {"active": False}}),
    ("suspended", {"profile": {"suspended_until_ms": NOW + 1}}),
    (
        "working_hours",
        {"profile": {"working_hours": WEEKDAYS_9_TO_18}, "request": {"minute": 18 * 60}},
    ),
    ("working_hours", {"profile": {"working_hours": WEEKDAYS_9_TO_18}, "request": {"weekday": 6}}),
    ("on_duty", {"situation": {"on_duty": False}}),
    ("engaged", {"situation": {"engaged": True}}),
    ("channel", {"profile": {"channels": frozenset({Channel.LINK})}}),
    ("connectivity", {"situation": {"connectivity": Connectivity.STALE}}),
    (
        "connectivity",
        {"situation": {"connectivity": Connectivity.OFFLINE}, "request": {"mode": Channel.WEB}},
    ),
    ("radius", {"situation": {"distance_m": 20_000.5}}),
    ("excluded", {"profile": {"excluded_by": frozenset({7})}}),
]


@pytest.mark.parametrize(("rule", "changes"), CASES)
def test_each_rule_excludes_and_is_named(rule, changes):
    profile = msgspec.structs.replace(PROFILE, **changes.get("profile", {}))
    situation = msgspec.structs.replace(SITUATION, **changes.get("situation", {}))
    request = msgspec.structs.replace(REQUEST, **changes.get("request", {}))
    assert reasons(profile, situation, request) == [rule]
    assert not eligible(profile, situation, request)
    assert RULE_TEXT[rule]


def test_every_rule_has_a_case():
    assert {rule for rule, _ in CASES} == set(RULE_NAMES)


def test_link_and_verbal_need_no_session_nor_duty():
    offline = msgspec.structs.replace(SITUATION, connectivity=Connectivity.OFFLINE, on_duty=False)
    for mode in (Channel.LINK, Channel.VERBAL):
        assert reasons(PROFILE, offline, msgspec.structs.replace(REQUEST, mode=mode)) == []


def test_several_failures_are_all_explained_in_rule_order():
    situation = msgspec.structs.replace(SITUATION, engaged=True, distance_m=10**6)
    request = msgspec.structs.replace(REQUEST, service="taxi")
    assert reasons(PROFILE, situation, request) == ["service", "engaged", "radius"]


def test_suspension_ends_on_time():
    profile = msgspec.structs.replace(PROFILE, suspended_until_ms=NOW)
    assert reasons(profile, SITUATION, REQUEST) == []


def test_working_hours_across_midnight():
    nights = WorkingHours([[(22 * 60, 6 * 60)]] * 7)
    assert nights.open_at(2, 23 * 60)
    assert nights.open_at(3, 5 * 60)  # Thursday 05:00 is Wednesday night's shift
    assert not nights.open_at(3, 12 * 60)
    sunday_only = WorkingHours([[], [], [], [], [], [], [(22 * 60, 2 * 60)]])
    assert sunday_only.open_at(0, 60)  # Monday 01:00 belongs to Sunday's shift
    assert not sunday_only.open_at(1, 60)


@pytest.mark.parametrize("mode", list(Channel))
def test_a_flag_the_index_skips_on_is_a_rule_failed(mode):
    """The index skips providers by flag (``excluded``) without asking ``eligible``:
    every provider it skips must be one ``eligible`` refuses, in every situation."""
    request = msgspec.structs.replace(REQUEST, mode=mode)
    skipped = 0
    for active, on_duty, engaged, connectivity in itertools.product(
        (True, False), (True, False), (True, False), list(Connectivity)
    ):
        situation = msgspec.structs.replace(
            SITUATION, active=active, on_duty=on_duty, engaged=engaged, connectivity=connectivity
        )
        flag = flags(
            active=active,
            engaged=engaged,
            on_duty=on_duty,
            in_session=connectivity is not Connectivity.OFFLINE,
        )
        if flag & excluded([mode]):
            skipped += 1
            assert not eligible(PROFILE, situation, request), (mode, situation)
    assert skipped > 0


def test_several_modes_skip_only_what_all_of_them_refuse():
    assert excluded([Channel.APP]) & Flag.OFF_DUTY
    assert not excluded([Channel.APP, Channel.VERBAL]) & Flag.OFF_DUTY
    assert excluded([Channel.APP, Channel.VERBAL]) == Flag.INACTIVE | Flag.ENGAGED
