"""The dispatcher: the async shell around the pure decisions (hub/dispatch/decisions.py).

Each entry point reads what its decision rests on (the client's rules, the plan's cap, an
offer's attendance), makes the decision on an ``OfferBook`` (hub/dispatch/book.py),
commits the book's change, and then carries out the decision's ``Outcome``: offers to
deliver, offers closed, the assignment, log entries for the status stream, the next time
to look.  Nothing leaves the node before the commit.

A decision is optimistic first: it starts from the snapshot this node's last decision on
the attendance left (``Recent``), or from one read from the store, and commits in one trip
behind the attendance's version.  If another decision committed first (on another node),
or if a remembered snapshot is all an answer would rest on (an error, or nothing to write),
the decision is made again with the attendance locked in the store.  On one node,
decisions on an attendance take turns (``Turns``).

Deadlines are rows (``offers.deadline_ms``, summarised as ``attendances.due_ms``).  The
node that made a decision arms a timer for its due time (``timers.py``); a sweeper on
every node takes what is overdue by more than ``sweep_grace_s`` (a node died, or
restarted), skipping attendances another node holds locked.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from functools import partial
from typing import TypeVar

from hub.clock import now_ms
from hub.dispatch import decisions
from hub.dispatch.book import DispatchSnapshot, LogEntry, OfferBook, OutOfIds
from hub.dispatch.decisions import Facts, Outcome
from hub.dispatch.delivery import Delivery, offer_frame
from hub.dispatch.lifecycle import GPS, NEEDS_REASON, Step
from hub.dispatch.lookups import Lookups
from hub.dispatch.offers import Offer, checked_reason
from hub.dispatch.recent import Recent
from hub.dispatch.records import DispatchRecords, Stale
from hub.dispatch.timers import DueTimers
from hub.dispatch.turns import Turns
from hub.errors import BadRequest, Conflict, Forbidden, HubError, NotFound
from hub.matching.service import MatchService
from hub.metrics import Metrics
from hub.operations.attendances import Attendance
from hub.operations.clients import DispatchRules
from hub.operations.providers import SESSION_MODES, Channel
from hub.operations.records import OperationsRecords

log = logging.getLogger(__name__)

RECENT_SIZE = 10_000  # snapshots kept: attendances being dispatched or on the way
ANSWERS = (BadRequest, Conflict, Forbidden, NotFound)  # a decision's refusals

T = TypeVar("T")
Decide = Callable[[OfferBook, Outcome, Facts], T]  # a pure decision, its arguments bound


class Dispatcher:
    def __init__(
        self,
        *,
        records: OperationsRecords,
        dispatch: DispatchRecords,
        matching: MatchService,
        delivery: Delivery,
        metrics: Metrics,
        sweep_grace_s: float,
    ) -> None:
        self.records = records
        self.dispatch = dispatch
        self.matching = matching
        self.delivery = delivery
        self.metrics = metrics
        self.sweep_grace_ms = int(sweep_grace_s * 1000)
        self.timers = DueTimers(self.advance)
        self.lookups = Lookups(records, dispatch, matching)
        self.turns = Turns()
        self.recent = Recent(RECENT_SIZE)

    # --- entry points ----------------------------------------------------------------------

    async def automatic(self, attendance_id: int, actor: str) -> Attendance:
        """Start the client's automatic cascade (at the schedule minus its lead time)."""
        rules = await self.lookups.rules(attendance_id)
        return await self._decide(
            attendance_id,
            lambda book, out, facts: decisions.automatic(book, out, facts, actor),
            rules=rules,
            cap=True,
        )

    async def offer(self, attendance_id: int, provider_id: int, mode: Channel, actor: str) -> Offer:
        """An operator's pick: offer the job to this provider by this mode."""
        if mode is Channel.VERBAL:
            raise BadRequest("a verbal dispatch is recorded with its ETA (the verbal route)")
        await self.delivery.reachable(provider_id, mode)
        rules = await self.lookups.rules(attendance_id)
        return await self._decide(
            attendance_id,
            lambda book, out, facts: decisions.offer(book, out, facts, provider_id, mode, actor),
            rules=rules,
            cap=True,
        )

    async def verbal(self, attendance_id: int, provider_id: int, eta_min: int, actor: str) -> Offer:
        """The provider accepted by phone: assigned at once."""
        provider = await self.records.providers.get(provider_id)
        if provider is None or not provider.active:
            raise NotFound(f"no active provider {provider_id}")
        return await self._decide(
            attendance_id,
            lambda book, out, facts: decisions.verbal(
                book, out, facts, provider_id, eta_min, actor
            ),
            cap=True,
        )

    async def accept(
        self, offer_id: int, provider_id: int | None, eta_min: int, actor: str
    ) -> Offer:
        """Take an offer (``decisions.accept``): exactly one accept per attendance wins."""
        attendance_id = await self.lookups.offer_home(offer_id, provider_id)
        return await self._decide(
            attendance_id,
            lambda book, out, facts: decisions.accept(book, out, facts, offer_id, eta_min, actor),
        )

    async def withdraw_pending(self, provider_id: int, reason: str) -> None:
        """Withdraw every pending offer of a provider (deactivated); each cascade goes on."""
        for pending in await self.dispatch.pending_of(provider_id):
            rules = await self.lookups.rules(pending.attendance_id)
            withdraw = partial(decisions.withdraw, offer_id=pending.id, reason=reason)
            await self._decide(pending.attendance_id, withdraw, rules=rules, missing_ok=True)

    async def refuse(
        self, offer_id: int, provider_id: int | None, reason: str, actor: str
    ) -> Offer:
        checked_reason(reason)
        attendance_id = await self.lookups.offer_home(offer_id, provider_id)
        rules = await self.lookups.rules(attendance_id)
        return await self._decide(
            attendance_id,
            lambda book, out, facts: decisions.refuse(book, out, facts, offer_id, reason, actor),
            rules=rules,
        )

    async def step(
        self,
        attendance_id: int,
        step: Step,
        actor: str,
        *,
        provider_id: int | None = None,
        reason: str = "",
    ) -> Attendance:
        """Move an attendance along its lifecycle (a provider's report or an operator's)."""
        if step in NEEDS_REASON and not reason.strip():
            raise BadRequest(f"{step.value} needs a reason", problem="required", field="reason")
        try:
            return await self._decide(
                attendance_id,
                lambda book, out, facts: decisions.step(
                    book, out, facts, step, actor, provider_id, reason
                ),
            )
        except NotFound:
            if provider_id is None:
                raise
            # a provider is told what it may know: the attendance is not one of its own
            raise Forbidden(
                f"attendance {attendance_id} is not assigned to you", code="not_your_attendance"
            ) from None

    async def arrived(self, provider_id: int, attendance_id: int) -> None:
        """The provider's GPS reached the origin (hub/dispatch/arrivals.py): on site,
        unless the job moved on meanwhile."""
        try:
            await self.step(attendance_id, Step.ARRIVE, GPS, provider_id=provider_id)
        except HubError as exc:  # already declared, cancelled, reassigned
            log.info(
                "arrival not recorded", extra={"attendance": attendance_id, "err": exc.message}
            )

    async def advance(self, attendance_id: int, *, sweeping: bool = False) -> None:
        """Fire what is due (``decisions.advance``)."""
        rules = await self.lookups.rules(attendance_id)
        await self._decide(
            attendance_id, decisions.advance, rules=rules, sweeping=sweeping, missing_ok=True
        )

    async def sweep(self) -> None:
        """Advance what nobody fired: overdue by more than the grace (a node died)."""
        for attendance_id in await self.dispatch.due(now_ms() - self.sweep_grace_ms):
            await self.advance(attendance_id, sweeping=True)

    async def announce(self, attendance: Attendance, action: str, actor: str) -> None:
        """A change made outside dispatch (registering the attendance), on the status
        stream like dispatch's own."""
        entry = LogEntry(
            attendance_id=attendance.id,
            action=action,
            actor=actor,
            detail="",
            at_ms=now_ms(),
            state=attendance.state.value,
            provider_id=attendance.provider_id,
        )
        await self.delivery.deliver(Outcome(changes=[entry]))

    async def resend(self, provider_id: int) -> None:
        """A provider's session opened: its pending app and portal offers, again."""
        now = now_ms()
        for offer in await self.dispatch.pending_of(provider_id):
            if offer.mode in SESSION_MODES and offer.deadline_ms > now:
                attendance = await self.records.attendances.get(offer.attendance_id)
                if attendance is not None:
                    here = self.delivery.here(provider_id)
                    await self.delivery.push(provider_id, offer_frame(offer, attendance, here))

    async def resume(self) -> None:
        """At start: arm timers for everything with a due time (offers survive restarts)."""
        far = now_ms() + 7 * 86_400_000
        for attendance_id in await self.dispatch.due(far, limit=100_000):
            attendance = await self.records.attendances.get(attendance_id)
            if attendance is not None and attendance.due_ms is not None:
                self.timers.arm(attendance_id, attendance.due_ms)

    async def close(self) -> None:
        await self.timers.close()

    # --- making a decision ------------------------------------------------------------------

    async def _decide(
        self,
        attendance_id: int,
        decide: Decide[T],
        *,
        rules: DispatchRules | None = None,
        cap: bool = False,
        sweeping: bool = False,
        missing_ok: bool = False,
    ) -> T:
        """Make ``decide`` on the attendance, commit it and carry out its outcome.  With
        ``rules`` it may continue a cascade; ``cap`` says it needs the plan's value cap
        (a continued cascade does too)."""
        async with self.turns.take(attendance_id):
            decided = None
            if not sweeping:
                decided = await self._optimistically(attendance_id, decide, rules, cap)
            path = "snapshot"
            if decided is None:
                path = "swept" if sweeping else "again"
                decided = await self._locked(attendance_id, decide, rules, cap, sweeping)
            if decided is None:  # unknown, or (sweeping) another node is deciding on it
                if missing_ok:
                    return None  # type: ignore[return-value]
                raise NotFound(f"no attendance {attendance_id}")
            result, out = decided
            self.metrics.decisions.labels(path).inc()
            await self._after(out)
        await self.delivery.follow(out)  # the next decision need not wait for this
        return result

    async def _optimistically(
        self, attendance_id: int, decide: Decide[T], rules: DispatchRules | None, cap: bool
    ) -> tuple[T, Outcome] | None:
        """The decision on a snapshot, committed behind its version; None to make it again
        under the lock."""
        records = self.dispatch
        snapshot = self.recent.get(attendance_id)
        remembered = snapshot is not None
        if snapshot is None:
            snapshot = await records.snapshot(attendance_id)
            if snapshot is None:
                return None
        facts = await self._facts(snapshot.attendance, rules, cap)
        try:
            result, book, out = await self._made(snapshot, decide, facts, records.offer_ids)
            if not book.changed:
                if remembered:
                    raise Stale()  # a replay, or a timer someone else fired: ask the store
                self.recent.keep(snapshot)
                return result, _outcome(out, [], snapshot)
            change = book.change()
            await records.commit(change)
        except ANSWERS:
            if not remembered:
                raise  # the store's own answer
            self.recent.forget(attendance_id)  # perhaps only the memory's: ask the store
            return None
        except Stale:
            self.recent.forget(attendance_id)
            return None
        left = change.after()
        self.recent.keep(left)
        return result, _outcome(out, change.entries, left)

    async def _locked(
        self,
        attendance_id: int,
        decide: Decide[T],
        rules: DispatchRules | None,
        cap: bool,
        skip_locked: bool,
    ) -> tuple[T, Outcome] | None:
        """The decision with the attendance locked in the store (None if unknown, or
        skipped)."""
        self.recent.forget(attendance_id)
        async with self.dispatch.locked(attendance_id, skip_locked=skip_locked) as held:
            if held is None:
                return None
            facts = await self._facts(held.snapshot.attendance, rules, cap)
            result, book, out = await self._made(held.snapshot, decide, facts, held.offer_ids)
            left, entries = held.snapshot, []
            if book.changed:
                change = book.change()
                await held.commit(change)
                left, entries = change.after(), change.entries
        self.recent.keep(left)
        return result, _outcome(out, entries, left)

    async def _facts(self, a: Attendance, rules: DispatchRules | None, cap: bool) -> Facts:
        """What the decision rests on besides the attendance and its offers."""
        cap_cents = None
        if cap or (rules is not None and a.automatic):
            cap_cents = await self.lookups.cap(a)
        return Facts(
            now_ms=now_ms(),
            market=self.matching,
            rules=rules,
            cap_cents=cap_cents,
            client_id=self.lookups.client_of(a.id),
        )

    @staticmethod
    async def _made(
        snapshot: DispatchSnapshot,
        decide: Decide[T],
        facts: Facts,
        reserve: Callable[[int], Awaitable[list[int]]],
    ) -> tuple[T, OfferBook, Outcome]:
        """The pure decision, made again with one more offer id each time it runs out."""
        ids: list[int] = []
        while True:
            book, out = OfferBook(snapshot, ids), Outcome()
            try:
                return decide(book, out, facts), book, out
            except OutOfIds:
                ids += await reserve(1)

    # --- after the commit -------------------------------------------------------------------

    async def _after(self, out: Outcome) -> None:
        if out.lag_s is not None:
            self.metrics.deadline_lag.observe(out.lag_s)
        for offer, _ in out.made:
            self.lookups.remember(offer)
        a = out.attendance
        if a is not None:
            if a.due_ms is None:
                self.timers.disarm(a.id)
            else:
                self.timers.arm(a.id, a.due_ms)
        await self.delivery.tell(out)


def _outcome(out: Outcome, entries: list[LogEntry], left: DispatchSnapshot) -> Outcome:
    """The outcome of a committed decision: what it logged, and where it left the
    attendance."""
    out.changes = entries
    out.attendance = left.attendance
    return out
