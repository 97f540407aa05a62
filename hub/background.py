"""The lifespan's background work, supervised: housekeeping ticks and what other nodes
stream.

No loop dies silently.  Every exception is counted (``hub_background_failures_total{task}``)
and survived: a store outage is logged when it starts, every ``OUTAGE_LOG_EVERY_S`` while
it lasts and when it ends (a tick every 50 ms would otherwise log hundreds of lines); any
other exception is logged with its traceback each time.  A loop that fails again waits
longer before it tries again (doubling, up to ``BACKOFF_MAX_S``; a tick never waits longer
than its period), and while its last run failed it marks ``/readyz`` (``failing``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from hub.clock import now_ms
from hub.errors import StoreUnavailable
from hub.logs import Outages
from hub.matching.service import MatchService
from hub.metrics import Metrics
from hub.state.live import Positions, Presence
from hub.state.records import Records
from hub.tasks import stop_if_cancelled

log = logging.getLogger(__name__)

OUTAGE_LOG_EVERY_S = 30.0
BACKOFF_FIRST_S = 1.0
# Back-off doubles up to this (or the loop's own period, if longer): short enough that a
# node's heartbeat (every 2 s, lapsing after 6) and its bus subscriptions come back within
# seconds of the store.
BACKOFF_MAX_S = 5.0
STEADY_S = 2.0  # a stream follower running this long has subscribed

Work = Callable[[], Awaitable[None]]


class Supervisor:
    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics
        self.failing: dict[str, str] = {}  # task -> what its last run failed with
        self.outages = Outages(log, OUTAGE_LOG_EVERY_S)

    async def every(self, task: str, seconds: float, work: Work) -> None:
        """Run ``work`` every ``seconds`` for as long as the hub runs; after a failure, try
        again sooner (an hourly task is not left failing, and /readyz 503, for an hour):
        after 1 s, doubling up to ``BACKOFF_MAX_S``, never later than its period."""
        delay, retry = seconds, BACKOFF_FIRST_S
        while True:
            await asyncio.sleep(delay)
            if await self._ran(task, work):
                delay, retry = seconds, BACKOFF_FIRST_S
            else:
                delay, retry = min(retry, seconds), min(retry * 2, BACKOFF_MAX_S)

    async def following(self, task: str, follow: Work) -> None:
        """Follow a stream for as long as the hub runs, subscribing again after a failure
        (or after the stream ended), with back-off.  A follower still running after
        ``STEADY_S`` has subscribed: it no longer counts as failing."""
        delay = BACKOFF_FIRST_S
        while True:
            run = asyncio.ensure_future(self._ran(task, follow))
            try:
                done, _ = await asyncio.wait({run}, timeout=STEADY_S)
                if not done:
                    self._recovered(task)
                    delay = BACKOFF_FIRST_S
                ok = await run
            except asyncio.CancelledError:
                run.cancel()
                raise
            delay = BACKOFF_FIRST_S if ok else self._longer(delay, BACKOFF_FIRST_S)
            await asyncio.sleep(delay)

    async def _ran(self, task: str, work: Work) -> bool:
        """Run once; whether it succeeded (a failure is counted, logged and survived)."""
        try:
            await work()
        except asyncio.CancelledError:
            raise
        except StoreUnavailable as exc:
            self._failed(task, exc.message)
            self.outages.failed(task, "background task: store unavailable", exc.message)
            return False
        except Exception as exc:
            self._failed(task, f"{type(exc).__name__}: {exc}")
            log.exception("background task failed; it goes on", extra={"task": task})
            return False
        finally:
            stop_if_cancelled()
        self._recovered(task)
        return True

    def _recovered(self, task: str) -> None:
        if self.failing.pop(task, None) is not None:
            self.outages.ended(task, "background task recovered")

    def _failed(self, task: str, why: str) -> None:
        self.failing[task] = why
        self.metrics.background_failures.labels(task).inc()

    @staticmethod
    def _longer(delay: float, base: float) -> float:
        return min(max(delay, base) * 2, max(BACKOFF_MAX_S, base))


async def forget_keys(records: Records, ttl_s: int) -> None:
    """Idempotency keys older than their time to live (hub/api/idempotency.py)."""
    await records.idempotency.expire(now_ms() - ttl_s * 1000)


async def follow_positions(positions: Positions, matching: MatchService) -> None:
    """Other nodes' positions, into this node's matching index."""
    async for batch in positions.changes():
        for position in batch:
            matching.position(position)


async def follow_presence(presence: Presence, matching: MatchService) -> None:
    """Other nodes' presence notes (sessions, duty), into this node's matching index."""
    async for note in presence.changes():
        matching.presence(note)


async def watch_nodes(node: str, presence: Presence, matching: MatchService) -> None:
    """The other nodes holding sessions this node matches: those whose heartbeat lapsed
    (killed, stopped) leave matching at once, not when their fixes go stale."""
    others = matching.session_nodes() - {node}
    alive = await presence.alive(others) if others else set()
    matching.nodes_down(others - alive)


async def cancel(tasks: list[asyncio.Task[None]]) -> None:
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
