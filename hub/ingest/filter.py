"""The fix filter: decides what one GPS fix does to the live position and the history.

Pure: no I/O, no clock; the caller passes ``now_ms``.  One ``FixFilter`` per provider
remembers the live anchor (the fix the live position is at) and the last suspect (a fix
that jumped).  A suspect that the next fix confirms becomes live, so a single bad anchor
cannot freeze a provider forever.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from math import isfinite

from hub.geo import GEO_LAT_LIMIT, distance_m
from hub.wire import FixData

MAX_ACCURACY_M = 100_000.0
MAX_SPEED_MPS = 200.0


class Verdict(Enum):
    LIVE = 0  # store and move the live position
    LATE = 1  # store in history only: older than the live position
    JUMP = 2  # store flagged in history only: implies an impossible speed


@dataclass(frozen=True, slots=True)
class FilterRules:
    future_tolerance_ms: int = 120_000
    max_age_ms: int = 7 * 24 * 3600 * 1000
    max_speed_mps: float = 300 / 3.6


@dataclass(slots=True)
class Anchor:
    t_ms: int
    lat: float
    lng: float


class FixFilter:
    __slots__ = ("live", "rules", "suspect")

    def __init__(self, rules: FilterRules, live: Anchor | None = None) -> None:
        self.rules = rules
        self.live = live
        self.suspect: Anchor | None = None

    def judge(self, fix: FixData, now_ms: int) -> Verdict | str:
        """Return the verdict for an acceptable fix, or the error code refusing it."""
        refused = refusal(fix, now_ms, self.rules)
        if refused is not None:
            return refused
        here = Anchor(fix.t, fix.lat, fix.lng)
        live = self.live
        if live is None:
            self.live = here
            return Verdict.LIVE
        if fix.t <= live.t_ms:
            return Verdict.LATE
        if self._plausible(live, here) or (
            self.suspect is not None
            and self.suspect.t_ms < here.t_ms
            and self._plausible(self.suspect, here)
        ):
            self.live, self.suspect = here, None
            return Verdict.LIVE
        self.suspect = here
        return Verdict.JUMP

    def _plausible(self, a: Anchor, b: Anchor) -> bool:
        seconds = (b.t_ms - a.t_ms) / 1000
        return distance_m(a.lat, a.lng, b.lat, b.lng) <= self.rules.max_speed_mps * seconds


def refusal(fix: FixData, now_ms: int, rules: FilterRules) -> str | None:
    """The code refusing ``fix`` on its own merits (no history needed), or None."""
    for value in (fix.lat, fix.lng, fix.acc, fix.spd, fix.hdg):
        if value is not None and not isfinite(value):
            return "fix_not_finite"
    if not -90.0 <= fix.lat <= 90.0:
        return "lat_out_of_range"
    if not -GEO_LAT_LIMIT <= fix.lat <= GEO_LAT_LIMIT:
        return "lat_beyond_geo_limit"
    if not -180.0 <= fix.lng <= 180.0:
        return "lng_out_of_range"
    if fix.acc is not None and not 0.0 <= fix.acc <= MAX_ACCURACY_M:
        return "accuracy_out_of_range"
    if fix.spd is not None and not 0.0 <= fix.spd <= MAX_SPEED_MPS:
        return "speed_out_of_range"
    if fix.hdg is not None and not 0.0 <= fix.hdg <= 360.0:
        return "heading_out_of_range"
    if fix.t > now_ms + rules.future_tolerance_ms:
        return "fix_from_future"
    if fix.t < now_ms - rules.max_age_ms:
        return "fix_too_old"
    return None
