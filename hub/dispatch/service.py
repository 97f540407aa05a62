"""The dispatcher: the async shell around the lifecycle, offer and cascade tables.

Every decision works on a ledger (hub/state/ledger.py) and returns an ``Outcome``: what the
world must be told once it is committed (offers to deliver, offers closed, the assignment,
log entries for the status stream, the next time to look).  Nothing leaves the node before
the commit.

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

import secrets
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeVar

import msgspec

from hub.clock import now_ms
from hub.dispatch import cascade
from hub.dispatch.delivery import Delivery, link_hash, offer_frame
from hub.dispatch.lifecycle import (
    DISPATCHABLE,
    ENGAGED,
    FINAL,
    NEEDS_REASON,
    Step,
    after,
    already,
)
from hub.dispatch.lookups import Lookups, job_query
from hub.dispatch.offers import (
    TAKEN,
    Offer,
    OfferState,
    checked_reason,
    judge_accept,
    offer_code,
)
from hub.dispatch.recent import Recent
from hub.dispatch.timers import DueTimers
from hub.dispatch.turns import Turns
from hub.errors import BadRequest, Conflict, Forbidden, NotFound
from hub.operations.attendances import Attendance, AttendanceState
from hub.operations.clients import DispatchRules
from hub.operations.providers import SESSION_MODES, Channel
from hub.state.ledger import Entry, Ledger, NewOffer, Stale

if TYPE_CHECKING:
    from hub.context import Hub

SYSTEM = "system"
RECENT_SIZE = 10_000  # snapshots kept: attendances being dispatched or on the way
ANSWERS = (BadRequest, Conflict, Forbidden, NotFound)  # a decision's refusals
AUTO_MODES = (Channel.APP, Channel.WEB, Channel.LINK)  # verbal needs an operator's call

T = TypeVar("T")


@dataclass
class Outcome:
    """What a committed decision must tell the world."""

    changes: list[Entry] = field(default_factory=list)  # for the status stream
    made: list[tuple[Offer, str | None]] = field(default_factory=list)  # (offer, link secret)
    closed: list[Offer] = field(default_factory=list)
    assigned: Offer | None = None
    again: Offer | None = None  # a replayed accept: the assignment is sent again
    moved: bool = False  # the assigned provider's job changed state
    released: int | None = None  # a provider no longer engaged
    told: list[tuple[int, Attendance, str]] = field(default_factory=list)  # provider, status
    kpis: set[int] = field(default_factory=set)  # providers whose record changed
    lag_s: float | None = None  # a due time fired this late
    attendance: Attendance | None = None


class Dispatcher:
    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self.delivery = Delivery(hub)
        self.timers = DueTimers(self.advance)
        self.lookups = Lookups(hub)
        self.turns = Turns()
        self.recent = Recent(RECENT_SIZE)

    # --- entry points ----------------------------------------------------------------------

    async def automatic(self, attendance_id: int, actor: str) -> Attendance:
        """Start the client's automatic cascade (at the schedule minus its lead time)."""
        rules = await self.lookups.rules(attendance_id)

        async def work(ledger: Ledger, out: Outcome, now: int) -> Attendance:
            a = ledger.attendance
            if a.state not in DISPATCHABLE:
                raise Conflict(
                    f"attendance {a.id} is {a.state.value}: nothing to dispatch",
                    code="illegal_transition",
                )
            start = now
            if a.scheduled_ms is not None:
                start = max(now, a.scheduled_ms - rules.schedule_lead_min * 60_000)
            await ledger.save(msgspec.structs.replace(a, automatic=True, due_ms=start))
            await ledger.log("auto", actor, f"starts at {start}", now)
            if start <= now:
                await self._continue(ledger, out, now, rules)
            return ledger.attendance

        return await self._decide(attendance_id, work)

    async def offer(self, attendance_id: int, provider_id: int, mode: Channel, actor: str) -> Offer:
        """An operator's pick: offer the job to this provider by this mode."""
        if mode is Channel.VERBAL:
            raise BadRequest("a verbal dispatch is recorded with its ETA (the verbal route)")
        await self.delivery.reachable(provider_id, mode)
        rules = await self.lookups.rules(attendance_id)

        async def work(ledger: Ledger, out: Outcome, now: int) -> Offer:
            await self.lookups.within_cap(ledger.attendance, provider_id)
            secret = secrets.token_urlsafe(24) if mode is Channel.LINK else None
            offer = await self._make(
                ledger,
                out,
                now,
                NewOffer(
                    provider_id=provider_id,
                    mode=mode,
                    deadline_ms=now + rules.offer_deadline_s * 1000,
                    radius_km=0.0,
                    created_by=actor,
                    link_hash=None if secret is None else link_hash(secret),
                ),
                secret,
            )
            await self._schedule(ledger, now)
            return offer

        return await self._decide(attendance_id, work)

    async def verbal(self, attendance_id: int, provider_id: int, eta_min: int, actor: str) -> Offer:
        """The provider accepted by phone: assigned at once."""
        provider = await self.hub.records.providers.get(provider_id)
        if provider is None or not provider.active:
            raise NotFound(f"no active provider {provider_id}")

        async def work(ledger: Ledger, out: Outcome, now: int) -> Offer:
            self._still_open(ledger.attendance)
            await self.lookups.within_cap(ledger.attendance, provider_id)
            offer = await self._make(
                ledger,
                out,
                now,
                NewOffer(
                    provider_id=provider_id,
                    mode=Channel.VERBAL,
                    deadline_ms=now + 60_000,
                    radius_km=0.0,
                    created_by=actor,
                ),
                None,
            )
            return await self._assign(ledger, out, offer, eta_min, actor, now)

        return await self._decide(attendance_id, work)

    async def accept(
        self, offer_id: int, provider_id: int | None, eta_min: int, actor: str
    ) -> Offer:
        """Take an offer.  Exactly one accept per attendance wins; a replay of the winning
        accept answers the same again; the rest get offer_taken / offer_expired."""
        attendance_id = await self.lookups.offer_home(offer_id, provider_id)

        async def work(ledger: Ledger, out: Outcome, now: int) -> Offer:
            current = _find(ledger.offers, offer_id)
            if current.state is OfferState.ACCEPTED:
                out.again = current  # the same accept again (a retry, a double POST)
                return current
            judge_accept(current, ledger.attendance.state, now)
            return await self._assign(ledger, out, current, eta_min, actor, now)

        return await self._decide(attendance_id, work)

    async def refuse(
        self, offer_id: int, provider_id: int | None, reason: str, actor: str
    ) -> Offer:
        checked_reason(reason)
        attendance_id = await self.lookups.offer_home(offer_id, provider_id)
        rules = await self.lookups.rules(attendance_id)

        async def work(ledger: Ledger, out: Outcome, now: int) -> Offer:
            current = _find(ledger.offers, offer_id)
            if current.state is OfferState.REFUSED:
                return current  # replayed
            if current.state is not OfferState.PENDING:
                raise Conflict(
                    f"offer {offer_id} is {current.state.value}", code=offer_code(current)
                )
            refused = await ledger.decide(
                current, OfferState.REFUSED, now, actor=actor, reason=reason
            )
            assert refused is not None  # pending in the ledger: the commit checks it again
            out.kpis.add(refused.provider_id)
            await ledger.log("refused", actor, f"offer {offer_id}: {reason}", now)
            await self._continue(ledger, out, now, rules)
            return refused

        return await self._decide(attendance_id, work)

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
            raise BadRequest(f"{step.value} needs a reason")

        async def work(ledger: Ledger, out: Outcome, now: int) -> Attendance:
            a = ledger.attendance
            if provider_id is not None and a.provider_id != provider_id:
                raise Forbidden(
                    f"attendance {a.id} is not assigned to you", code="not_your_attendance"
                )
            if already(a.state, step):
                return a
            state = after(a.state, step)
            changed = msgspec.structs.replace(a, state=state)
            if step is Step.ARRIVE:
                changed = msgspec.structs.replace(changed, arrived_ms=now)
                if a.provider_id is not None:
                    out.kpis.add(a.provider_id)
            if state in FINAL:
                changed = msgspec.structs.replace(
                    changed, finished_ms=now, automatic=False, due_ms=None
                )
                for offer in ledger.offers:
                    if offer.state is OfferState.PENDING:
                        await self._close(ledger, out, offer, OfferState.WITHDRAWN, reason, now)
                if a.provider_id is not None:
                    out.released = a.provider_id
                    if provider_id is None:  # an operator's step: the provider is told
                        out.told.append((a.provider_id, changed, reason))
            elif changed.state in ENGAGED:
                out.moved = True  # on site: no longer watched for the arrival
            await ledger.save(changed)
            await ledger.log(step.value, actor, reason, now)
            return changed

        return await self._decide(attendance_id, work)

    async def advance(self, attendance_id: int, *, sweeping: bool = False) -> None:
        """Fire what is due: expire overdue offers, continue the cascade, or go back to the
        panel.  Nothing happens unless the attendance's due time has come."""
        rules = await self.lookups.rules(attendance_id)

        async def work(ledger: Ledger, out: Outcome, now: int) -> None:
            due = ledger.attendance.due_ms
            if due is None or due > now:
                return  # someone advanced it already, or the due time moved
            out.lag_s = (now - due) / 1000
            await self._continue(ledger, out, now, rules)

        await self._decide(attendance_id, work, sweeping=sweeping, missing_ok=True)

    async def sweep(self) -> None:
        """Advance what nobody fired: overdue by more than the grace (a node died)."""
        grace = int(self.hub.settings.sweep_grace_s * 1000)
        for attendance_id in await self.hub.records.dispatch.due(now_ms() - grace):
            await self.advance(attendance_id, sweeping=True)

    async def announce(self, attendance: Attendance, action: str, actor: str) -> None:
        """A change made outside dispatch (registering the attendance), on the status
        stream like dispatch's own."""
        entry = Entry(
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
        records, now = self.hub.records, now_ms()
        for offer in await records.dispatch.pending_of(provider_id):
            if offer.mode in SESSION_MODES and offer.deadline_ms > now:
                attendance = await records.attendances.get(offer.attendance_id)
                if attendance is not None:
                    here = self.delivery.here(provider_id)
                    await self.delivery.push(provider_id, offer_frame(offer, attendance, here))

    async def resume(self) -> None:
        """At start: arm timers for everything with a due time (offers survive restarts)."""
        far = now_ms() + 7 * 86_400_000
        for attendance_id in await self.hub.records.dispatch.due(far, limit=100_000):
            attendance = await self.hub.records.attendances.get(attendance_id)
            if attendance is not None and attendance.due_ms is not None:
                self.timers.arm(attendance_id, attendance.due_ms)

    async def close(self) -> None:
        await self.timers.close()

    # --- inside a decision --------------------------------------------------------------

    async def _decide(
        self,
        attendance_id: int,
        work: Callable[[Ledger, Outcome, int], Awaitable[T]],
        *,
        sweeping: bool = False,
        missing_ok: bool = False,
    ) -> T:
        async with self.turns.take(attendance_id):
            decided = None if sweeping else await self._optimistically(attendance_id, work)
            path = "snapshot"
            if decided is None:
                path = "swept" if sweeping else "again"
                decided = await self._locked(attendance_id, work, skip_locked=sweeping)
            if decided is None:  # unknown, or (sweeping) another node is deciding on it
                if missing_ok:
                    return None  # type: ignore[return-value]
                raise NotFound(f"no attendance {attendance_id}")
            result, out = decided
            self.hub.metrics.decisions.labels(path).inc()
            await self._after(out)
        await self.delivery.follow(out)  # the next decision need not wait for this
        return result

    async def _optimistically(
        self, attendance_id: int, work: Callable[[Ledger, Outcome, int], Awaitable[T]]
    ) -> tuple[T, Outcome] | None:
        """The decision on a snapshot, committed behind its version; None to make it again
        under the lock."""
        records = self.hub.records.dispatch
        snapshot = self.recent.get(attendance_id)
        remembered = snapshot is not None
        if snapshot is None:
            snapshot = await records.snapshot(attendance_id)
            if snapshot is None:
                return None
        ledger, out = Ledger(records, snapshot), Outcome()
        try:
            result = await work(ledger, out, now_ms())
            if remembered and not ledger.changed:
                raise Stale()  # a replay, or a timer someone else fired: ask the store
            self.recent.keep(await records.commit(ledger))
        except ANSWERS:
            if not remembered:
                raise  # the store's own answer
            self.recent.forget(attendance_id)  # perhaps only the memory's: ask the store
            return None
        except Stale:
            self.recent.forget(attendance_id)
            return None
        return result, _outcome(out, ledger)

    async def _locked(
        self,
        attendance_id: int,
        work: Callable[[Ledger, Outcome, int], Awaitable[T]],
        *,
        skip_locked: bool,
    ) -> tuple[T, Outcome] | None:
        """The decision with the attendance locked in the store (None if unknown, or
        skipped)."""
        self.recent.forget(attendance_id)
        out = Outcome()
        async with self.hub.records.dispatch.locked(
            attendance_id, skip_locked=skip_locked
        ) as ledger:
            if ledger is None:
                return None
            result = await work(ledger, out, now_ms())
        if ledger.after is not None:
            self.recent.keep(ledger.after)
        return result, _outcome(out, ledger)

    async def _continue(self, ledger: Ledger, out: Outcome, now: int, rules: DispatchRules) -> None:
        """Expire overdue offers, then make the cascade's next move (or end a manual round)."""
        for offer in ledger.offers:
            if offer.state is OfferState.PENDING and offer.deadline_ms <= now:
                await self._close(ledger, out, offer, OfferState.EXPIRED, "", now)
                out.kpis.add(offer.provider_id)
        a = ledger.attendance
        if a.state not in DISPATCHABLE:
            if a.due_ms is not None:
                await ledger.save(msgspec.structs.replace(a, due_ms=None))
            return
        if a.automatic:
            find = self._finder(a, rules, now, await self.lookups.cap(a))
            while True:
                decision = cascade.decide(rules, ledger.offers, now, find)
                if not isinstance(decision, cascade.MakeOffer):
                    break
                secret = secrets.token_urlsafe(24) if decision.mode is Channel.LINK else None
                await self._make(
                    ledger,
                    out,
                    now,
                    NewOffer(
                        provider_id=decision.provider_id,
                        mode=decision.mode,
                        deadline_ms=decision.deadline_ms,
                        radius_km=decision.radius_km,
                        created_by=SYSTEM,
                        link_hash=None if secret is None else link_hash(secret),
                    ),
                    secret,
                )
            if isinstance(decision, cascade.GiveUp):
                await self._no_taker(ledger, out, now, decision.reason)
                return
        elif a.state is AttendanceState.OFFERING and not any(
            o.state is OfferState.PENDING for o in ledger.offers
        ):
            await self._no_taker(ledger, out, now, "the offer was not taken")
            return
        await self._schedule(ledger, now, rules)

    async def _schedule(self, ledger: Ledger, now: int, rules: DispatchRules | None = None) -> None:
        """Store when dispatch must look at the attendance again."""
        a = ledger.attendance
        wake = [o.deadline_ms for o in ledger.offers if o.state is OfferState.PENDING]
        if a.automatic and rules is not None:
            decision = cascade.decide(rules, ledger.offers, now, lambda r, e: None)
            if isinstance(decision, cascade.Wait):
                wake.append(decision.until_ms)
        due = min(wake) if wake else None
        if due != a.due_ms:
            await ledger.save(msgspec.structs.replace(a, due_ms=due))

    async def _no_taker(self, ledger: Ledger, out: Outcome, now: int, reason: str) -> None:
        a = ledger.attendance
        state = after(a.state, Step.NO_TAKER) if a.state is AttendanceState.OFFERING else a.state
        await ledger.save(
            msgspec.structs.replace(
                a, state=state, automatic=False, due_ms=None, dispatch_note=reason
            )
        )
        await ledger.log("no_provider", SYSTEM, reason, now)

    async def _make(
        self, ledger: Ledger, out: Outcome, now: int, new: NewOffer, secret: str | None
    ) -> Offer:
        a = ledger.attendance
        state = after(a.state, Step.OFFER)
        offer = await ledger.add_offer(new, now)
        if state is not a.state or a.dispatch_note:
            await ledger.save(msgspec.structs.replace(a, state=state, dispatch_note=""))
        await ledger.log(
            "offer",
            new.created_by,
            f"offer {offer.id} to provider {new.provider_id} by {new.mode.value}",
            now,
        )
        out.made.append((offer, secret))
        return offer

    async def _assign(
        self, ledger: Ledger, out: Outcome, offer: Offer, eta_min: int, actor: str, now: int
    ) -> Offer:
        won = await ledger.decide(offer, OfferState.ACCEPTED, now, actor=actor, eta_min=eta_min)
        if won is None:
            raise Conflict(f"offer {offer.id} expired", code="offer_expired")
        for other in ledger.offers:
            if other.state is OfferState.PENDING:
                await self._close(ledger, out, other, OfferState.WITHDRAWN, TAKEN, now)
        a = ledger.attendance
        price = None
        if a.avulso and a.origin is not None:  # the plan does not pay: the table's price
            price = self.hub.matching.price_for(won.provider_id, job_query(a))
        await ledger.save(
            msgspec.structs.replace(
                a,
                state=after(a.state, Step.ASSIGN),
                provider_id=won.provider_id,
                price_cents=price,
                assigned_ms=now,
                promised_ms=now + eta_min * 60_000,
                automatic=False,
                due_ms=None,
                dispatch_note="",
            )
        )
        await ledger.log(
            "assign",
            actor,
            f"provider {won.provider_id} by {won.mode.value}, ETA {eta_min} min",
            now,
        )
        out.assigned = won
        if won.mode is not Channel.VERBAL:  # acceptance counts answered offers only
            out.kpis.add(won.provider_id)
        return won

    async def _close(
        self, ledger: Ledger, out: Outcome, offer: Offer, to: OfferState, reason: str, now: int
    ) -> None:
        closed = await ledger.decide(offer, to, now, actor=SYSTEM, reason=reason)
        if closed is not None:
            out.closed.append(closed)
            await ledger.log(to.value, SYSTEM, f"offer {offer.id} {reason}".strip(), now)

    def _still_open(self, a: Attendance) -> None:
        if a.state in ENGAGED or a.state is AttendanceState.COMPLETED:
            raise Conflict(f"attendance {a.id} already has a provider", code="offer_taken")
        if a.state not in DISPATCHABLE:
            raise Conflict(f"attendance {a.id} is {a.state.value}", code="illegal_transition")

    def _finder(
        self, a: Attendance, rules: DispatchRules, now: int, cap: int | None
    ) -> cascade.Find:
        """The cascade's ``find``: the best-ranked provider over the automatic modes."""
        job = msgspec.structs.replace(job_query(a), client_id=self.lookups.client_of(a.id))

        def find(radius_km: float, offered: Collection[int]) -> tuple[int, Channel] | None:
            query = msgspec.structs.replace(job, radius_km=radius_km)
            return self.hub.matching.pick(query, AUTO_MODES, offered, now, cap)

        return find

    # --- after the commit -------------------------------------------------------------------

    async def _after(self, out: Outcome) -> None:
        if out.lag_s is not None:
            self.hub.metrics.deadline_lag.observe(out.lag_s)
        for offer, _ in out.made:
            self.lookups.remember(offer)
        a = out.attendance
        if a is not None:
            if a.due_ms is None:
                self.timers.disarm(a.id)
            else:
                self.timers.arm(a.id, a.due_ms)
        await self.delivery.tell(out)


def _outcome(out: Outcome, ledger: Ledger) -> Outcome:
    """The outcome of a committed decision, with what its ledger logged and left."""
    out.changes = [entry for _, entry in ledger.logged]
    out.attendance = ledger.attendance
    return out


def _find(offers: list[Offer], offer_id: int) -> Offer:
    """The offer in the ledger (its id was checked against the store before; a snapshot
    from memory may not hold it yet)."""
    found = next((o for o in offers if o.id == offer_id), None)
    if found is None:
        raise NotFound(f"no offer {offer_id} for you", code="offer_unknown")
    return found
