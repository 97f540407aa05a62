# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""The fix filter of ``filter.py``, compiled: the same verdicts to the last bit (the same
formulas in C doubles, built without fused multiply-add), the anchors kept in C fields.

Only the judging, and the writing of a frame's fixes as stored (MessagePack), are here.
Naming a refusal's reason, the rules and the result types stay in ``filter.py``, which the
shared tests run against both.
"""

from cpython.bytes cimport PyBytes_FromStringAndSize
from libc.math cimport copysign, cos, pi
from libc.stdint cimport int64_t, uint64_t
from libc.stdlib cimport free, malloc
from libc.string cimport memcpy

from hub.geo import GEO_LAT_LIMIT, METRES_PER_DEGREE
from hub.ingest.filter import (
    MAX_ACCURACY_M, MAX_SPEED_MPS, Sifted, Verdict, refusal, track_point
)
from hub.ingest.tracks import Chunk, chunk_of

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


# --- a frame's stored fixes as MessagePack: what msgspec's Decoder(list[TrackPoint]) reads -

cdef enum:
    POINT_MAX_BYTES = 1 + 9 * 9  # a 9-array of at most 9 bytes each (int64 or float64)


cdef inline char* put_u64(char* out, unsigned char tag, uint64_t bits):
    out[0] = <char>tag
    cdef int i
    for i in range(8):
        out[8 - i] = <char>(bits & 0xFF)
        bits >>= 8
    return out + 9


cdef inline char* put_int(char* out, int64_t value):
    if 0 <= value < 128:  # positive fixint
        out[0] = <char>value
        return out + 1
    return put_u64(out, 0xD3, <uint64_t>value)  # int 64


cdef inline char* put_float(char* out, double value):
    cdef uint64_t bits
    memcpy(&bits, &value, 8)
    return put_u64(out, 0xCB, bits)  # float 64


cdef inline char* put_reading(char* out, object value) except NULL:
    if value is None:
        out[0] = <char>0xC0  # nil
        return out + 1
    return put_float(out, <double>value)


cdef inline char* put_array_head(char* out, Py_ssize_t count):
    if count < 16:
        out[0] = <char>(0x90 | count)
        return out + 1
    out[0] = <char>0xDC  # array 16: a frame holds far fewer than 65536 fixes
    out[1] = <char>((count >> 8) & 0xFF)
    out[2] = <char>(count & 0xFF)
    return out + 3


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

    cdef int _judge(
        self, object fix, long long t, double lat, double lng, long long now_ms
    ) except -2:
        """A Verdict's value, or REFUSED (``refusal`` names why); t, lat, lng are the fix's."""
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
        cdef int verdict = self._judge(fix, fix.t, fix.lat, fix.lng, now_ms)
        if verdict == REFUSED:
            code = refusal(fix, now_ms, self.rules)
            assert code is not None, "the hot path and refusal() disagree"
            return code
        return VERDICTS[verdict]

    def sift(self, long long provider_id, list fixes, long long now_ms):
        """As ``filter.FixFilter.sift``; the chunk written here straight from the fixes when
        they come in time order (as apps send them), else made by ``chunk_of``."""
        cdef Py_ssize_t index, count = len(fixes), stored = 0
        cdef int verdict
        cdef long long t, t_first = 0, t_last = 0
        cdef double lat, lng
        cdef bint ordered = True
        cdef list odd = []
        cdef char* buffer = <char*>malloc(3 + count * POINT_MAX_BYTES)
        cdef char* out
        if buffer == NULL:
            raise MemoryError()
        live = None
        try:
            out = buffer + 3  # room for the array head, written last
            for index in range(count):
                fix = fixes[index]
                t, lat, lng = fix.t, fix.lat, fix.lng
                verdict = self._judge(fix, t, lat, lng, now_ms)
                if verdict == REFUSED:
                    odd.append((index, refusal(fix, now_ms, self.rules)))
                    continue
                if stored == 0:
                    t_first = t
                elif t < t_last:
                    ordered = False
                t_last = t
                stored += 1
                out[0] = <char>0x99  # fixarray of 9: a TrackPoint
                out = put_int(out + 1, provider_id)
                out = put_int(out, t)
                out = put_float(out, lat)
                out = put_float(out, lng)
                out = put_reading(out, fix.acc)
                out = put_reading(out, fix.spd)
                out = put_reading(out, fix.hdg)
                out = put_int(out, verdict)
                out = put_int(out, now_ms)
                if verdict == LIVE:
                    live = fix
                else:
                    odd.append((index, VERDICTS[verdict]))
            if stored == 0:
                return Sifted(None, live, odd)
            if not ordered:
                return Sifted(chunk_of(stored_points(provider_id, fixes, odd, now_ms)), live, odd)
            head = buffer + 3 - (1 if stored < 16 else 3)
            put_array_head(head, stored)
            data = PyBytes_FromStringAndSize(head, out - head)
            return Sifted(Chunk(provider_id, t_first, t_last, stored, data), live, odd)
        finally:
            free(buffer)


def stored_points(provider_id, list fixes, list odd, now_ms):
    """The stored fixes of a sifted frame as TrackPoints (the rare frame out of order)."""
    kinds = dict(odd)
    return [
        track_point(provider_id, fix, kinds.get(index, Verdict.LIVE), now_ms)
        for index, fix in enumerate(fixes)
        if not isinstance(kinds.get(index), str)
    ]


def consecutive(list fixes):
    cdef long long first = fixes[0].seq
    cdef Py_ssize_t i
    for i in range(1, len(fixes)):
        if <long long>fixes[i].seq != first + i:
            return False
    return True
