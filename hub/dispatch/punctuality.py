"""On time or late: the promise at acceptance against the arrival, and the risk before it.

Pure.  ``promised_ms`` is the acceptance time plus the ETA the provider gave.  Once the
provider arrives, the verdict is final: on time when it arrived by the promise.  While it
is on its way, the current ETA (straight line from its live position, at the service's
average speed and the road factor) says whether the promise is at risk.
"""

from __future__ import annotations

from collections.abc import Callable

import msgspec

from hub.geo import distance_m
from hub.matching.ranking import straight_line_eta_min
from hub.operations.attendances import Attendance, AttendanceState
from hub.operations.services import service

ON_THE_WAY = frozenset({AttendanceState.ASSIGNED, AttendanceState.EN_ROUTE})


class Punctuality(msgspec.Struct, frozen=True, kw_only=True):
    promised_ms: int | None
    arrived_ms: int | None
    verdict: str | None  # "on_time" | "late" once arrived; None before
    current_eta_ms: int | None  # while on the way, from the provider's live position
    late_risk: bool  # on the way and the current ETA is past the promise


def punctuality(
    attendance: Attendance,
    here: tuple[float, float] | None,
    now_ms: int,
    *,
    road_factor: float,
    speed_kmh: float,
) -> Punctuality:
    promised, arrived = attendance.promised_ms, attendance.arrived_ms
    verdict = None
    if arrived is not None and promised is not None:
        verdict = "on_time" if arrived <= promised else "late"
    eta_ms = None
    origin = attendance.origin
    if attendance.state in ON_THE_WAY and here is not None and origin is not None:
        metres = distance_m(here[0], here[1], origin.lat, origin.lng)
        eta_ms = now_ms + round(straight_line_eta_min(metres, road_factor, speed_kmh) * 60_000)
    late_risk = eta_ms is not None and promised is not None and eta_ms > promised
    return Punctuality(
        promised_ms=promised,
        arrived_ms=arrived,
        verdict=verdict,
        current_eta_ms=eta_ms,
        late_risk=late_risk,
    )


Where = Callable[[int], tuple[float, float] | None]  # a provider's live position, if fresh


class Forecast:
    """Punctuality of any attendance now, from where its provider is (``where``)."""

    def __init__(self, where: Where, road_factor: float) -> None:
        self.where = where
        self.road_factor = road_factor

    def __call__(self, attendance: Attendance, now_ms: int) -> Punctuality | None:
        """On time or late, and the late risk from the provider's live GPS; None until a
        provider has the attendance."""
        if attendance.provider_id is None or attendance.service is None:
            return None
        return punctuality(
            attendance,
            self.where(attendance.provider_id),
            now_ms,
            road_factor=self.road_factor,
            speed_kmh=service(attendance.service).avg_speed_kmh,
        )
