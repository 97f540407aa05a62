"""What a committed decision must still tell (status-stream entries, pushes to apps, links,
matching notes), carried out in the order the decisions were made, and tried again until
told when a store is down, by this node or, if it dies meanwhile, by another.

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

Every step that waits is also written to the records' after-commit journal (the store that
just committed the decision, so it answers), and forgotten there once told.  When a node
dies with steps waiting, another node whose live state answers sees its heartbeat lapse
(``lapse_s``) and claims its steps (``adopt``); a node that starts again under the same id
claims its own (``resume``).  Steps are told at least once: a step told just before its
node died may be told again by the node that claims it.  Only a link's SMS and e-mail
(whose secret is kept nowhere) wait in memory alone; they wait only on the records store,
which is down then anyway.  Steps that could not be kept (both stores down, or more than
``limit`` waiting) are counted in ``hub_after_commit_lost_total``.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Collection
from functools import partial

import msgspec

from hub.clock import now_ms
from hub.dispatch import told as told_
from hub.dispatch.records import AfterCommitJournal, Journaled
from hub.dispatch.told import Told
from hub.errors import StoreUnavailable
from hub.logs import Outages
from hub.metrics import Metrics

log = logging.getLogger(__name__)

SETTLE_S = 6.0  # after the store is back: three heartbeats for the nodes to re-assert
LIMIT = 100_000  # steps kept while a store is down; beyond, new steps are dropped (counted)

Step = Callable[[], Awaitable[object]]  # a push answers False when it found no session
Tell = Callable[[Told], Awaitable[object]]
Alive = Callable[[Collection[str]], Awaitable[set[str]]]


class Waiting:
    __slots__ = ("done", "row", "step", "told", "what")

    def __init__(self, what: str, step: Step, told: Told | None, row: int | None = None) -> None:
        self.what = what
        self.step = step
        self.told = told  # None: kept in memory alone
        self.row = row  # its journal row, once written
        self.done = False


class AfterCommit:
    def __init__(
        self,
        metrics: Metrics,
        *,
        teller: Tell | None = None,
        journal: AfterCommitJournal | None = None,
        node: str = "",
        alive: Alive | None = None,
        lapse_s: float = 6.0,
        settle_s: float = SETTLE_S,
        limit: int = LIMIT,
    ) -> None:
        self.metrics = metrics
        self.teller = teller
        self.journal = journal
        self.node = node
        self.alive = alive
        self.lapse_s = lapse_s
        self.settle_s = settle_s
        self.limit = limit
        self.lanes: dict[str, deque[Waiting]] = {}  # only lanes with steps waiting
        self.count = 0  # steps waiting, in all lanes
        self.back_since: float | None = None  # when the store first answered a retry
        self.told_rows: list[int] = []  # journal rows told, not yet forgotten there
        self.silent_since: dict[str, float] = {}  # nodes with journaled steps, heartbeat gone
        self.outages = Outages(log)
        metrics.after_commit_waiting.set_function(lambda: self.count)

    async def tell(self, told: Told) -> None:
        """Tell one step now, or keep it (journaled) behind those of its lane that wait."""
        assert self.teller is not None, "AfterCommit built without a teller"
        await self.carry(told.what, told.lane, partial(self.teller, told), told)

    async def carry(self, what: str, lane: str, step: Step, told: Told | None = None) -> None:
        """Carry out one step now, or queue it behind those of its lane that wait (or
        when the store fails it).  ``told``: the step as data, journaled while it waits."""
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
        await self._keep(lane, Waiting(what, step, told))

    async def retry(self) -> None:
        """Carry out what waits, each lane from its head, until a step meets the outage
        again (a background tick)."""
        try:
            for lane, waiting in list(self.lanes.items()):
                try:
                    await self._drain(waiting)
                except StoreUnavailable:
                    self.back_since = None
                    return
                if not waiting:
                    del self.lanes[lane]
        finally:
            await self._forget_told()
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
            if waiting[0] is head:
                waiting.popleft()
            else:  # steps claimed meanwhile went ahead of it (``_take``)
                waiting.remove(head)
            self.count -= 1
            head.done = True
            if head.row is not None:
                self.told_rows.append(head.row)

    async def _forget_told(self) -> None:
        if self.told_rows and self.journal is not None:
            rows, self.told_rows = self.told_rows, []
            try:
                await self.journal.forget(rows)
            except StoreUnavailable:
                self.told_rows.extend(rows)  # forgotten on a later tick

    async def resume(self) -> None:
        """At start: claim the steps an earlier life of this node left in the journal."""
        if self.journal is not None:
            self._take(await self.journal.claim(self.node, self.node), self.node)

    async def adopt(self) -> None:
        """Claim the journaled steps of nodes whose heartbeat has lapsed for ``lapse_s``
        (a background tick; raises StoreUnavailable while a store is down)."""
        if self.journal is None or self.alive is None:
            return
        others = await self.journal.holders() - {self.node}
        alive = await self.alive(others) if others else set()
        now = time.monotonic()
        for node in list(self.silent_since):
            if node not in others or node in alive:
                del self.silent_since[node]
        for node in others - alive:
            since = self.silent_since.setdefault(node, now)
            if now - since >= self.lapse_s:
                del self.silent_since[node]
                self._take(await self.journal.claim(node, self.node), node)

    def _take(self, rows: list[Journaled], node: str) -> None:
        """Claimed steps, ahead of this node's own in their lanes (they are older)."""
        if not rows:
            return
        assert self.teller is not None, "AfterCommit built without a teller"
        by_lane: dict[str, list[Waiting]] = {}
        for row in rows:
            try:
                told = told_.decode(row.body)
            except msgspec.DecodeError:  # written by another version: cannot be told
                log.exception("dropped an undecodable journaled step", extra={"row": row.id})
                self.metrics.after_commit_lost.labels("unknown").inc()
                self.told_rows.append(row.id)
                continue
            step = partial(self.teller, told)
            by_lane.setdefault(row.lane, []).append(Waiting(told.what, step, told, row.id))
        for lane, steps in by_lane.items():
            self.lanes.setdefault(lane, deque()).extendleft(reversed(steps))
        taken = sum(len(steps) for steps in by_lane.values())
        self.count += taken
        self.metrics.after_commit_claimed.inc(taken)
        log.warning(
            "claimed steps committed decisions had still to tell",
            extra={"steps": taken, "from_node": node},
        )

    async def finish(self) -> None:
        """At shutdown: one last try; what still waits stays in the journal for the other
        nodes (or this node's next life), what could not be journaled is lost, and said
        so."""
        await self.retry()
        if self.count:
            kept = sum(1 for lane in self.lanes.values() for w in lane if w.row is not None)
            for waiting in self.lanes.values():
                for w in waiting:
                    if w.row is None:
                        self.metrics.after_commit_lost.labels(w.what).inc()
            log.warning(
                "committed decisions left untold at shutdown",
                extra={"steps": self.count, "journaled": kept},
            )
            self.lanes.clear()
            self.count = 0

    async def _keep(self, lane: str, waiting: Waiting) -> None:
        if self.count >= self.limit:
            self.metrics.after_commit_lost.labels(waiting.what).inc()
            return
        self.lanes.setdefault(lane, deque()).append(waiting)  # in order before any await
        self.count += 1
        if waiting.told is None or self.journal is None:
            return
        try:
            row = await self.journal.keep(self.node, lane, told_.encode(waiting.told), now_ms())
        except StoreUnavailable:
            return  # both stores down: it waits in memory alone
        if waiting.done:  # told while it was being written
            self.told_rows.append(row)
        else:
            waiting.row = row
