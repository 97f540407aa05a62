"""Dispatch decisions as pure functions: a book and the facts in, the book's change and the
outcome out; no engine, no event loop."""

from __future__ import annotations

import msgspec
import pytest

from hub.dispatch import decisions
from hub.dispatch.book import DispatchSnapshot, OfferBook, OutOfIds
from hub.dispatch.decisions import Facts, Outcome
from hub.dispatch.lifecycle import Step
from hub.dispatch.offers import TAKEN, Offer, OfferState
from hub.errors import Conflict, Forbidden, NotFound
from hub.operations.attendances import Attendance, AttendanceState, Kind, Place
from hub.operations.beneficiaries import Address
from hub.operations.clients import Cascade, DispatchRules
from hub.operations.providers import Channel

NOW = 1_800_000_000_000
SPOT = Place(address=Address(street="Av. Paulista", district="Bela Vista"), lat=-23.56, lng=-46.65)
RULES = DispatchRules(radius_km=10, offer_deadline_s=60, max_attempts=3, widen_rounds=0)


class Market:
    """The matching index as a decision sees it: providers in ranking order, with prices."""

    def __init__(self, ranked=(), prices=None):
        self.ranked = list(ranked)
        self.prices = prices or {}
        self.asked = []

    def pick(self, query, modes, exclude, now_ms, price_cap_cents=None):
        self.asked.append((query.radius_km, set(exclude), price_cap_cents))
        for pid in self.ranked:
            price = self.prices.get(pid)
            over = price_cap_cents is not None and price is not None and price > price_cap_cents
            if pid not in exclude and not over:
                return pid, modes[0]
        return None

    def price_for(self, provider_id, query):
        return self.prices.get(provider_id)


def attendance(**changes) -> Attendance:
    base = Attendance(
        id=7,
        event_id=1,
        beneficiary_id=1,
        kind=Kind.ASSISTANCE,
        service="light_tow",
        avulso=False,
        avulso_reason="",
        requester_name="Ana",
        requester_phone="11999990000",
        notes="",
        at_ms=NOW - 60_000,
        scheduled_ms=None,
        origin=SPOT,
        destination=None,
        police_report="",
        last_seen=None,
        state=AttendanceState.AWAITING_DISPATCH,
        created_by="user:1",
    )
    return msgspec.structs.replace(base, **changes)


def offer(offer_id: int, provider_id: int, state=OfferState.PENDING, **changes) -> Offer:
    base = Offer(
        id=offer_id,
        attendance_id=7,
        provider_id=provider_id,
        mode=Channel.APP,
        state=state,
        created_ms=NOW - 10_000,
        deadline_ms=NOW + 50_000,
        radius_km=10.0,
        created_by="system",
    )
    return msgspec.structs.replace(base, **changes)


def book(a: Attendance | None = None, offers=(), ids=(101, 102, 103)) -> OfferBook:
    return OfferBook(DispatchSnapshot(a or attendance(), list(offers), 4), ids)


def facts(market=None, **changes) -> Facts:
    return Facts(now_ms=NOW, market=market or Market(), new_secret=lambda: "s" * 32, **changes)


def offering(*offers: Offer, **changes) -> OfferBook:
    return book(attendance(state=AttendanceState.OFFERING, **changes), offers)


# --- accept ------------------------------------------------------------------------------


def test_an_accept_assigns_and_withdraws_every_other_pending_offer():
    b, out = offering(offer(1, 11), offer(2, 12), offer(3, 13, OfferState.REFUSED)), Outcome()
    won = decisions.accept(b, out, facts(), 1, 15, "provider:11")
    assert (won.state, won.eta_min, won.decided_by) == (OfferState.ACCEPTED, 15, "provider:11")
    a = b.attendance
    assert (a.state, a.provider_id, a.promised_ms) == (AttendanceState.ASSIGNED, 11, NOW + 900_000)
    assert [(o.id, o.state, o.reason) for o in out.closed] == [(2, OfferState.WITHDRAWN, TAKEN)]
    assert out.assigned == won and out.kpis == {11}
    change = b.change()
    assert [o.id for o in change.decided] == [1, 2] and change.made == {}
    assert [e.action for e in change.entries] == ["withdrawn", "assign"]
    assert change.after().version == 5


def test_a_replayed_accept_answers_the_same_and_changes_nothing():
    won = offer(1, 11, OfferState.ACCEPTED, eta_min=15)
    b, out = book(attendance(state=AttendanceState.ASSIGNED, provider_id=11), [won]), Outcome()
    assert decisions.accept(b, out, facts(), 1, 15, "provider:11") == won
    assert out.again == won and not b.changed


@pytest.mark.parametrize(
    ("stored", "code"),
    [
        (offer(1, 11, OfferState.WITHDRAWN, reason=TAKEN), "offer_taken"),
        (offer(1, 11, OfferState.EXPIRED), "offer_expired"),
        (offer(1, 11, OfferState.REFUSED), "offer_refused"),
        (offer(1, 11, deadline_ms=NOW), "offer_expired"),  # at its deadline it has lost
    ],
)
def test_an_accept_that_cannot_win_names_why_and_changes_nothing(stored, code):
    b = offering(stored)
    with pytest.raises(Conflict) as refused:
        decisions.accept(b, Outcome(), facts(), 1, 15, "provider:11")
    assert refused.value.code == code and not b.changed


def test_an_accept_of_an_offer_the_book_does_not_hold_is_unknown():
    with pytest.raises(NotFound) as unknown:
        decisions.accept(offering(offer(1, 11)), Outcome(), facts(), 2, 15, "p")
    assert unknown.value.code == "offer_unknown"


def test_an_avulso_job_is_priced_from_the_winners_table():
    b = offering(offer(1, 11), avulso=True)
    decisions.accept(b, Outcome(), facts(Market(prices={11: 18_000})), 1, 10, "p")
    assert b.attendance.price_cents == 18_000


# --- refuse and the cascade ----------------------------------------------------------------


def test_a_refusal_in_an_automatic_cascade_offers_the_next_provider():
    market = Market(ranked=[11, 12])
    b, out = offering(offer(1, 11), automatic=True), Outcome()
    refused = decisions.refuse(b, out, facts(market, rules=RULES), 1, "busy", "provider:11")
    assert (refused.state, refused.reason) == (OfferState.REFUSED, "busy")
    assert [(o.id, o.provider_id) for o, _ in out.made] == [(101, 12)]
    assert market.asked[0][1] == {11}  # nobody is offered the same job twice
    assert b.attendance.due_ms == NOW + 60_000  # the new offer's deadline
    assert out.kpis == {11}
    assert [e.action for e in b.change().entries] == ["refused", "offer"]


def test_a_withdrawn_offer_lets_an_automatic_cascade_go_on_and_a_settled_one_is_left():
    market = Market(ranked=[11, 12])
    b, out = offering(offer(1, 11), automatic=True), Outcome()
    decisions.withdraw(b, out, facts(market, rules=RULES), 1, "provider_inactive")
    assert [(o.id, o.state, o.reason) for o in out.closed] == [
        (1, OfferState.WITHDRAWN, "provider_inactive")
    ]
    assert [(o.id, o.provider_id) for o, _ in out.made] == [(101, 12)]
    settled, again = offering(offer(1, 11, OfferState.REFUSED)), Outcome()
    decisions.withdraw(settled, again, facts(), 1, "provider_inactive")
    assert again.closed == [] and not settled.changed


def test_a_refused_manual_offer_sends_the_attendance_back_to_the_panel():
    b = offering(offer(1, 11))
    decisions.refuse(b, Outcome(), facts(rules=RULES), 1, "busy", "provider:11")
    a = b.attendance
    assert (a.state, a.dispatch_note) == (
        AttendanceState.AWAITING_DISPATCH,
        "not_taken",
    )


def test_a_cascade_that_finds_nobody_gives_up_with_the_reason():
    b = book(attendance(), ids=())
    decisions.automatic(b, Outcome(), facts(Market(), rules=RULES), "user:1")
    a = b.attendance
    assert (a.state, a.automatic, a.due_ms) == (AttendanceState.AWAITING_DISPATCH, False, None)
    assert a.dispatch_note == "none_eligible"
    assert "no eligible provider" in b.change().entries[-1].detail


def test_the_cascade_asks_for_providers_within_the_plans_cap():
    market = Market(ranked=[11, 12], prices={11: 30_000, 12: 10_000})
    b, out = book(), Outcome()
    decisions.automatic(b, out, facts(market, rules=RULES, cap_cents=20_000), "user:1")
    assert [o.provider_id for o, _ in out.made] == [12]
    assert market.asked[0][2] == 20_000


def test_a_decision_that_runs_out_of_offer_ids_says_so():
    with pytest.raises(OutOfIds):
        decisions.automatic(book(ids=()), Outcome(), facts(Market([11]), rules=RULES), "u")


def test_a_staggered_cascade_waits_for_the_next_stagger():
    rules = msgspec.structs.replace(RULES, cascade=Cascade.STAGGERED, stagger_s=20)
    b, out = book(), Outcome()
    decisions.automatic(b, out, facts(Market([11, 12]), rules=rules), "user:1")
    assert [o.provider_id for o, _ in out.made] == [11]  # one now, the next in 20 s
    assert b.attendance.due_ms == NOW + 20_000


def test_a_scheduled_job_starts_its_cascade_at_the_lead_time():
    later = NOW + 3 * 3_600_000
    b, out = book(attendance(scheduled_ms=later)), Outcome()
    decisions.automatic(b, out, facts(Market([11]), rules=RULES), "user:1")
    assert out.made == [] and b.attendance.due_ms == later - RULES.schedule_lead_min * 60_000
    assert b.attendance.automatic


# --- advance ---------------------------------------------------------------------------------


def test_advance_before_the_due_time_does_nothing():
    b = offering(offer(1, 11), due_ms=NOW + 1)
    decisions.advance(b, Outcome(), facts(rules=RULES))
    assert not b.changed


def test_advance_expires_overdue_offers_and_measures_the_lag():
    b, out = offering(offer(1, 11, deadline_ms=NOW - 250), due_ms=NOW - 250), Outcome()
    decisions.advance(b, out, facts(rules=RULES))
    assert [(o.id, o.state) for o in out.closed] == [(1, OfferState.EXPIRED)]
    assert out.lag_s == 0.25 and out.kpis == {11}
    assert b.attendance.state is AttendanceState.AWAITING_DISPATCH


# --- operator offers and verbal ----------------------------------------------------------------


def test_an_operators_link_offer_carries_its_secret_and_stores_only_its_hash():
    b, out = book(), Outcome()
    made = decisions.offer(b, out, facts(rules=RULES), 11, Channel.LINK, "user:1")
    assert out.made == [(made, "s" * 32)]
    stored_hash = b.change().made[made.id]
    assert stored_hash is not None and "s" * 32 not in stored_hash
    assert (b.attendance.state, b.attendance.due_ms) == (AttendanceState.OFFERING, made.deadline_ms)


def test_an_offer_over_the_plans_cap_is_refused():
    market = Market(prices={11: 30_000})
    with pytest.raises(Conflict) as over:
        decisions.offer(
            book(), Outcome(), facts(market, rules=RULES, cap_cents=20_000), 11, Channel.APP, "u"
        )
    assert over.value.code == "over_value_cap" and "R$ 300.00" in over.value.message


def test_a_verbal_dispatch_is_made_and_accepted_in_one_decision():
    b, out = book(), Outcome()
    won = decisions.verbal(b, out, facts(), 11, 25, "user:1")
    assert (won.state, won.mode, b.attendance.state) == (
        OfferState.ACCEPTED,
        Channel.VERBAL,
        AttendanceState.ASSIGNED,
    )
    assert out.kpis == set()  # acceptance counts answered offers only
    change = b.change()
    assert change.decided == [] and list(change.made) == [won.id]  # inserted as decided


def test_a_verbal_dispatch_of_a_taken_job_is_refused():
    with pytest.raises(Conflict) as taken:
        decisions.verbal(
            book(attendance(state=AttendanceState.EN_ROUTE)), Outcome(), facts(), 11, 25, "u"
        )
    assert taken.value.code == "offer_taken"


# --- steps -----------------------------------------------------------------------------------


def assigned(**changes) -> OfferBook:
    a = attendance(state=AttendanceState.ASSIGNED, provider_id=11, **changes)
    return book(a, [offer(1, 11, OfferState.ACCEPTED), offer(2, 12)])


def test_an_operators_cancel_withdraws_pending_offers_releases_and_tells_the_provider():
    b, out = assigned(), Outcome()
    done = decisions.step(b, out, facts(), Step.CANCEL, "user:1", None, "duplicate call")
    assert (done.state, done.finished_ms) == (AttendanceState.CANCELLED, NOW)
    assert [(o.id, o.reason) for o in out.closed] == [(2, "duplicate call")]
    assert out.released == 11
    assert [(pid, a.state, why) for pid, a, why in out.told] == [
        (11, AttendanceState.CANCELLED, "duplicate call")
    ]


def test_a_providers_own_final_step_is_not_told_back_to_it():
    b, out = book(attendance(state=AttendanceState.IN_SERVICE, provider_id=11)), Outcome()
    decisions.step(b, out, facts(), Step.COMPLETE, "provider:11", 11, "")
    assert out.released == 11 and out.told == []


def test_an_arrival_is_timed_and_counts_for_the_providers_record():
    b, out = assigned(), Outcome()
    moved = decisions.step(b, out, facts(), Step.ARRIVE, "gps", 11, "")
    assert (moved.state, moved.arrived_ms) == (AttendanceState.ON_SITE, NOW)
    assert out.moved and out.kpis == {11}
    assert out.told == [(11, moved, "gps")]  # the app learns what its fixes showed


def test_an_arrival_the_provider_reports_is_not_told_back_to_it():
    b, out = assigned(), Outcome()
    decisions.step(b, out, facts(), Step.ARRIVE, "provider:11", 11, "")
    assert out.told == []


def test_a_replayed_step_changes_nothing_and_an_illegal_one_is_refused():
    b = book(attendance(state=AttendanceState.ON_SITE, provider_id=11))
    assert decisions.step(b, Outcome(), facts(), Step.ARRIVE, "p", 11, "").state is (
        AttendanceState.ON_SITE
    )
    assert not b.changed
    with pytest.raises(Conflict) as illegal:
        decisions.step(b, Outcome(), facts(), Step.DEPART, "p", 11, "")
    assert illegal.value.code == "illegal_transition"


def test_a_provider_cannot_step_anothers_attendance():
    with pytest.raises(Forbidden) as other:
        decisions.step(assigned(), Outcome(), facts(), Step.DEPART, "provider:12", 12, "")
    assert other.value.code == "not_your_attendance"


def test_a_decision_needing_rules_says_so_when_made_without_them():
    with pytest.raises(AssertionError):
        decisions.automatic(book(), Outcome(), facts(), "u")
