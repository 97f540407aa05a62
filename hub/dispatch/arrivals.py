"""Arrival detection: assigned providers on their way are watched, and a fix inside the
arrival radius of the job's origin is the arrival.  Pure; the caller records the step."""

from __future__ import annotations

from dataclasses import dataclass

from hub.dispatch.punctuality import ON_THE_WAY
from hub.geo import distance_m
from hub.operations.attendances import Attendance
from hub.presence import LivePosition


@dataclass(slots=True)
class Job:
    """An assigned provider on its way: its fixes are watched for the arrival."""

    attendance_id: int
    lat: float
    lng: float
    arriving: bool = False


class Arrivals:
    def __init__(self, radius_m: float) -> None:
        self.radius_m = radius_m
        self.jobs: dict[int, Job] = {}  # provider id -> its job on the way

    def watch(self, provider_id: int, attendance: Attendance | None) -> None:
        """The provider's job now (None: free): watched while it is on the way to it."""
        origin = None if attendance is None else attendance.origin
        if attendance is None or origin is None or attendance.state not in ON_THE_WAY:
            self.jobs.pop(provider_id, None)
        else:
            self.jobs[provider_id] = Job(attendance.id, origin.lat, origin.lng)

    def arrived(self, position: LivePosition) -> int | None:
        """The attendance a provider just arrived at with this fix (once per job)."""
        job = self.jobs.get(position.provider_id)
        if job is None or job.arriving:
            return None
        if distance_m(job.lat, job.lng, position.lat, position.lng) > self.radius_m:
            return None
        job.arriving = True
        return job.attendance_id
