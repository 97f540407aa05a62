"""Who may receive an offer: one named predicate per rule, explainable. Pure.

``reasons`` lists every rule a provider fails (the operator's "why is X not listed?");
``eligible`` stops at the first failure (the matching hot path).  Rules read the provider's
dispatch profile, its situation now, and the request.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable

import msgspec

from hub.operations.providers import SESSION_MODES, Channel, DispatchProfile
from hub.presence import Connectivity


class Situation(msgspec.Struct, frozen=True, kw_only=True):
    """A provider's state at query time."""

    active: bool
    on_duty: bool
    engaged: bool  # assigned to another attendance
    connectivity: Connectivity
    distance_m: float  # to the origin, from live GPS or the base address


class Request(msgspec.Struct, frozen=True, kw_only=True):
    service: str
    client_id: int | None
    radius_m: float
    mode: Channel
    now_ms: int
    weekday: int  # local time, 0 = Monday
    minute: int  # local time, minutes since midnight


Predicate = Callable[[DispatchProfile, Situation, Request], bool]


def _connected(profile: DispatchProfile, situation: Situation, request: Request) -> bool:
    if request.mode is Channel.APP:
        return situation.connectivity is Connectivity.ONLINE
    if request.mode is Channel.WEB:
        return situation.connectivity is not Connectivity.OFFLINE
    return True  # link and verbal reach a provider without any session


def _working(profile: DispatchProfile, situation: Situation, request: Request) -> bool:
    hours = profile.working_hours
    return hours is None or hours.open_at(request.weekday, request.minute)


RULES: tuple[tuple[str, str, Predicate], ...] = (
    ("service", "does not offer this service", lambda p, s, r: r.service in p.services),
    ("active", "is deactivated", lambda p, s, r: s.active),
    (
        "suspended",
        "is suspended",
        lambda p, s, r: p.suspended_until_ms is None or p.suspended_until_ms <= r.now_ms,
    ),
    ("working_hours", "is outside working hours", _working),
    (
        "on_duty",
        "is off duty",
        lambda p, s, r: s.on_duty or r.mode not in SESSION_MODES,
    ),
    ("engaged", "is engaged on another attendance", lambda p, s, r: not s.engaged),
    ("channel", "cannot be reached by this dispatch mode", lambda p, s, r: r.mode in p.channels),
    ("connectivity", "is not connected as this mode needs", _connected),
    ("radius", "is beyond the client's radius", lambda p, s, r: s.distance_m <= r.radius_m),
    (
        "excluded",
        "is excluded by the client",
        lambda p, s, r: r.client_id is None or r.client_id not in p.excluded_by,
    ),
)

RULE_NAMES = tuple(name for name, _, _ in RULES)
RULE_TEXT = {name: text for name, text, _ in RULES}


def reasons(profile: DispatchProfile, situation: Situation, request: Request) -> list[str]:
    """The names of every rule the provider fails, in rule order; empty when eligible."""
    return [name for name, _, rule in RULES if not rule(profile, situation, request)]


def eligible(profile: DispatchProfile, situation: Situation, request: Request) -> bool:
    return all(rule(profile, situation, request) for _, _, rule in RULES)


class Flag(enum.IntFlag):
    """What the spatial index keeps of a provider's situation, so that a walk skips,
    without asking ``eligible``, whom a rule refuses for every provider so flagged."""

    INACTIVE = 1  # rule "active", in every mode
    ENGAGED = 2  # rule "engaged", in every mode
    OFF_DUTY = 4  # rule "on_duty", in the session modes
    NO_SESSION = 8  # rule "connectivity" (offline), in the session modes


def flags(*, active: bool, engaged: bool, on_duty: bool, in_session: bool) -> Flag:
    flag = Flag(0)
    if not active:
        flag |= Flag.INACTIVE
    if engaged:
        flag |= Flag.ENGAGED
    if not on_duty:
        flag |= Flag.OFF_DUTY
    if not in_session:
        flag |= Flag.NO_SESSION
    return flag


# What each mode refuses by flag, as plain ints: IntFlag arithmetic costs microseconds, and
# ``excluded`` runs on every matching query.
_REFUSED_IN = {
    mode: int(
        Flag.INACTIVE
        | Flag.ENGAGED
        | (Flag.OFF_DUTY | Flag.NO_SESSION if mode in SESSION_MODES else Flag(0))
    )
    for mode in Channel
}
_EVERY_FLAG = int(~Flag(0))


def excluded(modes: Iterable[Channel]) -> int:
    """The flags that make a provider ineligible in every one of ``modes``."""
    refused = _EVERY_FLAG
    for mode in modes:
        refused &= _REFUSED_IN[mode]
    return refused
