"""The fix filter: every refusal code, late fixes, jumps and re-anchoring."""

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hub.ingest import filter as pure
from hub.ingest import filter_in_use
from hub.ingest.filter import FilterRules, Verdict
from hub.ingest.tracks import unpack
from hub.wire import FixData
from tests.conftest import need_compiled

NOW = 1_800_000_000_000
RULES = FilterRules(future_tolerance_ms=120_000, max_age_ms=86_400_000, max_speed_mps=300 / 3.6)


@pytest.fixture(params=["pure", "compiled"])
def FixFilter(request):
    """Each implementation of the filter: the pure-Python reference and the compiled one."""
    if request.param == "pure":
        return pure.FixFilter
    need_compiled(filter_in_use.COMPILED, "hub/ingest/cfilter.pyx")
    return filter_in_use.FixFilter


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
def test_each_impossible_fix_is_refused_with_its_own_code(FixFilter, changes, code):
    f = FixFilter(RULES)
    assert f.judge(fix(**changes), NOW) == code
    assert f.live is None  # a refused fix never becomes the anchor


def test_limits_themselves_are_accepted(FixFilter):
    f = FixFilter(RULES)
    assert f.judge(fix(lat=85.05112878, lng=180.0, t=NOW + 120_000), NOW) is Verdict.LIVE
    assert FixFilter(RULES).judge(fix(lat=-85.05112878, lng=-180.0), NOW) is Verdict.LIVE


def test_first_fix_is_live_and_becomes_the_anchor(FixFilter):
    f = FixFilter(RULES)
    assert f.judge(fix(), NOW) is Verdict.LIVE
    assert f.live == (NOW, -23.55, -46.63)


def test_older_fix_goes_to_history_without_moving_live(FixFilter):
    f = FixFilter(RULES, (NOW, -23.55, -46.63))
    assert f.judge(fix(t=NOW - 5000, lat=-23.56), NOW) is Verdict.LATE
    assert f.judge(fix(t=NOW, lat=-23.56), NOW) is Verdict.LATE  # same instant: not newer
    assert f.live == (NOW, -23.55, -46.63)


def test_plausible_move_moves_live(FixFilter):
    f = FixFilter(RULES, (NOW, -23.55, -46.63))
    # ~111 m in 10 s = 40 km/h
    assert f.judge(fix(t=NOW + 10_000, lat=-23.551), NOW + 10_000) is Verdict.LIVE
    assert f.live is not None and f.live[1] == -23.551


def test_impossible_speed_is_a_jump_kept_off_live(FixFilter):
    f = FixFilter(RULES, (NOW, -23.55, -46.63))
    # ~11 km in 10 s = 4000 km/h
    assert f.judge(fix(t=NOW + 10_000, lat=-23.65), NOW + 10_000) is Verdict.JUMP
    assert f.live == (NOW, -23.55, -46.63)


def test_a_jump_confirmed_by_the_next_fix_becomes_live(FixFilter):
    """A bad anchor must not freeze a provider: two consistent fixes re-anchor it."""
    f = FixFilter(RULES, (NOW, 0.0, 0.0))  # wrong anchor on the equator
    assert f.judge(fix(t=NOW + 1000), NOW + 1000) is Verdict.JUMP
    assert f.judge(fix(t=NOW + 5000, lat=-23.5502), NOW + 5000) is Verdict.LIVE
    assert f.live is not None and f.live[1] == -23.5502 and f.suspect is None


def test_two_inconsistent_jumps_stay_jumps(FixFilter):
    f = FixFilter(RULES, (NOW, -23.55, -46.63))
    assert f.judge(fix(t=NOW + 1000, lat=-20.0), NOW) is Verdict.JUMP
    assert f.judge(fix(t=NOW + 2000, lat=-26.0), NOW) is Verdict.JUMP
    assert f.live == (NOW, -23.55, -46.63)


def test_sift_stores_every_acceptable_fix_and_names_what_stood_out(FixFilter):
    f = FixFilter(RULES, (NOW, -23.55, -46.63))
    fixes = [
        fix(1, NOW + 1000, -23.5501),  # live
        fix(2, NOW - 1000),  # late
        fix(3, NOW + 2000, lat=91.0),  # refused
        fix(4, NOW + 3000, -20.0),  # jump
        fix(5, NOW + 4000, -23.5502, acc=4.0),  # live: the newest
    ]
    sifted = f.sift(7, fixes, NOW + 4000)
    points = unpack(sifted.chunk)
    assert [(p.t_ms, p.flag) for p in points] == [  # as stored: in time order
        (NOW - 1000, 1),
        (NOW + 1000, 0),
        (NOW + 3000, 2),
        (NOW + 4000, 0),
    ]
    assert (sifted.chunk.t_first_ms, sifted.chunk.t_last_ms) == (NOW - 1000, NOW + 4000)
    assert all(p.provider_id == 7 and p.received_ms == NOW + 4000 for p in points)
    assert points[-1].accuracy == 4.0 and points[-1].speed is None
    assert sifted.live is fixes[4]
    assert sifted.odd == [(1, Verdict.LATE), (2, "lat_out_of_range"), (3, Verdict.JUMP)]


def test_sift_of_refusals_alone_stores_nothing(FixFilter):
    sifted = FixFilter(RULES).sift(7, [fix(1, lat=math.nan)], NOW)
    assert (sifted.chunk, sifted.live, sifted.odd) == (None, None, [(0, "fix_not_finite")])


@pytest.mark.parametrize(
    ("seqs", "expected"),
    [([5], True), ([5, 6, 7], True), ([5, 7], False), ([5, 6, 6], False), ([6, 5], False)],
)
def test_consecutive_numbers(seqs, expected):
    fixes = [fix(seq) for seq in seqs]
    assert pure.consecutive(fixes) is expected
    need_compiled(filter_in_use.COMPILED, "hub/ingest/cfilter.pyx")
    assert filter_in_use.consecutive(fixes) is expected


reading = st.one_of(
    st.none(),
    st.floats(-10.0, 400.0),
    st.sampled_from([math.nan, math.inf, -math.inf, 0.0, 360.0, 200.0, 100_000.0]),
)
coordinate = st.one_of(
    st.floats(-95.0, 95.0),
    st.sampled_from([85.05112878, -85.05112878, 90.0, math.nan, math.inf]),
)
longitude = st.one_of(
    st.floats(-185.0, 185.0),
    st.sampled_from([179.9999, -179.9999, 180.0, -180.0, math.nan]),
)
step = st.fixed_dictionaries(
    {
        "dt": st.integers(-200_000, 200_000),
        "lat": coordinate,
        "lng": longitude,
        "acc": reading,
        "spd": reading,
        "hdg": reading,
    }
)


@settings(max_examples=300, deadline=None)
@given(st.lists(step, min_size=1, max_size=30), st.booleans())
def test_compiled_filter_judges_exactly_as_the_reference(steps, anchored):
    """Random walks with bad readings, near the poles and across the antimeridian: the
    same verdict or refusal code for every fix, and the same anchors after it."""
    need_compiled(filter_in_use.COMPILED, "hub/ingest/cfilter.pyx")
    anchor = (NOW, -23.55, -46.63) if anchored else None
    reference, compiled = pure.FixFilter(RULES, anchor), filter_in_use.FixFilter(RULES, anchor)
    t = NOW
    for seq, s in enumerate(steps, 1):
        t += s["dt"]
        f = fix(seq, t, s["lat"], s["lng"], acc=s["acc"], spd=s["spd"], hdg=s["hdg"])
        assert compiled.judge(f, NOW) == reference.judge(f, NOW)
        assert (compiled.live, compiled.suspect) == (reference.live, reference.suspect)
    frames = [  # in time order (written by the compiled filter itself), and not
        [fix(1, NOW + 1000, -23.551), fix(2, NOW + 2000, 10.0), fix(3, NOW + 3000, -23.552)],
        [fix(4, NOW + 4000, -23.553), fix(5, NOW + 3500, -23.554), fix(6, NOW + 5000)],
    ]
    for frame in frames:
        assert same_sifting(compiled.sift(3, frame, NOW), reference.sift(3, frame, NOW))


@settings(max_examples=200, deadline=None)
@given(st.lists(step, min_size=1, max_size=40), st.integers(1, 2**40))
def test_compiled_filter_stores_a_frame_exactly_as_the_reference(steps, provider_id):
    need_compiled(filter_in_use.COMPILED, "hub/ingest/cfilter.pyx")
    anchor = (NOW, -23.55, -46.63)
    reference, compiled = pure.FixFilter(RULES, anchor), filter_in_use.FixFilter(RULES, anchor)
    t, frame = NOW, []
    for seq, s in enumerate(steps, 1):
        t += abs(s["dt"]) // 10  # mostly in time order, as apps send
        frame.append(fix(seq, t, s["lat"], s["lng"], acc=s["acc"], spd=s["spd"], hdg=s["hdg"]))
    assert same_sifting(compiled.sift(provider_id, frame, t), reference.sift(provider_id, frame, t))


def same_sifting(a: pure.Sifted, b: pure.Sifted) -> bool:
    """Equal, the chunks compared by what they hold (not byte for byte: the compiled
    filter writes every number at full width, msgspec at the smallest)."""
    if (a.chunk is None) != (b.chunk is None) or (a.live, a.odd) != (b.live, b.odd):
        return False
    if a.chunk is None or b.chunk is None:
        return True
    head = ("provider_id", "t_first_ms", "t_last_ms", "count")
    return [getattr(a.chunk, k) for k in head] == [getattr(b.chunk, k) for k in head] and (
        unpack(a.chunk) == unpack(b.chunk)
    )
