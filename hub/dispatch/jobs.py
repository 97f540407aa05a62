"""The job an attendance is, as dispatch and matching see it (an assistance). Pure."""

from __future__ import annotations

from hub.errors import Conflict
from hub.matching.queries import MatchQuery, Point
from hub.operations.attendances import Attendance, Place


def job_query(a: Attendance) -> MatchQuery:
    """The matching query of an attendance's job (an assistance)."""
    origin, code = assistance(a)
    destination = None if a.destination is None else Point(a.destination.lat, a.destination.lng)
    return MatchQuery(origin=Point(origin.lat, origin.lng), service=code, destination=destination)


def assistance(attendance: Attendance) -> tuple[Place, str]:
    """Origin and service of an attendance that can be dispatched (an assistance)."""
    if attendance.origin is None or attendance.service is None:
        raise Conflict(
            f"attendance {attendance.id} is not dispatched",
            code="illegal_transition",
            step="dispatch",
            state=attendance.state.value,
        )
    return attendance.origin, attendance.service
