"""The fix filter: decides what one GPS fix does to the live position and the history.

Pure: no I/O, no clock; the caller passes ``now_ms``.  One ``FixFilter`` per provider
remembers the live anchor (the fix the live position is at) and the last suspect (a fix
that jumped).  A suspect that the next fix confirms becomes live, so a single bad anchor
cannot freeze a provider forever.

This is the reference implementation; ``cfilter.pyx`` is its compiled twin (the same
interface, tested alike) and ``filter_in_use.py`` picks the one the hub runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from math import copysign, cos, isfinite, radians

from hub.geo import GEO_LAT_LIMIT, METRES_PER_DEGREE
from hub.ingest.tracks import Chunk, TrackPoint, chunk_of
from hub.wire import FixData

MAX_ACCURACY_M = 100_000.0
MAX_SPEED_MPS = 200.0


class Verdict(IntEnum):
    """What an acceptable fix does; the value is the flag stored with it in the history."""

    LIVE = 0  # store and move the live position
    LATE = 1  # store in history only: older than the live position
    JUMP = 2  # store flagged in history only: implies an impossible speed


@dataclass(frozen=True, slots=True)
class FilterRules:
    future_tolerance_ms: int = 120_000
    max_age_ms: int = 7 * 24 * 3600 * 1000
    max_speed_mps: float = 300 / 3.6


@dataclass(slots=True)
class Sifted:
    """What the filter made of a frame's fixes."""

    chunk: Chunk | None  # the acceptable fixes as stored (flag = verdict), if any
    live: FixData | None  # the newest fix that moved the live position
    # (index in the frame, verdict or refusal code) of each fix that did not simply move
    # the live position: few or none
    odd: list[tuple[int, Verdict | str]]


# (t_ms, lat, lng) of a fix the filter compares against: a bare tuple, built per fix.
Anchor = tuple[int, float, float]


class FixFilter:
    __slots__ = ("live", "rules", "suspect")

    def __init__(self, rules: FilterRules, live: Anchor | None = None) -> None:
        self.rules = rules
        self.live = live
        self.suspect: Anchor | None = None

    def judge(self, fix: FixData, now_ms: int) -> Verdict | str:
        """Return the verdict for an acceptable fix, or the error code refusing it."""
        lat, lng, t = fix.lat, fix.lng, fix.t
        acc, spd, hdg = fix.acc, fix.spd, fix.hdg
        rules = self.rules
        # One chained test on the hot path (NaN fails every comparison); the slow path
        # below names the reason.
        if not (
            -GEO_LAT_LIMIT <= lat <= GEO_LAT_LIMIT
            and -180.0 <= lng <= 180.0
            and (acc is None or 0.0 <= acc <= MAX_ACCURACY_M)
            and (spd is None or 0.0 <= spd <= MAX_SPEED_MPS)
            and (hdg is None or 0.0 <= hdg <= 360.0)
            and now_ms - rules.max_age_ms <= t <= now_ms + rules.future_tolerance_ms
        ):
            code = refusal(fix, now_ms, rules)
            assert code is not None, "the hot path and refusal() disagree"
            return code
        live = self.live
        if live is None:
            self.live = (t, lat, lng)
            return Verdict.LIVE
        if t <= live[0]:
            return Verdict.LATE
        speed = rules.max_speed_mps
        suspect = self.suspect
        if plausible(live, t, lat, lng, speed) or (
            suspect is not None and suspect[0] < t and plausible(suspect, t, lat, lng, speed)
        ):
            self.live, self.suspect = (t, lat, lng), None
            return Verdict.LIVE
        self.suspect = (t, lat, lng)
        return Verdict.JUMP

    def sift(self, provider_id: int, fixes: list[FixData], now_ms: int) -> Sifted:
        """Judge a frame's fixes in order: the chunk to store and what stood out."""
        points: list[TrackPoint] = []
        odd: list[tuple[int, Verdict | str]] = []
        live = None
        for index, fix in enumerate(fixes):
            verdict = self.judge(fix, now_ms)
            if isinstance(verdict, str):
                odd.append((index, verdict))
                continue
            points.append(track_point(provider_id, fix, verdict, now_ms))
            if verdict is Verdict.LIVE:
                live = fix
            else:
                odd.append((index, verdict))
        return Sifted(chunk_of(points) if points else None, live, odd)


def track_point(provider_id: int, fix: FixData, verdict: Verdict, now_ms: int) -> TrackPoint:
    """A fix as it is stored; the flag a plain int (msgspec encodes an IntEnum slowly)."""
    return TrackPoint(
        provider_id, fix.t, fix.lat, fix.lng, fix.acc, fix.spd, fix.hdg, verdict.value, now_ms
    )


def consecutive(fixes: list[FixData]) -> bool:
    """Do the sequence numbers run one by one (what an app sends, and the fast path)?"""
    first = fixes[0].seq
    return all(fix.seq == first + i for i, fix in enumerate(fixes))


def plausible(a: Anchor, t_ms: int, lat: float, lng: float, max_speed_mps: float) -> bool:
    """Could one travel from ``a`` to (lat, lng) by ``t_ms`` without exceeding the speed?

    Equirectangular distance: within 1% of the great circle over the few hundred km a
    plausibility test ever spans, and several times cheaper on this per-fix path.
    """
    reach = max_speed_mps * (t_ms - a[0]) / 1000
    dlat = lat - a[1]
    dlng = lng - a[2]
    if dlng > 180.0 or dlng < -180.0:  # across the antimeridian
        dlng -= copysign(360.0, dlng)
    dy = dlat * METRES_PER_DEGREE
    dx = dlng * METRES_PER_DEGREE * cos(radians((lat + a[1]) / 2))
    return dx * dx + dy * dy <= reach * reach


def refusal(fix: FixData, now_ms: int, rules: FilterRules) -> str | None:
    """The code refusing ``fix`` on its own merits (no history needed), or None.

    The hot path in ``judge`` tests the same limits at once; keep the two in step.
    """
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
