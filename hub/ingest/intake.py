"""What one provider session does with the fixes it receives. Pure (sans-I/O).

``FixIntake.take`` turns the fixes of one frame into: a chunk to store, the newest live
position, replies (notices and errors: those about sequence numbers first, then those about
the fixes, each in frame order) and, if refusals alone moved it, a new ack.
``FixIntake.committed`` is called when the fixes of a frame are durably stored and returns
the ack to send.  The async shell (hub/channels/provider.py) owns the socket and the writer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from hub.errors import CODES
from hub.ingest.acks import AckWindow, Receipt
from hub.ingest.filter import FixFilter, Verdict
from hub.ingest.filter_in_use import consecutive
from hub.ingest.flood import FloodGuard
from hub.ingest.tracks import Chunk
from hub.presence import LivePosition
from hub.wire import Error, FixData, Notice

_NOTICE_OF = {Verdict.LATE: "fix_out_of_order", Verdict.JUMP: "speed_jump"}


def notice(code: str, seq: int | None = None) -> Notice:
    return Notice(code=code, message=CODES[code].meaning, seq=seq)


def error(code: str, seq: int | None = None, message: str | None = None) -> Error:
    return Error(code=code, message=message or CODES[code].meaning, seq=seq)


def live_position(provider_id: int, fix: FixData, now_ms: int) -> LivePosition:
    return LivePosition(provider_id, fix.lat, fix.lng, fix.t, now_ms, fix.acc, fix.spd, fix.hdg)


@dataclass(slots=True)
class Intake:
    chunk: Chunk | None = None  # the fixes to store
    seqs: Sequence[int] = field(default_factory=list)  # of the stored fixes: range or list
    live: LivePosition | None = None
    replies: list[Notice | Error] = field(default_factory=list)
    ack: int | None = None  # the ack moved by refusals alone, to send now
    reack: bool = False  # a duplicate at or below the ack: repeat the ack
    accepted: list[int] = field(default_factory=lambda: [0, 0, 0])  # by Verdict value
    rejected: dict[str, int] = field(default_factory=dict)
    flooded: bool = False  # strikes exhausted: close the socket


class FixIntake:
    __slots__ = ("filter", "guard", "provider_id", "window")

    def __init__(
        self, provider_id: int, fix_filter: FixFilter, window: AckWindow, guard: FloodGuard
    ) -> None:
        self.provider_id = provider_id
        self.filter = fix_filter
        self.window = window
        self.guard = guard

    @property
    def acked(self) -> int:
        return self.window.acked

    @property
    def flooded(self) -> bool:
        """Rate-limited often enough in a row that the socket should be closed."""
        return self.guard.exhausted

    def spend(self, count: int, now_ms: int, seq: int | None = None) -> Error | None:
        """Charge ``count`` to the session's budget (a fix, or any other frame, costs 1).

        Returns the ``rate_limited`` error to send when the budget refuses.
        """
        if self.guard.take(count, now_ms / 1000):
            return None
        return Error(
            code="rate_limited",
            message=CODES["rate_limited"].meaning,
            seq=seq,
            retry_after_s=round(self.guard.retry_after_s(count), 3),
        )

    def take(self, fixes: list[FixData], now_ms: int) -> Intake:
        intake = Intake()
        refusal = self.spend(len(fixes), now_ms, fixes[0].seq)
        if refusal is not None:
            intake.replies.append(refusal)
            intake.rejected["rate_limited"] = len(fixes)
            intake.flooded = self.flooded
            return intake
        first, last = fixes[0].seq, fixes[-1].seq
        if consecutive(fixes) and self.window.receive_run(first, last):
            new = fixes  # what apps send: every number new, in order
        else:
            new = self._receive_each(fixes, intake)
            if not new:
                return intake
        sifted = self.filter.sift(self.provider_id, new, now_ms)
        intake.chunk = sifted.chunk
        if sifted.live is not None:
            intake.live = live_position(self.provider_id, sifted.live, now_ms)
        if not sifted.odd:
            intake.seqs = range(first, last + 1) if new is fixes else [fix.seq for fix in new]
            intake.accepted[Verdict.LIVE] = len(new)
            return intake
        self._answer_odd(new, sifted.odd, intake)
        return intake

    def _receive_each(self, fixes: list[FixData], intake: Intake) -> list[FixData]:
        """Register the numbers one by one: the new fixes; replies for the others."""
        window, rejected, new = self.window, intake.rejected, []
        for fix in fixes:
            seq = fix.seq
            receipt = window.receive(seq)
            if receipt is Receipt.NEW:
                new.append(fix)
            elif receipt is Receipt.DUPLICATE:
                intake.replies.append(notice("duplicate_seq", seq))
                intake.reack = intake.reack or seq <= window.acked
            else:
                intake.replies.append(error("seq_out_of_window", seq))
                rejected["seq_out_of_window"] = rejected.get("seq_out_of_window", 0) + 1
        return new

    def _answer_odd(
        self, new: list[FixData], odd: list[tuple[int, Verdict | str]], intake: Intake
    ) -> None:
        """Replies for refused, late and jumping fixes; refusals settle at once."""
        accepted, rejected, replies = intake.accepted, intake.rejected, intake.replies
        refused: set[int] = set()
        for index, verdict in odd:
            seq = new[index].seq
            if isinstance(verdict, str):
                replies.append(error(verdict, seq))
                rejected[verdict] = rejected.get(verdict, 0) + 1
                refused.add(seq)
            else:
                replies.append(notice(_NOTICE_OF[verdict], seq))
                accepted[verdict] += 1
        stored = intake.chunk.count if intake.chunk is not None else 0
        accepted[Verdict.LIVE] = stored - sum(accepted)
        intake.seqs = [fix.seq for fix in new if fix.seq not in refused]
        if refused:
            intake.ack = self.window.settle(sorted(refused))

    def committed(self, seqs: Sequence[int]) -> int | None:
        """The fixes with these sequence numbers are stored; the new ack, if it moved."""
        return self.window.settle(seqs)
