"""The cascade's decisions with an injected clock: sequential, staggered, widening, limits."""

from __future__ import annotations

from hub.dispatch.cascade import Done, GiveUp, MakeOffer, Wait, decide, radii
from hub.dispatch.offers import Offer, OfferState
from hub.operations.clients import Cascade, DispatchRules
from hub.operations.providers import Channel

T0 = 1_000_000


def offer(provider_id: int, state: OfferState, created: int, radius: float = 10.0) -> Offer:
    return Offer(
        id=provider_id,
        attendance_id=1,
        provider_id=provider_id,
        mode=Channel.APP,
        state=state,
        created_ms=created,
        deadline_ms=created + 60_000,
        radius_km=radius,
        created_by="system",
    )


def nearest(within: dict[int, float]):
    """find() over providers at the given distances (km), nearest first."""

    def find(radius_km, offered):
        for pid, km in sorted(within.items(), key=lambda item: item[1]):
            if km <= radius_km and pid not in offered:
                return pid, Channel.APP
        return None

    return find


SEQ = DispatchRules(radius_km=10, offer_deadline_s=60, max_attempts=3, widen_rounds=1)


def test_sequential_offers_one_at_a_time_then_the_next():
    find = nearest({1: 2, 2: 5, 3: 8})
    first = decide(SEQ, [], T0, find)
    assert first == MakeOffer(1, Channel.APP, 10, T0 + 60_000)
    pending = [offer(1, OfferState.PENDING, T0)]
    assert decide(SEQ, pending, T0 + 5_000, find) == Wait(T0 + 60_000)
    refused = [offer(1, OfferState.REFUSED, T0)]
    assert decide(SEQ, refused, T0 + 5_000, find) == MakeOffer(2, Channel.APP, 10, T0 + 65_000)


def test_an_accepted_offer_ends_the_cascade():
    assert decide(SEQ, [offer(1, OfferState.ACCEPTED, T0)], T0, nearest({2: 1})) == Done()


def test_max_attempts_sends_it_back_to_the_panel():
    tried = [offer(p, OfferState.EXPIRED, T0) for p in (1, 2, 3)]
    decision = decide(SEQ, tried, T0 + 200_000, nearest({4: 1}))
    assert isinstance(decision, GiveUp)
    assert "3 offers" in decision.reason


def test_a_round_with_no_taker_widens_the_radius():
    find = nearest({1: 3, 2: 15})
    tried = [offer(1, OfferState.REFUSED, T0, radius=10)]
    assert decide(SEQ, tried, T0 + 1, find) == MakeOffer(2, Channel.APP, 20, T0 + 60_001)
    assert radii(SEQ) == [10, 20]


def test_nobody_left_even_widened_gives_up_with_the_reason():
    tried = [offer(1, OfferState.EXPIRED, T0, radius=20)]
    decision = decide(SEQ, tried, T0 + 70_000, nearest({1: 3, 9: 50}))
    assert decision == GiveUp("none_eligible", "no eligible provider left within 20 km")


def test_widening_never_goes_back_to_a_smaller_radius():
    tried = [offer(1, OfferState.REFUSED, T0, radius=20)]
    # provider 2 is within 10 km, but the cascade already widened to 20: it still finds it
    assert decide(SEQ, tried, T0, nearest({2: 4})) == MakeOffer(2, Channel.APP, 20, T0 + 60_000)


STAG = DispatchRules(
    radius_km=10, offer_deadline_s=60, max_attempts=3, cascade=Cascade.STAGGERED, stagger_s=20
)


def test_staggered_adds_a_candidate_every_stagger_while_earlier_offers_stay_open():
    find = nearest({1: 1, 2: 2, 3: 3, 4: 4})
    one = [offer(1, OfferState.PENDING, T0)]
    assert decide(STAG, one, T0 + 10_000, find) == Wait(T0 + 20_000)
    assert decide(STAG, one, T0 + 20_000, find) == MakeOffer(2, Channel.APP, 10, T0 + 80_000)
    two = [*one, offer(2, OfferState.PENDING, T0 + 20_000)]
    assert decide(STAG, two, T0 + 30_000, find) == Wait(T0 + 40_000)
    three = [*two, offer(3, OfferState.PENDING, T0 + 40_000)]
    # max attempts: no fourth offer, wait for the earliest deadline
    assert decide(STAG, three, T0 + 45_000, find) == Wait(T0 + 60_000)


def test_staggered_waits_for_open_offers_when_nobody_else_is_near():
    one = [offer(1, OfferState.PENDING, T0)]
    assert decide(STAG, one, T0 + 25_000, nearest({1: 1})) == Wait(T0 + 60_000)
