# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""The fix filter of ``filter.py``, compiled: the same verdicts to the last bit (the same
formulas in C doubles, built without fused multiply-add), the anchors kept in C fields.

Only the judging is here.  Naming a refusal's reason, the rules and the result types stay
in ``filter.py``, which the shared tests run against both.
"""

from libc.math cimport copysign, cos, pi

from hub.geo import GEO_LAT_LIMIT, METRES_PER_DEGREE
from hub.ingest.filter import MAX_ACCURACY_M, MAX_SPEED_MPS, Sifted, Verdict, refusal
from hub.state.records import TrackPoint

cdef double LAT_LIMIT = GEO_LAT_LIMIT
cdef double MPD = METRES_PER_DEGREE
cdef double MAX_ACC = MAX_ACCURACY_M
cdef double MAX_SPD = MAX_SPEED_MPS
cdef double DEG = pi / 180.0  # what math.radians multiplies by

cdef enum Judged:  # what _judge returns: REFUSED, or the value of a Verdict
    REFUSED = -1
    LIVE = 0
    LATE = 1
    JUMP = 2

cdef tuple VERDICTS = (Verdict.LIVE, Verdict.LATE, Verdict.JUMP)
assert VERDICTS == (LIVE, LATE, JUMP)


cdef inline bint within(object value, double low, double high) except -1:
    """An optional reading: absent, or inside [low, high] (NaN is not)."""
    return value is None or low <= <double>value <= high


cdef inline bint plausible(
    long long a_t, double a_lat, double a_lng, long long t, double lat, double lng, double speed
):
    cdef double reach = speed * (t - a_t) / 1000
    cdef double dlat = lat - a_lat
    cdef double dlng = lng - a_lng
    if dlng > 180.0 or dlng < -180.0:
        dlng -= copysign(360.0, dlng)
    cdef double dy = dlat * MPD
    cdef double dx = dlng * MPD * cos((lat + a_lat) / 2 * DEG)
    return dx * dx + dy * dy <= reach * reach


cdef class FixFilter:
    cdef readonly object rules
    cdef long long future_ms, max_age_ms
    cdef double max_speed
    cdef bint has_live, has_suspect
    cdef long long live_t, suspect_t
    cdef double live_lat, live_lng, suspect_lat, suspect_lng

    def __init__(self, rules, live=None):
        self.rules = rules
        self.future_ms = rules.future_tolerance_ms
        self.max_age_ms = rules.max_age_ms
        self.max_speed = rules.max_speed_mps
        if live is not None:
            self.has_live = True
            self.live_t, self.live_lat, self.live_lng = live

    @property
    def live(self):
        return (self.live_t, self.live_lat, self.live_lng) if self.has_live else None

    @property
    def suspect(self):
        return (self.suspect_t, self.suspect_lat, self.suspect_lng) if self.has_suspect else None

    cdef int _judge(self, object fix, long long now_ms) except -2:
        """A Verdict's value, or REFUSED (``refusal`` names why)."""
        cdef long long t = fix.t
        cdef double lat = fix.lat, lng = fix.lng
        if not (
            -LAT_LIMIT <= lat <= LAT_LIMIT
            and -180.0 <= lng <= 180.0
            and within(fix.acc, 0.0, MAX_ACC)
            and within(fix.spd, 0.0, MAX_SPD)
            and within(fix.hdg, 0.0, 360.0)
            and now_ms - self.max_age_ms <= t <= now_ms + self.future_ms
        ):
            return REFUSED
        if self.has_live:
            if t <= self.live_t:
                return LATE
            if not (
                plausible(self.live_t, self.live_lat, self.live_lng, t, lat, lng, self.max_speed)
                or self.has_suspect and self.suspect_t < t and plausible(
                    self.suspect_t, self.suspect_lat, self.suspect_lng, t, lat, lng, self.max_speed
                )
            ):
                self.has_suspect = True
                self.suspect_t, self.suspect_lat, self.suspect_lng = t, lat, lng
                return JUMP
        self.has_live, self.has_suspect = True, False
        self.live_t, self.live_lat, self.live_lng = t, lat, lng
        return LIVE

    def judge(self, fix, long long now_ms):
        cdef int verdict = self._judge(fix, now_ms)
        if verdict == REFUSED:
            code = refusal(fix, now_ms, self.rules)
            assert code is not None, "the hot path and refusal() disagree"
            return code
        return VERDICTS[verdict]

    def sift(self, provider_id, list fixes, long long now_ms):
        cdef list points = [], odd = []
        cdef Py_ssize_t index
        cdef int verdict
        live = None
        for index in range(len(fixes)):
            fix = fixes[index]
            verdict = self._judge(fix, now_ms)
            if verdict == REFUSED:
                odd.append((index, refusal(fix, now_ms, self.rules)))
                continue
            points.append(
                TrackPoint(
                    provider_id, fix.t, fix.lat, fix.lng, fix.acc, fix.spd, fix.hdg,
                    verdict, now_ms,
                )
            )
            if verdict == LIVE:
                live = fix
            else:
                odd.append((index, VERDICTS[verdict]))
        return Sifted(points, live, odd)


def consecutive(list fixes):
    cdef long long first = fixes[0].seq
    cdef Py_ssize_t i
    for i in range(1, len(fixes)):
        if <long long>fixes[i].seq != first + i:
            return False
    return True
