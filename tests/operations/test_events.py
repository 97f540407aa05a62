"""The event state machine: the table is the documentation, and nothing else passes."""

import pytest

from hub.errors import BadRequest, Conflict
from hub.operations.events import (
    TRANSITIONS,
    Event,
    EventAction,
    EventState,
    EventType,
    apply,
    tma_ms,
)


def event(state=EventState.OPEN, intake_done_ms=None) -> Event:
    return Event(
        id=1,
        client_id=1,
        beneficiary_id=1,
        vehicle_id=None,
        type=EventType.OUT_OF_FUEL,
        notes="",
        state=state,
        opened_ms=1000,
        intake_done_ms=intake_done_ms,
        opened_by="user:1",
    )


def test_tma_runs_until_the_intake_is_finished():
    assert tma_ms(event(), 61_000) == 60_000
    done = apply(event(), EventAction.FINISH_INTAKE, "", 31_000)
    assert done.intake_done_ms == 31_000
    assert tma_ms(done, 999_000) == 30_000


def test_close_and_reopen_need_reasons():
    closed = apply(event(), EventAction.CLOSE, "resolvido", 5)
    assert closed.state is EventState.CLOSED
    assert apply(closed, EventAction.REOPEN, "voltou a falhar", 6).state is EventState.OPEN
    with pytest.raises(BadRequest, match="needs a reason"):
        apply(event(), EventAction.CLOSE, "  ", 5)


@pytest.mark.parametrize("state", list(EventState))
@pytest.mark.parametrize("action", list(EventAction))
def test_every_pair_outside_the_table_is_refused(state, action):
    if (state, action) in TRANSITIONS:
        return
    with pytest.raises(Conflict, match=f"cannot {action.value}"):
        apply(event(state=state), action, "reason", 5)


def test_the_intake_finishes_once():
    with pytest.raises(Conflict, match="already finished"):
        apply(event(intake_done_ms=3), EventAction.FINISH_INTAKE, "", 5)
