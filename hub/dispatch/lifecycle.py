"""The attendance lifecycle: one transition table, and who may take each step. Pure.

    awaiting_dispatch -> offering -> assigned -> en_route -> on_site -> in_service -> completed
                     \\______________/
    (a verbal accept assigns straight from awaiting_dispatch; a round with no taker sends
    offering back to awaiting_dispatch)

    any state before completion       -> cancelled        (with a reason, by an operator)
    en_route, on_site                 -> gone_on_arrival  (nobody at the origin)
    en_route, on_site, in_service     -> unsuccessful     (the job could not be done)

The table below *is* the documentation: a step not in it for the current state raises.
"""

from __future__ import annotations

from enum import StrEnum

from hub.errors import Conflict, FrameError
from hub.operations.attendances import AttendanceState as S

GPS = "gps"  # the actor of an arrival the hub detected in the provider's fixes


class Step(StrEnum):
    OFFER = "offer"  # the first offer went out
    NO_TAKER = "no_taker"  # every offer refused or expired: back to the panel
    ASSIGN = "assign"  # an offer was accepted
    DEPART = "depart"  # the provider set off
    ARRIVE = "arrive"  # at the origin (declared, or detected from GPS)
    START = "start"  # the service began
    COMPLETE = "complete"
    GONE = "gone"  # gone on arrival
    FAIL = "fail"  # unsuccessful
    CANCEL = "cancel"


_LIVE = (S.AWAITING_DISPATCH, S.OFFERING, S.ASSIGNED, S.EN_ROUTE, S.ON_SITE, S.IN_SERVICE)

TRANSITIONS: dict[tuple[S, Step], S] = {
    (S.AWAITING_DISPATCH, Step.OFFER): S.OFFERING,
    (S.OFFERING, Step.OFFER): S.OFFERING,  # the cascade's next offer
    (S.OFFERING, Step.NO_TAKER): S.AWAITING_DISPATCH,
    (S.AWAITING_DISPATCH, Step.ASSIGN): S.ASSIGNED,  # verbal
    (S.OFFERING, Step.ASSIGN): S.ASSIGNED,
    (S.ASSIGNED, Step.DEPART): S.EN_ROUTE,
    (S.ASSIGNED, Step.ARRIVE): S.ON_SITE,  # the provider forgot to say it set off
    (S.EN_ROUTE, Step.ARRIVE): S.ON_SITE,
    (S.ON_SITE, Step.START): S.IN_SERVICE,
    (S.ON_SITE, Step.COMPLETE): S.COMPLETED,  # a quick job: no separate start
    (S.IN_SERVICE, Step.COMPLETE): S.COMPLETED,
    (S.EN_ROUTE, Step.GONE): S.GONE_ON_ARRIVAL,
    (S.ON_SITE, Step.GONE): S.GONE_ON_ARRIVAL,
    (S.EN_ROUTE, Step.FAIL): S.UNSUCCESSFUL,
    (S.ON_SITE, Step.FAIL): S.UNSUCCESSFUL,
    (S.IN_SERVICE, Step.FAIL): S.UNSUCCESSFUL,
    **{(state, Step.CANCEL): S.CANCELLED for state in _LIVE},
}

_TARGETS = {step: target for (_, step), target in TRANSITIONS.items()}

# Steps the assigned provider reports (app, portal, link); operators may record them too
# (a verbal provider phones them in).  Offer, no_taker and assign belong to dispatch itself.
PROVIDER_STEPS = frozenset(
    {Step.DEPART, Step.ARRIVE, Step.START, Step.COMPLETE, Step.GONE, Step.FAIL}
)
OPERATOR_STEPS = PROVIDER_STEPS | {Step.CANCEL}
NEEDS_REASON = frozenset({Step.CANCEL, Step.GONE, Step.FAIL})

# The provider is busy with the attendance in these states (matching's "engaged").
ENGAGED = frozenset({S.ASSIGNED, S.EN_ROUTE, S.ON_SITE, S.IN_SERVICE})
# Dispatch can still change who gets the job.
DISPATCHABLE = frozenset({S.AWAITING_DISPATCH, S.OFFERING})
FINAL = frozenset({S.COMPLETED, S.CANCELLED, S.GONE_ON_ARRIVAL, S.UNSUCCESSFUL, S.REGISTERED})


def already(state: S, step: Step) -> bool:
    """Whether ``state`` is where ``step`` leads and the step cannot be taken from it: a
    provider's step replayed, or one the GPS took first.  Answered without a change."""
    return (state, step) not in TRANSITIONS and state is _TARGETS.get(step)


def after(state: S, step: Step) -> S:
    """The state after ``step``; Conflict (code ``illegal_transition``) when not allowed."""
    target = TRANSITIONS.get((state, step))
    if target is None:
        raise Conflict(
            f"cannot {step.value} an attendance that is {state.value}",
            code="illegal_transition",
            step=step.value,
            state=state.value,
        )
    return target


def provider_step(name: str) -> Step:
    """A step a provider may report, by name; invalid_frame for any other."""
    try:
        step = Step(name)
    except ValueError:
        step = None
    if step not in PROVIDER_STEPS:
        steps = ", ".join(sorted(s.value for s in PROVIDER_STEPS))
        raise FrameError(f"step must be one of {steps}", code="invalid_frame")
    return step
