"""Events: why a beneficiary called, holding the attendances of that call. Pure.

An event opens with a type (the reason) and starts the TMA clock (average handling time);
the clock stops when the operator finishes the intake.  An event can be closed and
reopened, always with a reason; every change is appended to the event's log.  The state
machine is the table below: an action not in it for the current state is refused.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import msgspec

from hub.errors import BadRequest, Conflict
from hub.operations.bounds import RecordId


class EventType(StrEnum):
    OUT_OF_FUEL = "out_of_fuel"  # pane seca
    FLAT_TYRE = "flat_tyre"
    ELECTRICAL_FAULT = "electrical_fault"
    MECHANICAL_FAULT = "mechanical_fault"
    BATTERY = "battery"
    COLLISION = "collision"
    THEFT = "theft"
    LOCKED_OUT = "locked_out"
    OTHER = "other"


class EventState(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class EventAction(StrEnum):
    FINISH_INTAKE = "finish_intake"  # stops the TMA clock
    CLOSE = "close"
    REOPEN = "reopen"


TRANSITIONS: dict[tuple[EventState, EventAction], EventState] = {
    (EventState.OPEN, EventAction.FINISH_INTAKE): EventState.OPEN,
    (EventState.OPEN, EventAction.CLOSE): EventState.CLOSED,
    (EventState.CLOSED, EventAction.REOPEN): EventState.OPEN,
}
NEEDS_REASON = {EventAction.CLOSE, EventAction.REOPEN}


class NewEvent(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    beneficiary_id: RecordId
    vehicle_id: RecordId | None = None
    type: EventType
    notes: Annotated[str, msgspec.Meta(max_length=2000)] = ""


class Event(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    client_id: int
    beneficiary_id: int
    vehicle_id: int | None
    type: EventType
    notes: str
    state: EventState
    opened_ms: int
    intake_done_ms: int | None  # when the TMA clock stopped
    opened_by: str


class EventLogEntry(msgspec.Struct, frozen=True, kw_only=True):
    at_ms: int
    actor: str
    action: str  # "open" or an EventAction
    reason: str = ""


class Change(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    reason: Annotated[str, msgspec.Meta(max_length=1000)] = ""


def tma_ms(event: Event, now_ms: int) -> int:
    """Handling time of the intake: running until the intake is finished."""
    end = event.intake_done_ms if event.intake_done_ms is not None else now_ms
    return max(0, end - event.opened_ms)


def apply(event: Event, action: EventAction, reason: str, now_ms: int) -> Event:
    """The event after ``action``; Conflict if the state does not allow it."""
    target = TRANSITIONS.get((event.state, action))
    if target is None:
        raise Conflict(
            f"cannot {action.value} an event that is {event.state.value}",
            code="illegal_transition",
            step=action.value,
            state=event.state.value,
        )
    if action in NEEDS_REASON and not reason.strip():
        raise BadRequest(f"{action.value} needs a reason", problem="required", field="reason")
    if action is EventAction.FINISH_INTAKE:
        if event.intake_done_ms is not None:
            raise Conflict(
                "the intake of this event is already finished",
                code="illegal_transition",
                step=action.value,
                state="intake_done",
            )
        return msgspec.structs.replace(event, intake_done_ms=now_ms)
    return msgspec.structs.replace(event, state=target)
