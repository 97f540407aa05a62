"""Dispatch decisions: the rules, as functions of what was read. Pure.

Each decision takes an ``OfferBook`` (the attendance and its offers as read), the
``Facts`` the shell looked up before (the client's rules, the plan's value cap, the
clock, and the matching index as a ``Market``), and an ``Outcome`` to fill; it changes the
book and returns its answer, or raises the hub error the caller must answer with.  The
shell (hub/dispatch/service.py) commits the book's change and then carries the outcome
out: offers to deliver, offers closed, the assignment, providers released or told.
Nothing here awaits, so a decision can be made again from the start (``OutOfIds``, or a
commit that found the attendance moved on).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import msgspec

from hub.dispatch import cascade
from hub.dispatch.book import LogEntry, NewOffer, OfferBook
from hub.dispatch.jobs import job_query
from hub.dispatch.lifecycle import DISPATCHABLE, ENGAGED, FINAL, GPS, Step, after, already
from hub.dispatch.offers import TAKEN, Offer, OfferState, judge_accept, offer_code
from hub.errors import Conflict, Forbidden, NotFound
from hub.matching.queries import MatchQuery
from hub.operations.attendances import Attendance, AttendanceState
from hub.operations.clients import DispatchRules
from hub.operations.link_tokens import new_secret as random_secret
from hub.operations.link_tokens import secret_hash
from hub.operations.providers import Channel

SYSTEM = "system"
AUTO_MODES = (Channel.APP, Channel.WEB, Channel.LINK)  # verbal needs an operator's call
VERBAL_DEADLINE_MS = 60_000  # a verbal offer is made and accepted in one decision


class Market(Protocol):
    """What a decision asks the matching index (in memory, answered at once)."""

    def pick(
        self,
        query: MatchQuery,
        modes: Sequence[Channel],
        exclude: Collection[int],
        now_ms: int,
        price_cap_cents: int | None = None,
    ) -> tuple[int, Channel] | None:
        """The best-ranked provider not in ``exclude`` one of ``modes`` reaches, within the
        cap, and that mode."""
        ...

    def price_for(self, provider_id: int, query: MatchQuery) -> int | None:
        """The provider's price for the job (None: no table, or no position)."""
        ...


@dataclass(frozen=True, slots=True)
class Facts:
    """What a decision rests on besides the book, read before it is made."""

    now_ms: int
    market: Market
    rules: DispatchRules | None = None  # the client's; needed to continue a cascade
    cap_cents: int | None = None  # what the plan pays at most for the service
    client_id: int | None = None
    new_secret: Callable[[], str] = random_secret


@dataclass
class Outcome:
    """What a committed decision must tell the world."""

    changes: list[LogEntry] = field(default_factory=list)  # for the status stream
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


# --- the decisions ---------------------------------------------------------------------


def automatic(book: OfferBook, out: Outcome, facts: Facts, actor: str) -> Attendance:
    """Start the client's automatic cascade (at the schedule minus its lead time)."""
    a, now, rules = book.attendance, facts.now_ms, _rules(facts)
    if a.state not in DISPATCHABLE:
        raise Conflict(
            f"attendance {a.id} is {a.state.value}: nothing to dispatch",
            code="illegal_transition",
            step="dispatch",
            state=a.state.value,
        )
    start = now
    if a.scheduled_ms is not None:
        start = max(now, a.scheduled_ms - rules.schedule_lead_min * 60_000)
    book.save(msgspec.structs.replace(a, automatic=True, due_ms=start))
    book.log("auto", actor, f"starts at {start}", now, starts_ms=start)
    if start <= now:
        _continue(book, out, facts)
    return book.attendance


def offer(
    book: OfferBook, out: Outcome, facts: Facts, provider_id: int, mode: Channel, actor: str
) -> Offer:
    """An operator's pick: offer the job to this provider by this mode."""
    rules, now = _rules(facts), facts.now_ms
    _within_cap(book.attendance, provider_id, facts)
    deadline_ms = now + rules.offer_deadline_s * 1000
    made = _offer_to(book, out, facts, provider_id, mode, deadline_ms, 0.0, actor)
    _schedule(book, now)
    return made


def verbal(
    book: OfferBook, out: Outcome, facts: Facts, provider_id: int, eta_min: int, actor: str
) -> Offer:
    """The provider accepted by phone: assigned at once."""
    a, now = book.attendance, facts.now_ms
    if a.state in ENGAGED or a.state is AttendanceState.COMPLETED:
        raise Conflict(f"attendance {a.id} already has a provider", code="offer_taken")
    if a.state not in DISPATCHABLE:
        raise Conflict(
            f"attendance {a.id} is {a.state.value}",
            code="illegal_transition",
            step="dispatch",
            state=a.state.value,
        )
    _within_cap(a, provider_id, facts)
    deadline_ms = now + VERBAL_DEADLINE_MS
    made = _offer_to(book, out, facts, provider_id, Channel.VERBAL, deadline_ms, 0.0, actor)
    return _assign(book, out, facts, made, eta_min, actor)


def accept(
    book: OfferBook, out: Outcome, facts: Facts, offer_id: int, eta_min: int, actor: str
) -> Offer:
    """Take an offer.  Exactly one accept per attendance wins; a replay of the winning
    accept answers the same again; the rest get offer_taken / offer_expired."""
    current = _find(book, offer_id)
    if current.state is OfferState.ACCEPTED:
        out.again = current  # the same accept again (a retry, a double POST)
        return current
    judge_accept(current, book.attendance.state, facts.now_ms)
    return _assign(book, out, facts, current, eta_min, actor)


def refuse(
    book: OfferBook, out: Outcome, facts: Facts, offer_id: int, reason: str, actor: str
) -> Offer:
    """Turn an offer down with a reason; the cascade goes on."""
    current, now = _find(book, offer_id), facts.now_ms
    if current.state is OfferState.REFUSED:
        return current  # replayed
    if current.state is not OfferState.PENDING:
        raise Conflict(f"offer {offer_id} is {current.state.value}", code=offer_code(current))
    refused = book.decide(offer_id, OfferState.REFUSED, now, actor=actor, reason=reason)
    assert refused is not None  # pending in the book: the commit checks it again
    out.kpis.add(refused.provider_id)
    book.log(
        "refused",
        actor,
        f"offer {offer_id}: {reason}",
        now,
        offer_id=offer_id,
        provider_id=refused.provider_id,
        reason=reason,
    )
    _continue(book, out, facts)
    return refused


def withdraw(book: OfferBook, out: Outcome, facts: Facts, offer_id: int, reason: str) -> None:
    """Withdraw a pending offer (its provider was deactivated); the cascade goes on.  An
    offer no longer pending is left as it is."""
    current = _find(book, offer_id)
    if current.state is not OfferState.PENDING:
        return
    _close(book, out, current, OfferState.WITHDRAWN, reason, facts.now_ms)
    _continue(book, out, facts)


def step(
    book: OfferBook,
    out: Outcome,
    facts: Facts,
    to: Step,
    actor: str,
    provider_id: int | None,
    reason: str,
) -> Attendance:
    """Move an attendance along its lifecycle (a provider's report, or an operator's).  A
    final state withdraws the pending offers and releases the provider, who is told when
    the step was not its own."""
    a, now = book.attendance, facts.now_ms
    if provider_id is not None and a.provider_id != provider_id:
        raise Forbidden(f"attendance {a.id} is not assigned to you", code="not_your_attendance")
    if already(a.state, to):
        return a
    state = after(a.state, to)
    changed = msgspec.structs.replace(a, state=state)
    if to is Step.ARRIVE:
        changed = msgspec.structs.replace(changed, arrived_ms=now)
        if a.provider_id is not None:
            out.kpis.add(a.provider_id)
            if actor == GPS:  # the hub saw it in the fixes: the app learns it is on site
                out.told.append((a.provider_id, changed, GPS))
    if state in FINAL:
        changed = msgspec.structs.replace(changed, finished_ms=now, automatic=False, due_ms=None)
        for pending in book.pending():
            _close(book, out, pending, OfferState.WITHDRAWN, reason, now)
        if a.provider_id is not None:
            out.released = a.provider_id
            if provider_id is None:  # an operator's step: the provider is told
                out.told.append((a.provider_id, changed, reason))
    elif state in ENGAGED:
        out.moved = True  # on site: no longer watched for the arrival
    book.save(changed)
    book.log(to.value, actor, reason, now, **({"reason": reason} if reason else {}))
    return changed


def advance(book: OfferBook, out: Outcome, facts: Facts) -> None:
    """Fire what is due: expire overdue offers, continue the cascade, or go back to the
    panel.  Nothing happens unless the attendance's due time has come."""
    due = book.attendance.due_ms
    if due is None or due > facts.now_ms:
        return  # someone advanced it already, or the due time moved
    out.lag_s = (facts.now_ms - due) / 1000
    _continue(book, out, facts)


# --- their parts -------------------------------------------------------------------------


def _continue(book: OfferBook, out: Outcome, facts: Facts) -> None:
    """Expire overdue offers, then make the cascade's next move (or end a manual round)."""
    now, rules = facts.now_ms, _rules(facts)
    for pending in book.pending():
        if pending.deadline_ms <= now:
            _close(book, out, pending, OfferState.EXPIRED, "", now)
            out.kpis.add(pending.provider_id)
    a = book.attendance
    if a.state not in DISPATCHABLE:
        if a.due_ms is not None:
            book.save(msgspec.structs.replace(a, due_ms=None))
        return
    if a.automatic:
        find = _finder(a, facts)
        while True:
            decision = cascade.decide(rules, book.offers, now, find)
            if not isinstance(decision, cascade.MakeOffer):
                break
            _offer_to(
                book,
                out,
                facts,
                decision.provider_id,
                decision.mode,
                decision.deadline_ms,
                decision.radius_km,
                SYSTEM,
            )
        if isinstance(decision, cascade.GiveUp):
            _no_taker(book, now, decision.note, decision.reason)
            return
    elif a.state is AttendanceState.OFFERING and not book.pending():
        _no_taker(book, now, cascade.NOT_TAKEN, "the offer was not taken")
        return
    _schedule(book, now, rules)


def _schedule(book: OfferBook, now: int, rules: DispatchRules | None = None) -> None:
    """Store when dispatch must look at the attendance again."""
    a = book.attendance
    wake = [o.deadline_ms for o in book.pending()]
    if a.automatic and rules is not None:
        decision = cascade.decide(rules, book.offers, now, lambda r, e: None)
        if isinstance(decision, cascade.Wait):
            wake.append(decision.until_ms)
    due = min(wake) if wake else None
    if due != a.due_ms:
        book.save(msgspec.structs.replace(a, due_ms=due))


def _no_taker(book: OfferBook, now: int, note: str, reason: str) -> None:
    a = book.attendance
    state = after(a.state, Step.NO_TAKER) if a.state is AttendanceState.OFFERING else a.state
    book.save(
        msgspec.structs.replace(a, state=state, automatic=False, due_ms=None, dispatch_note=note)
    )
    book.log("no_provider", SYSTEM, reason, now, note=note)


def _offer_to(
    book: OfferBook,
    out: Outcome,
    facts: Facts,
    provider_id: int,
    mode: Channel,
    deadline_ms: int,
    radius_km: float,
    actor: str,
) -> Offer:
    """A new offer, with a link's secret when it goes by link."""
    secret = facts.new_secret() if mode is Channel.LINK else None
    new = NewOffer(
        provider_id=provider_id,
        mode=mode,
        deadline_ms=deadline_ms,
        radius_km=radius_km,
        created_by=actor,
        link_hash=None if secret is None else secret_hash(secret),
    )
    return _make(book, out, facts.now_ms, new, secret)


def _make(book: OfferBook, out: Outcome, now: int, new: NewOffer, secret: str | None) -> Offer:
    a = book.attendance
    state = after(a.state, Step.OFFER)
    made = book.add_offer(new, now)
    if state is not a.state or a.dispatch_note:
        book.save(msgspec.structs.replace(a, state=state, dispatch_note=""))
    book.log(
        "offer",
        new.created_by,
        f"offer {made.id} to provider {new.provider_id} by {new.mode.value}",
        now,
        offer_id=made.id,
        provider_id=new.provider_id,
        mode=new.mode.value,
    )
    out.made.append((made, secret))
    return made


def _assign(
    book: OfferBook, out: Outcome, facts: Facts, offer: Offer, eta_min: int, actor: str
) -> Offer:
    now = facts.now_ms
    won = book.decide(offer.id, OfferState.ACCEPTED, now, actor=actor, eta_min=eta_min)
    if won is None:
        raise Conflict(f"offer {offer.id} expired", code="offer_expired")
    for other in book.pending():
        _close(book, out, other, OfferState.WITHDRAWN, TAKEN, now)
    a = book.attendance
    price = None
    if a.avulso and a.origin is not None:  # the plan does not pay: the table's price
        price = facts.market.price_for(won.provider_id, job_query(a))
    book.save(
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
    book.log(
        "assign",
        actor,
        f"provider {won.provider_id} by {won.mode.value}, ETA {eta_min} min",
        now,
        offer_id=won.id,
        provider_id=won.provider_id,
        mode=won.mode.value,
        eta_min=eta_min,
    )
    out.assigned = won
    if won.mode is not Channel.VERBAL:  # acceptance counts answered offers only
        out.kpis.add(won.provider_id)
    return won


def _close(
    book: OfferBook, out: Outcome, offer: Offer, to: OfferState, reason: str, now: int
) -> None:
    closed = book.decide(offer.id, to, now, actor=SYSTEM, reason=reason)
    if closed is not None:
        out.closed.append(closed)
        book.log(
            to.value,
            SYSTEM,
            f"offer {offer.id} {reason}".strip(),
            now,
            offer_id=offer.id,
            provider_id=offer.provider_id,
            **({"reason": reason} if reason else {}),
        )


def _within_cap(a: Attendance, provider_id: int, facts: Facts) -> None:
    """Refuse a provider whose price for the job is over the plan's value cap."""
    cap = facts.cap_cents
    if cap is None or a.origin is None:
        return
    price = facts.market.price_for(provider_id, job_query(a))
    if price is not None and price > cap:
        raise Conflict(
            f"provider {provider_id} charges R$ {price / 100:.2f} for this job, over the"
            f" plan's cap of R$ {cap / 100:.2f}: choose another, or open it as avulso",
            code="over_value_cap",
            price_cents=price,
            cap_cents=cap,
        )


def _finder(a: Attendance, facts: Facts) -> cascade.Find:
    """The cascade's ``find``: the best-ranked provider over the automatic modes."""
    job = msgspec.structs.replace(job_query(a), client_id=facts.client_id)

    def find(radius_km: float, offered: Collection[int]) -> tuple[int, Channel] | None:
        query = msgspec.structs.replace(job, radius_km=radius_km)
        return facts.market.pick(query, AUTO_MODES, offered, facts.now_ms, facts.cap_cents)

    return find


def _rules(facts: Facts) -> DispatchRules:
    assert facts.rules is not None, "this decision needs the client's rules"
    return facts.rules


def _find(book: OfferBook, offer_id: int) -> Offer:
    """The offer in the book (its id was checked against the store before; a snapshot
    from memory may not hold it yet)."""
    found = book.offer(offer_id)
    if found is None:
        raise NotFound(f"no offer {offer_id} for you", code="offer_unknown")
    return found
