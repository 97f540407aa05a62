"""The lifecycle and offer tables: every legal move, and illegal ones raise."""

from __future__ import annotations

import pytest

from hub.dispatch.lifecycle import FINAL, TRANSITIONS, Step, after, already
from hub.dispatch.offers import (
    Offer,
    OfferState,
    checked_reason,
    judge_accept,
    moved,
    offer_code,
)
from hub.errors import BadRequest, Conflict
from hub.operations.attendances import AttendanceState as S
from hub.operations.providers import Channel


def test_the_happy_path_is_in_the_table():
    state = S.AWAITING_DISPATCH
    for step in (Step.OFFER, Step.ASSIGN, Step.DEPART, Step.ARRIVE, Step.START, Step.COMPLETE):
        state = after(state, step)
    assert state is S.COMPLETED


@pytest.mark.parametrize("state", sorted(FINAL))
@pytest.mark.parametrize("step", list(Step))
def test_nothing_leaves_a_final_state(state, step):
    with pytest.raises(Conflict) as raised:
        after(state, step)
    assert raised.value.code == "illegal_transition"


def test_every_live_state_can_be_cancelled_and_only_those():
    cancellable = {s for (s, step) in TRANSITIONS if step is Step.CANCEL}
    assert cancellable == {
        S.AWAITING_DISPATCH,
        S.OFFERING,
        S.ASSIGNED,
        S.EN_ROUTE,
        S.ON_SITE,
        S.IN_SERVICE,
    }


def test_a_step_already_taken_is_told_apart_from_an_illegal_one():
    assert already(S.ON_SITE, Step.ARRIVE)  # replayed, or the GPS took it first
    assert already(S.CANCELLED, Step.CANCEL)
    assert not already(S.IN_SERVICE, Step.ARRIVE)  # past it: still illegal
    assert not already(S.OFFERING, Step.OFFER)  # a real transition, not a replay
    assert not already(S.EN_ROUTE, Step.ARRIVE)


def test_cannot_complete_before_arriving():
    with pytest.raises(Conflict):
        after(S.EN_ROUTE, Step.COMPLETE)


def offer(state: OfferState, deadline: int = 2_000, reason: str = "") -> Offer:
    return Offer(
        id=7,
        attendance_id=1,
        provider_id=2,
        mode=Channel.APP,
        state=state,
        created_ms=0,
        deadline_ms=deadline,
        radius_km=0,
        created_by="t",
        reason=reason,
    )


@pytest.mark.parametrize("state", [s for s in OfferState if s is not OfferState.PENDING])
def test_a_decided_offer_never_moves_again(state):
    for to in OfferState:
        with pytest.raises(Conflict):
            moved(offer(state), to)


def test_late_answers_get_the_code_that_says_why():
    assert offer_code(offer(OfferState.WITHDRAWN, reason="taken")) == "offer_taken"
    assert offer_code(offer(OfferState.WITHDRAWN, reason="cancelled")) == "offer_withdrawn"
    with pytest.raises(Conflict) as raised:
        judge_accept(offer(OfferState.PENDING, deadline=1_000), S.OFFERING, 1_000)
    assert raised.value.code == "offer_expired"
    with pytest.raises(Conflict) as raised:
        judge_accept(offer(OfferState.PENDING), S.ASSIGNED, 1_000)
    assert raised.value.code == "offer_taken"
    judge_accept(offer(OfferState.PENDING), S.OFFERING, 1_999)  # wins


def test_refusal_reasons_come_from_the_catalogue():
    assert checked_reason("too_far") == "too_far"
    with pytest.raises(BadRequest) as raised:
        checked_reason("meh")
    assert raised.value.code == "unknown_refusal_reason"
