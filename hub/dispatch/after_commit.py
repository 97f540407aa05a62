"""What a committed decision must still tell (status-stream entries, pushes to apps, links,
matching notes), carried out in the order the decisions were made, and tried again until
told when a store is down.

Each step goes in a lane, the things whose order matters: the status stream is one lane,
each provider's pushes another, its matching notes a third.  A step that meets an outage
waits in its lane, and so does every later step of that lane, so order holds where it
matters (an app never gets ``offer_closed`` before its offer, a console never sees the
assignment before the offer), while other lanes go on (the assignment answering an accept
on this node's session leaves at once, whatever the stream does).  A background tick
(``retry``) carries out the lanes from their heads once the store answers again.  A push
that finds no session right after the store came back may find one a moment later (the
nodes re-assert their sessions and subscribe to the bus again within a heartbeat or two):
it is kept for ``settle_s``, then dropped (an app gets its open offers and its job again
when it reconnects).

The lanes are this node's, in memory, bounded by ``limit`` steps in all: what a node holds
when it is killed during an outage is lost (counted while it lives: ``hub_after_commit_waiting``;
dropped steps: ``hub_after_commit_lost_total``).  The decisions themselves are in the
records and never lost.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Hashable
from typing import NamedTuple

from hub.errors import StoreUnavailable
from hub.logs import Outages
from hub.metrics import Metrics

log = logging.getLogger(__name__)

SETTLE_S = 6.0  # after the store is back: three heartbeats for the nodes to re-assert
LIMIT = 100_000  # steps kept while a store is down; beyond, new steps are dropped (counted)

Step = Callable[[], Awaitable[object]]  # a push answers False when it found no session
Lane = Hashable  # steps of one lane are told in the order they were carried


class Waiting(NamedTuple):
    what: str
    step: Step


class AfterCommit:
    def __init__(self, metrics: Metrics, *, settle_s: float = SETTLE_S, limit: int = LIMIT) -> None:
        self.metrics = metrics
        self.settle_s = settle_s
        self.limit = limit
        self.lanes: dict[Lane, deque[Waiting]] = {}  # only lanes with steps waiting
        self.count = 0  # steps waiting, in all lanes
        self.back_since: float | None = None  # when the store first answered a retry
        self.outages = Outages(log)
        metrics.after_commit_waiting.set_function(lambda: self.count)

    async def carry(self, what: str, lane: Lane, step: Step) -> None:
        """Carry out one step now, or queue it behind those of its lane that wait (or
        when the store fails it)."""
        if lane not in self.lanes:
            try:
                await step()
                return
            except StoreUnavailable as exc:
                self.metrics.after_commit_failures.labels(what).inc()
                self.outages.failed(
                    "after-commit", "committed decisions wait to be told", exc.message
                )
                self.back_since = None
        self._keep(lane, Waiting(what, step))

    async def retry(self) -> None:
        """Carry out what waits, each lane from its head, until a step meets the outage
        again (a background tick)."""
        for lane, waiting in list(self.lanes.items()):
            try:
                await self._drain(waiting)
            except StoreUnavailable:
                self.back_since = None
                return
            if not waiting:
                del self.lanes[lane]
        if not self.lanes and self.back_since is not None:
            self.back_since = None
            self.outages.ended("after-commit", "committed decisions told again")

    async def _drain(self, waiting: deque[Waiting]) -> None:
        while waiting:
            head = waiting[0]
            try:
                told = await head.step()
            except StoreUnavailable:
                raise
            except Exception:  # a bug, not an outage: the step is dropped, the lane goes on
                log.exception("a committed decision's step failed", extra={"what": head.what})
                self.metrics.after_commit_lost.labels(head.what).inc()
                told = None
            now = time.monotonic()
            if self.back_since is None:
                self.back_since = now
            if told is False and now - self.back_since < self.settle_s:
                return  # no session yet: the nodes may not have re-asserted theirs
            waiting.popleft()
            self.count -= 1

    async def finish(self) -> None:
        """At shutdown: one last try; what still waits is lost, and said so."""
        await self.retry()
        if self.count:
            for waiting in self.lanes.values():
                for what, _ in waiting:
                    self.metrics.after_commit_lost.labels(what).inc()
            log.warning("committed decisions left untold at shutdown", extra={"steps": self.count})
            self.lanes.clear()
            self.count = 0

    def _keep(self, lane: Lane, waiting: Waiting) -> None:
        if self.count >= self.limit:
            self.metrics.after_commit_lost.labels(waiting.what).inc()
            return
        self.lanes.setdefault(lane, deque()).append(waiting)
        self.count += 1
