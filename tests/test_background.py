"""Background loops never die silently: every failure is counted and survived, store
outages are logged once when they start (not every tick), other failures with their
traceback, and a loop failing now is named."""

from __future__ import annotations

import asyncio
import logging

import pytest

from hub import background
from hub.background import Supervisor
from hub.errors import StoreUnavailable
from hub.metrics import Metrics


def failures(metrics: Metrics, task: str) -> float:
    value = metrics.registry.get_sample_value("hub_background_failures_total", {"task": task})
    return value or 0.0


async def until(condition, timeout_s: float = 5.0) -> None:
    async with asyncio.timeout(timeout_s):
        while not condition():
            await asyncio.sleep(0.005)


async def test_a_tick_that_raises_is_logged_with_its_traceback_counted_and_goes_on(caplog):
    metrics, runs = Metrics(), []
    supervisor = Supervisor(metrics)

    async def work() -> None:
        runs.append(len(runs))
        if len(runs) <= 2:
            raise RuntimeError(f"bug {len(runs)}")

    task = asyncio.create_task(supervisor.every("sweeper", 0.01, work))
    try:
        await until(lambda: len(runs) >= 2)
        assert supervisor.failing == {"sweeper": "RuntimeError: bug 2"}
        await until(lambda: len(runs) >= 4)
        assert supervisor.failing == {}  # it ran again, and well
    finally:
        task.cancel()
    assert failures(metrics, "sweeper") == 2
    tracebacks = [r for r in caplog.records if r.exc_info and r.levelno == logging.ERROR]
    assert [str(r.exc_info[1]) for r in tracebacks] == ["bug 1", "bug 2"]


async def test_a_store_outage_is_logged_when_it_starts_and_ends_not_every_tick(caplog, monkeypatch):
    monkeypatch.setattr(background, "BACKOFF_MAX_S", 0.01)
    metrics, runs = Metrics(), []
    supervisor = Supervisor(metrics)

    async def work() -> None:
        runs.append(1)
        if len(runs) <= 20:
            raise StoreUnavailable("Redis failed: connection refused")

    caplog.set_level(logging.WARNING, logger="hub.background")
    task = asyncio.create_task(supervisor.every("heartbeat", 0.001, work))
    try:
        await until(lambda: len(runs) > 21)
    finally:
        task.cancel()
    assert failures(metrics, "heartbeat") == 20
    lines = [r.getMessage() for r in caplog.records if r.name == "hub.background"]
    assert lines == [
        "background task: store unavailable",
        "background task recovered",
    ]


async def test_a_stream_follower_that_fails_subscribes_again(monkeypatch):
    monkeypatch.setattr(background, "BACKOFF_FIRST_S", 0.001)
    monkeypatch.setattr(background, "STEADY_S", 0.05)
    supervisor, calls = Supervisor(Metrics()), []

    async def follow() -> None:
        calls.append(1)
        if len(calls) == 1:
            raise StoreUnavailable("subscription dropped")
        await asyncio.sleep(3600)  # following, until cancelled

    task = asyncio.create_task(supervisor.following("bus", follow))
    try:
        await until(lambda: len(calls) == 2)
        assert supervisor.failing == {"bus": "subscription dropped"}  # not yet steady
        await until(lambda: not supervisor.failing)  # following again, steadily
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task


async def test_a_loop_stops_when_cancelled_even_if_its_work_swallows_the_cancellation():
    """Some client libraries catch CancelledError inside a call; the loop must still end
    when the hub stops, not sleep on forever."""
    supervisor, started = Supervisor(Metrics()), asyncio.Event()

    async def swallowing() -> None:
        started.set()
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            return  # swallowed, as a library might

    task = asyncio.create_task(supervisor.every("reassert", 0.001, swallowing))
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, 2)


async def test_a_failed_tick_is_tried_again_sooner_than_its_period(monkeypatch):
    """An hourly task that fails is not left failing (and /readyz 503) for an hour."""
    monkeypatch.setattr(background, "BACKOFF_FIRST_S", 0.01)
    supervisor, runs = Supervisor(Metrics()), []
    loop = asyncio.get_running_loop()

    async def work() -> None:
        runs.append(loop.time())
        if len(runs) == 1:
            raise StoreUnavailable("down for a moment")

    task = asyncio.create_task(supervisor.every("hourly", 0.5, work))
    try:
        await until(lambda: len(runs) >= 2)
        assert runs[1] - runs[0] < 0.25  # retried after the back-off, not the period
        assert supervisor.failing == {}
    finally:
        task.cancel()
