"""What an automatic dispatch does next, given the offers so far. Pure.

Sequential: one offer at a time; the next when it is refused or expires.  Staggered: a new
offer every ``stagger_s`` while the earlier ones stay open.  When nobody new is eligible
within the radius (a round with no taker), the radius doubles, at most ``widen_rounds``
times; after ``max_attempts`` offers, or with nobody left, the attendance goes back to the
dispatch panel with the reason.  The caller expires overdue offers first and supplies
``find``: the best eligible provider within a radius, not among those already offered.
"""

from __future__ import annotations

from collections.abc import Callable, Collection

import msgspec

from hub.dispatch.offers import Offer, OfferState
from hub.operations.clients import Cascade, DispatchRules
from hub.operations.providers import Channel

MAX_RADIUS_KM = 500.0

# The best eligible provider within a radius (km), not among those given, and the mode
# that reaches it; None when there is nobody.
Find = Callable[[float, Collection[int]], tuple[int, Channel] | None]


class Wait(msgspec.Struct, frozen=True):
    """Nothing to do until ``until_ms`` (a deadline, or the next stagger)."""

    until_ms: int


class MakeOffer(msgspec.Struct, frozen=True):
    provider_id: int
    mode: Channel
    radius_km: float
    deadline_ms: int


class GiveUp(msgspec.Struct, frozen=True):
    """No provider found: the attendance returns to the dispatch panel with ``note`` (its
    ``dispatch_note``: one of NOTES) and ``reason`` (in English, for the log)."""

    note: str
    reason: str


# An attendance's dispatch_note: why it came back to the panel without a provider.
NOT_TAKEN = "not_taken"  # an operator's offer was refused, expired or withdrawn
MAX_ATTEMPTS = "max_attempts"  # the cascade made the client's maximum of offers
NONE_ELIGIBLE = "none_eligible"  # no eligible provider left within the widest radius
NOTES = (NOT_TAKEN, MAX_ATTEMPTS, NONE_ELIGIBLE)


class Done(msgspec.Struct, frozen=True):
    """An offer was accepted."""


Decision = Wait | MakeOffer | GiveUp | Done


def radii(rules: DispatchRules) -> list[float]:
    """The radius of each round: the client's, then doubled ``widen_rounds`` times."""
    return [min(rules.radius_km * 2**n, MAX_RADIUS_KM) for n in range(rules.widen_rounds + 1)]


def decide(rules: DispatchRules, offers: list[Offer], now_ms: int, find: Find) -> Decision:
    if any(o.state is OfferState.ACCEPTED for o in offers):
        return Done()
    pending = [o for o in offers if o.state is OfferState.PENDING]
    wake = [o.deadline_ms for o in pending]
    if pending and rules.cascade is Cascade.SEQUENTIAL:
        return Wait(min(wake))
    if len(offers) >= rules.max_attempts:
        if pending:
            return Wait(min(wake))
        return GiveUp(MAX_ATTEMPTS, f"no taker after {len(offers)} offers (the client's maximum)")
    if pending:
        next_stagger = max(o.created_ms for o in offers) + rules.stagger_s * 1000
        if now_ms < next_stagger:
            return Wait(min([*wake, next_stagger]))
    offered = {o.provider_id for o in offers}
    current = max((o.radius_km for o in offers), default=0.0)
    for radius in radii(rules):
        if radius < current:
            continue  # an earlier round already went this far
        found = find(radius, offered)
        if found is not None:
            provider_id, mode = found
            return MakeOffer(provider_id, mode, radius, now_ms + rules.offer_deadline_s * 1000)
    if pending:
        return Wait(min(wake))
    widest = radii(rules)[-1]
    return GiveUp(NONE_ELIGIBLE, f"no eligible provider left within {widest:g} km")
