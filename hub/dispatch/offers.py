"""Offers: a job put to one provider, with a deadline. Pure.

    pending -> accepted   (the provider's ETA in minutes; exactly one per attendance)
            -> refused    (a reason from REFUSAL_REASONS)
            -> expired    (its deadline passed)
            -> withdrawn  (the attendance was taken by another offer, or cancelled)

Every other move raises.  ``judge_accept`` is the rule the records store enforces with a
conditional update; it is here too so that every channel answers with the same codes.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import msgspec

from hub.errors import BadRequest, Conflict
from hub.operations.attendances import AttendanceState
from hub.operations.providers import Channel


class OfferState(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    REFUSED = "refused"
    EXPIRED = "expired"
    WITHDRAWN = "withdrawn"


TRANSITIONS: dict[OfferState, frozenset[OfferState]] = {
    OfferState.PENDING: frozenset(
        {OfferState.ACCEPTED, OfferState.REFUSED, OfferState.EXPIRED, OfferState.WITHDRAWN}
    ),
    OfferState.ACCEPTED: frozenset(),
    OfferState.REFUSED: frozenset(),
    OfferState.EXPIRED: frozenset(),
    OfferState.WITHDRAWN: frozenset(),
}

REFUSAL_REASONS: dict[str, str] = {
    "too_far": "Too far away",
    "busy": "Busy with another job",
    "vehicle_unsuitable": "My vehicle cannot do this job",
    "outside_area": "Outside my service area",
    "price": "The price does not pay",
    "no_answer": "Did not answer (recorded by the operator)",
    "other": "Another reason",
}

MAX_ETA_MIN = 24 * 60

EtaMin = Annotated[int, msgspec.Meta(ge=1, le=MAX_ETA_MIN, description="Minutes to arrive.")]
RefusalReason = Annotated[str, msgspec.Meta(max_length=40)]


class Offer(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    attendance_id: int
    provider_id: int
    mode: Channel
    state: OfferState
    created_ms: int
    deadline_ms: int
    decided_ms: int | None = None
    eta_min: int | None = None
    reason: str = ""  # refusal reason, or why it was withdrawn
    radius_km: float  # the cascade's radius when it was made (0: picked by hand)
    created_by: str
    decided_by: str = ""


TAKEN = "taken"  # why an offer is withdrawn when another one won


def moved(offer: Offer, to: OfferState) -> None:
    """Raise unless ``offer`` may move to ``to``."""
    if to not in TRANSITIONS[offer.state]:
        raise Conflict(
            f"offer {offer.id} is {offer.state.value}: it cannot become {to.value}",
            code=offer_code(offer),
        )


def offer_code(offer: Offer) -> str:
    """The error code a late answer to ``offer`` gets."""
    if offer.state is OfferState.WITHDRAWN and offer.reason == TAKEN:
        return "offer_taken"
    return {
        OfferState.ACCEPTED: "offer_taken",
        OfferState.REFUSED: "offer_refused",
        OfferState.EXPIRED: "offer_expired",
        OfferState.WITHDRAWN: "offer_withdrawn",
    }.get(offer.state, "conflict")


def judge_accept(offer: Offer, attendance: AttendanceState, now_ms: int) -> None:
    """Raise with the code the accepting channel must answer unless the accept can win."""
    if offer.state is not OfferState.PENDING:
        moved(offer, OfferState.ACCEPTED)
    if now_ms >= offer.deadline_ms:
        raise Conflict(f"offer {offer.id} expired", code="offer_expired")
    if attendance not in (AttendanceState.OFFERING, AttendanceState.AWAITING_DISPATCH):
        raise Conflict(
            f"attendance {offer.attendance_id} is {attendance.value}", code="offer_taken"
        )


def checked_reason(reason: str) -> str:
    if reason not in REFUSAL_REASONS:
        raise BadRequest(
            f"unknown refusal reason {reason!r}; one of {', '.join(REFUSAL_REASONS)}",
            code="unknown_refusal_reason",
        )
    return reason
