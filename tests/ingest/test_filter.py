"""The fix filter: every refusal code, late fixes, jumps and re-anchoring."""

import math

import pytest

from hub.ingest.filter import FilterRules, FixFilter, Verdict
from hub.wire import FixData

NOW = 1_800_000_000_000
RULES = FilterRules(future_tolerance_ms=120_000, max_age_ms=86_400_000, max_speed_mps=300 / 3.6)


def fix(seq: int = 1, t: int = NOW, lat: float = -23.55, lng: float = -46.63, **kw) -> FixData:
    return FixData(seq=seq, t=t, lat=lat, lng=lng, **kw)


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"lat": math.nan}, "fix_not_finite"),
        ({"lng": math.inf}, "fix_not_finite"),
        ({"acc": math.nan}, "fix_not_finite"),
        ({"lat": 91.0}, "lat_out_of_range"),
        ({"lat": -90.5}, "lat_out_of_range"),
        ({"lat": 85.06}, "lat_beyond_geo_limit"),
        ({"lat": -89.0}, "lat_beyond_geo_limit"),
        ({"lng": 181.0}, "lng_out_of_range"),
        ({"lng": -180.01}, "lng_out_of_range"),
        ({"acc": -1.0}, "accuracy_out_of_range"),
        ({"spd": 250.0}, "speed_out_of_range"),
        ({"hdg": 361.0}, "heading_out_of_range"),
        ({"t": NOW + 120_001}, "fix_from_future"),
        ({"t": NOW - 86_400_001}, "fix_too_old"),
    ],
)
def test_each_impossible_fix_is_refused_with_its_own_code(changes, code):
    f = FixFilter(RULES)
    assert f.judge(fix(**changes), NOW) == code
    assert f.live is None  # a refused fix never becomes the anchor


def test_limits_themselves_are_accepted():
    f = FixFilter(RULES)
    assert f.judge(fix(lat=85.05112878, lng=180.0, t=NOW + 120_000), NOW) is Verdict.LIVE
    assert FixFilter(RULES).judge(fix(lat=-85.05112878, lng=-180.0), NOW) is Verdict.LIVE


def test_first_fix_is_live_and_becomes_the_anchor():
    f = FixFilter(RULES)
    assert f.judge(fix(), NOW) is Verdict.LIVE
    assert f.live == (NOW, -23.55, -46.63)


def test_older_fix_goes_to_history_without_moving_live():
    f = FixFilter(RULES, (NOW, -23.55, -46.63))
    assert f.judge(fix(t=NOW - 5000, lat=-23.56), NOW) is Verdict.LATE
    assert f.judge(fix(t=NOW, lat=-23.56), NOW) is Verdict.LATE  # same instant: not newer
    assert f.live == (NOW, -23.55, -46.63)


def test_plausible_move_moves_live():
    f = FixFilter(RULES, (NOW, -23.55, -46.63))
    # ~111 m in 10 s = 40 km/h
    assert f.judge(fix(t=NOW + 10_000, lat=-23.551), NOW + 10_000) is Verdict.LIVE
    assert f.live is not None and f.live[1] == -23.551


def test_impossible_speed_is_a_jump_kept_off_live():
    f = FixFilter(RULES, (NOW, -23.55, -46.63))
    # ~11 km in 10 s = 4000 km/h
    assert f.judge(fix(t=NOW + 10_000, lat=-23.65), NOW + 10_000) is Verdict.JUMP
    assert f.live == (NOW, -23.55, -46.63)


def test_a_jump_confirmed_by_the_next_fix_becomes_live():
    """A bad anchor must not freeze a provider: two consistent fixes re-anchor it."""
    f = FixFilter(RULES, (NOW, 0.0, 0.0))  # wrong anchor on the equator
    assert f.judge(fix(t=NOW + 1000), NOW + 1000) is Verdict.JUMP
    assert f.judge(fix(t=NOW + 5000, lat=-23.5502), NOW + 5000) is Verdict.LIVE
    assert f.live is not None and f.live[1] == -23.5502 and f.suspect is None


def test_two_inconsistent_jumps_stay_jumps():
    f = FixFilter(RULES, (NOW, -23.55, -46.63))
    assert f.judge(fix(t=NOW + 1000, lat=-20.0), NOW) is Verdict.JUMP
    assert f.judge(fix(t=NOW + 2000, lat=-26.0), NOW) is Verdict.JUMP
    assert f.live == (NOW, -23.55, -46.63)
