"""One decision at a time per attendance on a node, and the snapshots it remembers."""

from __future__ import annotations

import asyncio

from hub.dispatch.book import DispatchSnapshot
from hub.dispatch.recent import Recent
from hub.dispatch.turns import Turns
from hub.operations.attendances import AttendanceState
from tests.dispatch.test_execution import job


async def test_decisions_on_one_attendance_take_turns_and_others_do_not_wait():
    turns, order = Turns(), []

    async def decide(key: int, name: str, hold: float) -> None:
        async with turns.take(key):
            order.append(f"{name}+")
            await asyncio.sleep(hold)
            order.append(f"{name}-")

    await asyncio.gather(decide(1, "a", 0.02), decide(1, "b", 0), decide(2, "c", 0))
    assert order.index("a-") < order.index("b+")  # b waited for a
    assert order.index("c-") < order.index("a-")  # c, another attendance, did not
    assert len(turns) == 0  # nothing kept once nobody waits


async def test_a_failing_decision_gives_up_its_turn():
    turns = Turns()

    async def fail() -> None:
        async with turns.take(1):
            raise RuntimeError("boom")

    results = await asyncio.gather(fail(), fail(), return_exceptions=True)
    assert [type(r) for r in results] == [RuntimeError, RuntimeError]
    assert len(turns) == 0


def snapshot(
    attendance_id: int, state: AttendanceState = AttendanceState.OFFERING
) -> DispatchSnapshot:
    return DispatchSnapshot(job(id=attendance_id, state=state), [], 1)


def test_recent_keeps_the_newest_and_forgets_what_is_done():
    recent = Recent(size=2)
    for n in (1, 2, 3):
        recent.keep(snapshot(n))
    assert (recent.get(1), len(recent)) == (None, 2)  # the oldest went
    recent.keep(snapshot(2))  # kept again: now the newest
    recent.keep(snapshot(4))
    assert recent.get(3) is None and recent.get(2) is not None
    recent.keep(snapshot(2, AttendanceState.COMPLETED))
    assert recent.get(2) is None  # done: no decision will need it
    recent.forget(4)
    assert len(recent) == 0
