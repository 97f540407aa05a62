"""Dispatch records, one contract for SQLite and PostgreSQL: offers, one winner, due times,
KPIs, notifications."""

from __future__ import annotations

import msgspec
import pytest

from hub.dispatch.offers import OfferState
from hub.errors import Conflict
from hub.operations.attendances import AttendanceState, Kind, NewAttendance, Place
from hub.operations.beneficiaries import Address, NewBeneficiary, NewPlan
from hub.operations.clients import NewClient
from hub.operations.events import EventType, NewEvent
from hub.operations.providers import Channel, NewProvider
from hub.state.ledger import Ledger, NewOffer, Notification, Stale

NOW = 1_800_000_000_000
SPOT = Place(address=Address(street="Av. Paulista", district="Bela Vista"), lat=-23.56, lng=-46.65)


async def attendance(records):
    client = await records.clients.add(NewClient(name="C"), NOW)
    plan = await records.plans.add(NewPlan(client_id=client.id, name="P", coverage={}))
    ben = await records.beneficiaries.add(
        NewBeneficiary(client_id=client.id, plan_id=plan.id, name="B", cpf="52998224725")
    )
    event = await records.events.open(
        NewEvent(beneficiary_id=ben.id, type=EventType.OTHER), client.id, "t", NOW
    )
    new = NewAttendance(
        kind=Kind.ASSISTANCE,
        service="light_tow",
        requester_name="A",
        requester_phone="11999990000",
        origin=SPOT,
        destination=SPOT,
        at_ms=NOW,
    )
    return await records.attendances.add(event, new, AttendanceState.AWAITING_DISPATCH, "t", NOW)


async def providers(records, count):
    return [
        await records.providers.add(NewProvider(name=f"P{i}", phone="+5511999990000"), f"k{i}", NOW)
        for i in range(count)
    ]


def offer_to(provider_id, deadline=NOW + 60_000, link_hash=None):
    return NewOffer(
        provider_id=provider_id,
        mode=Channel.LINK if link_hash else Channel.APP,
        deadline_ms=deadline,
        radius_km=10.0,
        created_by="system",
        link_hash=link_hash,
    )


async def test_offers_are_made_and_decided_once(records):
    a = await attendance(records)
    p1, p2 = await providers(records, 2)
    async with records.dispatch.locked(a.id) as ledger:
        first = await ledger.add_offer(offer_to(p1.id), NOW)
        second = await ledger.add_offer(offer_to(p2.id, link_hash="h" * 64), NOW)
        await ledger.save(
            msgspec.structs.replace(ledger.attendance, state=AttendanceState.OFFERING)
        )
        await ledger.log("offer", "system", "two", NOW)
    assert [(entry.action, offset > 0) for offset, entry in ledger.logged] == [("offer", True)]
    assert [o.id for o in await records.dispatch.offers_of(a.id)] == [first.id, second.id]
    assert [o.id for o in await records.dispatch.pending_of(p2.id)] == [second.id]
    assert (await records.dispatch.offer_by_link(second.id, "h" * 64)).id == second.id
    assert await records.dispatch.offer_by_link(second.id, "x" * 64) is None
    assert await records.dispatch.offer_by_link(first.id, "h" * 64) is None
    async with records.dispatch.locked(a.id) as ledger:
        assert ledger.attendance.state is AttendanceState.OFFERING
        assert [o.state for o in ledger.offers] == [OfferState.PENDING, OfferState.PENDING]
        too_late = await ledger.decide(
            ledger.offers[0], OfferState.ACCEPTED, NOW + 60_000, actor="x"
        )
        assert too_late is None  # at its deadline an accept loses
        won = await ledger.decide(
            ledger.offers[0], OfferState.ACCEPTED, NOW + 1, actor="x", eta_min=9
        )
        assert (won.state, won.eta_min) == (OfferState.ACCEPTED, 9)
        assert await ledger.decide(won, OfferState.REFUSED, NOW + 2, actor="x") is None
    stored = await records.dispatch.offer(first.id)
    assert (stored.state, stored.decided_ms, stored.decided_by) == (
        OfferState.ACCEPTED,
        NOW + 1,
        "x",
    )


async def test_the_store_refuses_a_second_winner(records):
    a = await attendance(records)
    p1, p2 = await providers(records, 2)
    async with records.dispatch.locked(a.id) as ledger:
        one = await ledger.add_offer(offer_to(p1.id), NOW)
        two = await ledger.add_offer(offer_to(p2.id), NOW)
        await ledger.decide(one, OfferState.ACCEPTED, NOW, actor="x", eta_min=5)
    with pytest.raises(Conflict):  # the partial unique index, whatever the code above it
        async with records.dispatch.locked(a.id) as ledger:
            await ledger.decide(two, OfferState.ACCEPTED, NOW, actor="y", eta_min=5)
    assert (await records.dispatch.offer(two.id)).state is OfferState.PENDING


async def test_due_engaged_and_kpis(records):
    a = await attendance(records)
    (p,) = await providers(records, 1)
    async with records.dispatch.locked(a.id) as ledger:
        refused = await ledger.add_offer(offer_to(p.id), NOW)
        await ledger.decide(refused, OfferState.REFUSED, NOW, actor="p", reason="busy")
        taken = await ledger.add_offer(offer_to(p.id), NOW)
        await ledger.decide(taken, OfferState.ACCEPTED, NOW, actor="p", eta_min=10)
        await ledger.save(
            msgspec.structs.replace(
                ledger.attendance,
                state=AttendanceState.ASSIGNED,
                provider_id=p.id,
                promised_ms=NOW + 600_000,
                due_ms=NOW + 5,
            )
        )
    assert await records.dispatch.due(NOW + 4) == []
    assert await records.dispatch.due(NOW + 5) == [a.id]
    assert await records.dispatch.engaged() == {p.id: a.id}
    async with records.dispatch.locked(a.id) as ledger:
        await ledger.save(
            msgspec.structs.replace(
                ledger.attendance, state=AttendanceState.ON_SITE, arrived_ms=NOW + 700_000
            )
        )
    kpis = (await records.dispatch.kpis(NOW + 1_000_000))[p.id]
    assert (kpis.decided, kpis.accepted, kpis.arrivals, kpis.on_time) == (2, 1, 1, 0)
    assert (kpis.acceptance_pct(), kpis.on_time_pct()) == (50.0, 0.0)
    assert await records.dispatch.kpis(NOW, provider_id=p.id + 1) == {}


async def test_locked_unknown_is_none_and_notifications_round_trip(records):
    async with records.dispatch.locked(424242) as ledger:
        assert ledger is None
    note = Notification(
        at_ms=NOW, channel="sms", recipient="+5511", subject="", body="b", outcome="outbox"
    )
    first = await records.dispatch.notify(note)
    await records.dispatch.notify(msgspec.structs.replace(note, body="c"))
    found = await records.dispatch.notifications(after_id=first)
    assert [n.body for n in found] == ["c"]


async def test_a_commit_on_a_snapshot_another_decision_overtook_is_stale_and_writes_nothing(
    records,
):
    a = await attendance(records)
    (p,) = await providers(records, 1)
    snapshot = await records.dispatch.snapshot(a.id)
    assert (snapshot.attendance, snapshot.offers, snapshot.version) == (a, [], 0)
    first, second = Ledger(records.dispatch, snapshot), Ledger(records.dispatch, snapshot)
    made = await first.add_offer(offer_to(p.id, link_hash="f" * 64), NOW)
    await first.save(msgspec.structs.replace(first.attendance, state=AttendanceState.OFFERING))
    await first.log("offer", "first", "", NOW)
    left = await records.dispatch.commit(first)
    assert left.version == 1 and [o.id for o in left.offers] == [made.id]
    assert await records.dispatch.snapshot(a.id) == left  # as stored, new offer and all
    assert (await records.dispatch.offer_by_link(made.id, "f" * 64)).id == made.id
    await second.add_offer(offer_to(p.id), NOW)
    await second.log("offer", "second", "", NOW)
    with pytest.raises(Stale):
        await records.dispatch.commit(second)
    assert await records.dispatch.snapshot(a.id) == left
    assert [e.actor for e in await records.attendances.log(a.id)] == ["t", "first"]


async def test_an_offer_made_and_decided_in_one_decision_is_stored_decided(records):
    a = await attendance(records)
    (p,) = await providers(records, 1)
    ledger = Ledger(records.dispatch, await records.dispatch.snapshot(a.id))
    made = await ledger.add_offer(offer_to(p.id), NOW)  # a verbal dispatch: made, accepted
    await ledger.decide(made, OfferState.ACCEPTED, NOW, actor="op", eta_min=7)
    await records.dispatch.commit(ledger)
    stored = await records.dispatch.offer(made.id)
    assert (stored.state, stored.eta_min, stored.decided_by) == (OfferState.ACCEPTED, 7, "op")


async def test_a_conditional_write_that_changes_no_row_undoes_the_whole_decision(records):
    a = await attendance(records)
    (p,) = await providers(records, 1)
    async with records.dispatch.locked(a.id) as ledger:
        offer = await ledger.add_offer(offer_to(p.id), NOW)
    snapshot, logged = await records.dispatch.snapshot(a.id), await records.attendances.log(a.id)
    # changed behind dispatch's back (no decision, so the version stays)
    await records.execute("UPDATE offers SET state = 'withdrawn' WHERE id = ?", offer.id)
    ledger = Ledger(records.dispatch, snapshot)
    await ledger.decide(offer, OfferState.ACCEPTED, NOW + 1, actor="p", eta_min=5)
    await ledger.save(
        msgspec.structs.replace(ledger.attendance, state=AttendanceState.ASSIGNED, provider_id=p.id)
    )
    await ledger.log("assign", "p", "", NOW + 1)
    with pytest.raises(Conflict):
        await records.dispatch.commit(ledger)
    after = await records.dispatch.snapshot(a.id)
    assert after.version == snapshot.version
    assert after.attendance == snapshot.attendance
    assert await records.attendances.log(a.id) == logged
