"""The after-commit lanes on their own: order holds in a lane through an outage, other
lanes go on, what waits is carried out once the store answers, a push with no session yet
is kept for the settle time, a bug does not stall the queue, and the bound is counted.
With the journal (SQLite and PostgreSQL): what waits is kept in the records until told, a
dead node's steps are claimed by another once its heartbeat has lapsed, in order, and a
node started again claims its own."""

from __future__ import annotations

import asyncio
from collections import deque

import msgspec

from hub import wire
from hub.dispatch.after_commit import AfterCommit
from hub.dispatch.told import KpisNote, PushFrame, StreamAppend, Told, encode
from hub.errors import StoreUnavailable
from hub.metrics import Metrics
from hub.state.memory import MemoryLive


class Store:
    """A store that is up or down, recording what was told through it."""

    def __init__(self) -> None:
        self.up = True
        self.told: list[str] = []
        self.sessions = True

    def step(self, name: str, *, push: bool = False):
        async def run() -> bool:
            if not self.up:
                raise StoreUnavailable("Redis failed: down")
            if push and not self.sessions:
                return False
            self.told.append(name)
            return True

        return run


def counted(metrics: Metrics, name: str, what: str) -> float:
    value = metrics.registry.get_sample_value(name, {"what": what})
    return value or 0.0


async def test_steps_wait_through_an_outage_in_order_and_are_told_after_it():
    metrics, store = Metrics(), Store()
    after = AfterCommit(metrics)
    await after.carry("status-stream", "lane", store.step("a"))
    store.up = False
    await after.carry("status-stream", "lane", store.step("b"))
    store.up = True  # back, but "c" must not overtake "b"
    await after.carry("push", "lane", store.step("c"))
    assert store.told == ["a"]
    assert metrics.registry.get_sample_value("hub_after_commit_waiting") == 2
    assert counted(metrics, "hub_after_commit_failures_total", "status-stream") == 1

    await after.retry()
    assert store.told == ["a", "b", "c"]
    await after.carry("push", "lane", store.step("d"))  # nothing waits: told at once
    assert store.told == ["a", "b", "c", "d"]
    assert metrics.registry.get_sample_value("hub_after_commit_waiting") == 0


async def test_a_lane_that_waits_does_not_hold_the_others():
    store = Store()
    after = AfterCommit(Metrics())
    store.up = False
    await after.carry("status-stream", "stream", store.step("entry"))
    store.up = True
    await after.carry("push", ("push", 1), store.step("assignment"))
    await after.carry("status-stream", "stream", store.step("next entry"))
    assert store.told == ["assignment"]
    await after.retry()
    assert store.told == ["assignment", "entry", "next entry"]


async def test_retry_stops_at_the_first_step_the_outage_still_fails():
    store = Store()
    after = AfterCommit(Metrics())
    store.up = False
    await after.carry("push", "lane", store.step("a"))
    await after.carry("push", "lane", store.step("b"))
    await after.retry()
    assert (store.told, after.count) == ([], 2)


async def test_a_push_with_no_session_yet_is_kept_for_the_settle_time_then_dropped():
    store = Store()
    after = AfterCommit(Metrics(), settle_s=60)
    store.up = False
    await after.carry("push", "lane", store.step("offer", push=True))
    store.up, store.sessions = True, False  # back empty: the session is not re-asserted yet
    await after.retry()
    assert after.count == 1
    store.sessions = True
    await after.retry()
    assert (store.told, after.count) == (["offer"], 0)

    gone = AfterCommit(Metrics(), settle_s=0)  # the app never came back: dropped
    store.up = False
    await gone.carry("push", "lane", store.step("late", push=True))
    store.up, store.sessions = True, False
    await gone.retry()
    assert not gone.count and "late" not in store.told


async def test_a_step_that_fails_for_another_reason_is_dropped_and_counted(caplog):
    metrics, store = Metrics(), Store()
    after = AfterCommit(metrics)

    async def bug() -> None:
        raise ValueError("a bug")

    store.up = False
    await after.carry("status-stream", "lane", store.step("a"))
    await after.carry("kpis", "lane", bug)
    await after.carry("push", "lane", store.step("b"))
    store.up = True
    await after.retry()
    assert store.told == ["a", "b"]
    assert counted(metrics, "hub_after_commit_lost_total", "kpis") == 1
    assert "a committed decision's step failed" in caplog.text


async def test_beyond_the_limit_steps_are_counted_lost_and_the_rest_is_lost_at_shutdown(caplog):
    metrics, store = Metrics(), Store()
    after = AfterCommit(metrics, limit=2)
    store.up = False
    for name in "abc":
        await after.carry("push", "lane", store.step(name))
    assert after.count == 2
    assert counted(metrics, "hub_after_commit_lost_total", "push") == 1
    await after.finish()
    assert counted(metrics, "hub_after_commit_lost_total", "push") == 3
    assert "committed decisions left untold at shutdown" in caplog.text


class Live:
    """What steps are told through: up or down, recording what was told."""

    def __init__(self) -> None:
        self.up = False
        self.told: list[Told] = []

    async def __call__(self, told: Told) -> bool:
        if not self.up:
            raise StoreUnavailable("Redis failed: down")
        self.told.append(told)
        return True


def steps() -> list[Told]:
    closed = wire.OfferClosed(offer_id=7, state="taken")
    return [
        StreamAppend(msgspec.Raw(b'[{"id":1}]')),
        PushFrame(5, closed),
        PushFrame(5, wire.Status(attendance_id=3, state="cancelled")),
        KpisNote(5),
        StreamAppend(msgspec.Raw(b'[{"id":2}]')),
    ]


def lanes(told: list[Told]) -> dict[str, list[bytes]]:
    """Steps by lane, in order: what must hold (lanes go on independently)."""
    found: dict[str, list[bytes]] = {}
    for step in told:
        found.setdefault(step.lane, []).append(encode(step))
    return found


async def test_waiting_steps_are_journaled_and_forgotten_once_told(records):
    live = Live()
    after = AfterCommit(Metrics(), teller=live, journal=records.after_commit, node="a")
    for told in steps():
        await after.tell(told)
    assert await records.after_commit.holders() == {"a"}
    live.up = True
    await after.retry()
    assert lanes(live.told) == lanes(steps())
    assert await records.after_commit.holders() == set()


async def test_a_dead_nodes_steps_are_claimed_by_another_and_told_in_order(records):
    journal, presence = records.after_commit, MemoryLive(stale_after_ms=60_000).presence
    dead_live = Live()
    dead = AfterCommit(Metrics(), teller=dead_live, journal=journal, node="a")
    for told in steps():
        await dead.tell(told)
    other = PushFrame(9, wire.OfferClosed(offer_id=8, state="expired"))
    await dead.tell(other)
    await presence.heartbeat("a", 0.1)

    live, metrics = Live(), Metrics()
    live.up = True
    heir = AfterCommit(
        metrics, teller=live, journal=journal, node="b", alive=presence.alive, lapse_s=0.2
    )
    await heir.adopt()  # "a" beats: nothing is claimed
    await asyncio.sleep(0.15)
    await heir.adopt()  # silent since now
    assert heir.count == 0
    await asyncio.sleep(0.25)
    await heir.adopt()
    assert heir.count == 6
    assert metrics.registry.get_sample_value("hub_after_commit_claimed_total") == 6
    await heir.retry()
    told = lanes(live.told)
    assert told.pop("push:9") == [encode(other)]
    assert told == lanes(steps())
    assert await journal.holders() == set()
    assert await journal.claim("a", "c") == []


async def test_a_node_started_again_claims_its_own_steps(records):
    journal = records.after_commit
    before = AfterCommit(Metrics(), teller=Live(), journal=journal, node="a")
    for told in steps():
        await before.tell(told)
    live = Live()
    live.up = True
    again = AfterCommit(Metrics(), teller=live, journal=journal, node="a")
    await again.resume()
    await again.retry()
    assert lanes(live.told) == lanes(steps())
    assert await journal.holders() == set()


async def test_of_two_nodes_claiming_one_dead_nodes_steps_one_gets_them(records):
    journal = records.after_commit
    for n in range(20):
        await journal.keep("a", f"push:{n}", b"{}", 1)
    claims = await asyncio.gather(journal.claim("a", "b"), journal.claim("a", "c"))
    assert sorted(len(rows) for rows in claims) == [0, 20]
    got = max(claims, key=len)
    assert [row.id for row in got] == sorted(row.id for row in got)


async def test_steps_claimed_while_a_lane_is_being_told_are_not_lost(records):
    """A claim that puts a dead node's steps ahead in a lane whose head is being told
    right now: that step is taken off when told, and the claimed one is told too."""
    journal, presence = records.after_commit, MemoryLive(stale_after_ms=60_000).presence
    dead = AfterCommit(Metrics(), teller=Live(), journal=journal, node="a")
    theirs = PushFrame(5, wire.OfferClosed(offer_id=1, state="taken"))
    await dead.tell(theirs)

    gate, told = asyncio.Event(), []

    async def slow(step: Told) -> bool:
        await gate.wait()
        told.append(encode(step))
        return True

    mine = PushFrame(5, wire.Status(attendance_id=2, state="cancelled"))
    heir = AfterCommit(
        Metrics(), teller=slow, journal=journal, node="b", alive=presence.alive, lapse_s=0
    )
    heir.lanes["push:5"] = deque()  # the lane waits: mine queues behind
    await heir.tell(mine)
    draining = asyncio.create_task(heir.retry())
    await asyncio.sleep(0.05)  # telling "mine" now
    await heir.adopt()  # silent since now; lapse 0: claimed at once
    assert heir.count == 2
    gate.set()
    await draining  # each told once (taking the lane's head off would tell "mine" twice)
    assert told == [encode(mine), encode(theirs)] and heir.count == 0
    assert await journal.holders() == set()
