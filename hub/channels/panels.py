"""What the console's live topics show. Pure.

Two panels, as the seed names them: the dispatch panel (Painel de Acionamento) holds the
attendances still without a provider; the tracking panel (Painel de Acompanhamento) those a
provider has and has not finished.  Every attendance is in at most one of them.
"""

from __future__ import annotations

from hub import wire
from hub.dispatch.punctuality import Punctuality
from hub.errors import BadRequest
from hub.operations.attendances import Attendance
from hub.operations.attendances import AttendanceState as S
from hub.operations.users import Role

PANELS: dict[str, frozenset[S]] = {
    "dispatch": frozenset({S.AWAITING_DISPATCH, S.OFFERING}),
    "tracking": frozenset({S.ASSIGNED, S.EN_ROUTE, S.ON_SITE, S.IN_SERVICE}),
}
MAP = "map"
ATTENDANCE = "attendance"
# The least role that may subscribe to each kind of topic.
TOPIC_ROLES: dict[str, Role] = {
    "dispatch": Role.OPERATOR,
    "tracking": Role.OPERATOR,
    MAP: Role.OPERATOR,
    ATTENDANCE: Role.OPERATOR,
}


def topic_kind(topic: str) -> tuple[str, int | None]:
    """("dispatch" | "tracking" | "map", None) or ("attendance", id); unknown_topic else."""
    kind, _, ref = topic.partition(":")
    if kind in PANELS or kind == MAP:
        if ref:
            raise BadRequest(f"topic {kind} takes no id", code="unknown_topic")
        return kind, None
    if kind == ATTENDANCE and ref.isascii() and ref.isdigit():
        return kind, int(ref)
    known = ", ".join([*PANELS, MAP, "attendance:<id>"])
    raise BadRequest(f"no topic {topic!r}; topics: {known}", code="unknown_topic")


def panel_of(state: S) -> str | None:
    for name, states in PANELS.items():
        if state in states:
            return name
    return None


def row(
    attendance: Attendance,
    attempts: int,
    client_id: int,
    provider_name: str,
    timing: Punctuality | None,
) -> wire.PanelRow:
    origin = attendance.origin
    return wire.PanelRow(
        attendance_id=attendance.id,
        event_id=attendance.event_id,
        client_id=client_id,
        state=attendance.state.value,
        service=attendance.service,
        district="" if origin is None else origin.address.district,
        city="" if origin is None else origin.address.city,
        at_ms=attendance.at_ms,
        scheduled_ms=attendance.scheduled_ms,
        attempts=attempts,
        automatic=attendance.automatic,
        dispatch_note=attendance.dispatch_note,
        provider_id=attendance.provider_id,
        provider_name=provider_name,
        promised_ms=attendance.promised_ms,
        current_eta_ms=None if timing is None else timing.current_eta_ms,
        late_risk=False if timing is None else timing.late_risk,
        assigned_ms=attendance.assigned_ms,
        arrived_ms=attendance.arrived_ms,
        lat=None if origin is None else origin.lat,
        lng=None if origin is None else origin.lng,
    )
