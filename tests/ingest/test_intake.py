"""A session's intake of fixes: verdicts, replies, acks, rate limiting. No event loop."""

from collections.abc import Callable

import pytest

from hub.ingest import filter as pure
from hub.ingest import filter_in_use
from hub.ingest.acks import AckWindow
from hub.ingest.filter import FilterRules
from hub.ingest.flood import FloodGuard
from hub.ingest.intake import FixIntake
from hub.ingest.tracks import unpack
from hub.wire import FixData
from tests.conftest import need_compiled

NOW = 1_800_000_000_000


@pytest.fixture(params=["pure", "compiled"])
def intake(request) -> Callable[..., FixIntake]:
    """Makes an intake on each implementation of the filter."""
    if request.param == "compiled":
        need_compiled(filter_in_use.COMPILED, "hub/ingest/cfilter.pyx")
    fix_filter = pure.FixFilter if request.param == "pure" else filter_in_use.FixFilter

    def make(rate: float = 100, burst: int = 100, strikes: int = 2) -> FixIntake:
        return FixIntake(
            7,
            fix_filter(FilterRules()),
            AckWindow(50),
            FloodGuard(rate, burst, strikes, NOW / 1000),
        )

    return make


def fix(seq: int, dt_s: float = 0, lat: float = -23.55) -> FixData:
    return FixData(seq=seq, t=NOW + int(dt_s * 1000), lat=lat, lng=-46.63)


def test_valid_batch_yields_points_and_the_newest_live_position(intake):
    i = intake()
    out = i.take([fix(1), fix(2, 1, -23.5501), fix(3, 2, -23.5502)], NOW + 2000)
    assert [p.flag for p in unpack(out.chunk)] == [0, 0, 0]
    assert list(out.seqs) == [1, 2, 3]
    assert out.live is not None and out.live.lat == -23.5502 and out.live.provider_id == 7
    assert out.replies == [] and out.ack is None
    assert i.committed(out.seqs) == 3


def test_refused_fixes_settle_at_once_and_may_move_the_ack(intake):
    i = intake()
    out = i.take([fix(1, lat=91)], NOW)
    assert out.chunk is None and out.ack == 1
    assert [r.code for r in out.replies] == ["lat_out_of_range"]
    assert out.rejected == {"lat_out_of_range": 1}


def test_refusal_behind_an_uncommitted_fix_waits_for_the_commit(intake):
    i = intake()
    out = i.take([fix(1), fix(2, lat=91)], NOW)
    assert out.ack is None  # 1 is not stored yet
    assert i.committed([1]) == 2


def test_duplicate_is_noticed_not_stored_and_reacked_when_already_acked(intake):
    i = intake()
    first = i.take([fix(1)], NOW)
    i.committed(first.seqs)
    again = i.take([fix(1)], NOW)
    assert again.chunk is None and again.reack
    assert [r.code for r in again.replies] == ["duplicate_seq"]


def test_late_and_jump_are_stored_flagged_with_notices(intake):
    i = intake()
    i.take([fix(1, 10)], NOW + 10_000)
    out = i.take([fix(2, 5), fix(3, 11, lat=-20.0)], NOW + 11_000)
    assert [p.flag for p in unpack(out.chunk)] == [1, 2]
    assert [r.code for r in out.replies] == ["fix_out_of_order", "speed_jump"]
    assert out.live is None


def test_rate_limit_drops_the_frame_unseen_and_exhausts_into_a_close(intake):
    i = intake(rate=1, burst=2, strikes=2)
    assert i.take([fix(1), fix(2, 1)], NOW).chunk is not None
    limited = i.take([fix(3, 2)], NOW)
    assert [r.code for r in limited.replies] == ["rate_limited"]
    assert limited.replies[0].retry_after_s == 1.0
    assert not limited.flooded and limited.chunk is None
    assert i.window.high == 2  # 3 was never seen: it may be resent later
    assert i.take([fix(3, 2)], NOW).flooded


def test_sequence_beyond_the_window_is_refused(intake):
    out = intake().take([fix(51)], NOW)
    assert [r.code for r in out.replies] == ["seq_out_of_window"]
    assert out.chunk is None


def test_a_frame_with_a_repeat_inside_stores_each_new_fix_once(intake):
    i = intake()
    i.take([fix(1), fix(2, 1, -23.5501)], NOW + 1000)
    out = i.take([fix(3, 2, -23.5502), fix(2, 1, -23.5501), fix(4, 3, -23.5503)], NOW + 3000)
    assert list(out.seqs) == [3, 4]
    assert [p.t_ms for p in unpack(out.chunk)] == [NOW + 2000, NOW + 3000]
    assert [(r.code, r.seq) for r in out.replies] == [("duplicate_seq", 2)]
    assert out.live is not None and out.live.lat == -23.5503


def test_a_gap_is_filled_later_and_the_ack_waits_for_it(intake):
    i = intake()
    first = i.take([fix(1), fix(3, 2, -23.5502)], NOW + 2000)  # 2 is missing
    assert list(first.seqs) == [1, 3]
    assert i.committed(first.seqs) == 1
    late = i.take([fix(2, 1, -23.5501)], NOW + 3000)
    assert [p.flag for p in unpack(late.chunk)] == [1]  # older than the live position
    assert i.committed(late.seqs) == 3


def test_replies_about_numbers_come_before_replies_about_fixes(intake):
    i = intake()
    i.take([fix(1)], NOW)
    out = i.take([fix(1), fix(2, 1, lat=91.0), fix(60, 2)], NOW + 1000)
    codes = [(r.code, r.seq) for r in out.replies]
    assert codes == [("duplicate_seq", 1), ("seq_out_of_window", 60), ("lat_out_of_range", 2)]
    assert out.rejected == {"seq_out_of_window": 1, "lat_out_of_range": 1}
    assert out.chunk is None and out.ack is None  # 1 is not committed yet
    assert i.committed([1]) == 2
