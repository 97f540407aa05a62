"""The after-commit lanes on their own: order holds in a lane through an outage, other
lanes go on, what waits is carried
out once the store answers, a push with no session yet is kept for the settle time, a bug
does not stall the queue, and the bound is counted."""

from __future__ import annotations

from hub.dispatch.after_commit import AfterCommit
from hub.errors import StoreUnavailable
from hub.metrics import Metrics


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
