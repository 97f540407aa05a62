"""Dispatch records, one contract for SQLite and PostgreSQL: offers, one winner, due times,
KPIs, notifications."""

from __future__ import annotations

import msgspec
import pytest

from hub.dispatch.book import NewOffer, OfferBook
from hub.dispatch.offers import OfferState
from hub.dispatch.records import Notification, Stale
from hub.errors import Conflict
from hub.operations.attendances import AttendanceState, Kind, NewAttendance, Place
from hub.operations.beneficiaries import Address, NewBeneficiary, NewPlan
from hub.operations.clients import NewClient
from hub.operations.events import EventType, NewEvent
from hub.operations.providers import Channel, NewProvider

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


async def book_of(held, ids=0):
    """A book on the locked attendance, with ``ids`` fresh offer ids."""
    return OfferBook(held.snapshot, await held.offer_ids(ids) if ids else ())


async def test_offers_are_made_and_decided_once(records):
    a = await attendance(records)
    p1, p2 = await providers(records, 2)
    async with records.dispatch.locked(a.id) as held:
        book = await book_of(held, 2)
        first = book.add_offer(offer_to(p1.id), NOW)
        second = book.add_offer(offer_to(p2.id, link_hash="h" * 64), NOW)
        book.save(msgspec.structs.replace(book.attendance, state=AttendanceState.OFFERING))
        book.log("offer", "system", "two", NOW)
        offsets = await held.commit(book.change())
    assert len(offsets) == 1 and offsets[0] > 0
    assert [o.id for o in await records.dispatch.offers_of(a.id)] == [first.id, second.id]
    assert [o.id for o in await records.dispatch.pending_of(p2.id)] == [second.id]
    assert (await records.dispatch.offer_by_link(second.id, "h" * 64)).id == second.id
    assert await records.dispatch.offer_by_link(second.id, "x" * 64) is None
    assert await records.dispatch.offer_by_link(first.id, "h" * 64) is None
    async with records.dispatch.locked(a.id) as held:
        book = await book_of(held)
        assert book.attendance.state is AttendanceState.OFFERING
        assert [o.state for o in book.offers] == [OfferState.PENDING, OfferState.PENDING]
        too_late = book.decide(first.id, OfferState.ACCEPTED, NOW + 60_000, actor="x")
        assert too_late is None  # at its deadline an accept loses
        won = book.decide(first.id, OfferState.ACCEPTED, NOW + 1, actor="x", eta_min=9)
        assert (won.state, won.eta_min) == (OfferState.ACCEPTED, 9)
        assert book.decide(won.id, OfferState.REFUSED, NOW + 2, actor="x") is None
        await held.commit(book.change())
    stored = await records.dispatch.offer(first.id)
    assert (stored.state, stored.decided_ms, stored.decided_by) == (
        OfferState.ACCEPTED,
        NOW + 1,
        "x",
    )


async def test_the_store_refuses_a_second_winner(records):
    a = await attendance(records)
    p1, p2 = await providers(records, 2)
    async with records.dispatch.locked(a.id) as held:
        book = await book_of(held, 2)
        one = book.add_offer(offer_to(p1.id), NOW)
        two = book.add_offer(offer_to(p2.id), NOW)
        book.decide(one.id, OfferState.ACCEPTED, NOW, actor="x", eta_min=5)
        await held.commit(book.change())

    async def second_accept():
        async with records.dispatch.locked(a.id) as held:
            book = await book_of(held)  # nothing above the store stops this one
            book.decide(two.id, OfferState.ACCEPTED, NOW, actor="y", eta_min=5)
            await held.commit(book.change())

    with pytest.raises(Conflict):  # the partial unique index, whatever the code above it
        await second_accept()
    assert (await records.dispatch.offer(two.id)).state is OfferState.PENDING


async def test_a_locked_block_that_never_commits_or_raises_first_writes_nothing(records):
    a = await attendance(records)
    (p,) = await providers(records, 1)
    async with records.dispatch.locked(a.id) as held:
        book = await book_of(held, 1)
        book.add_offer(offer_to(p.id), NOW)
        book.log("offer", "system", "", NOW)

    async def failing():
        async with records.dispatch.locked(a.id) as held:
            book = await book_of(held, 1)
            book.add_offer(offer_to(p.id), NOW)
            raise RuntimeError("the decision failed before its commit")

    with pytest.raises(RuntimeError):
        await failing()
    assert await records.dispatch.offers_of(a.id) == []
    assert (await records.dispatch.snapshot(a.id)).version == 0


async def test_due_engaged_and_kpis(records):
    a = await attendance(records)
    (p,) = await providers(records, 1)
    async with records.dispatch.locked(a.id) as held:
        book = await book_of(held, 2)
        refused = book.add_offer(offer_to(p.id), NOW)
        book.decide(refused.id, OfferState.REFUSED, NOW, actor="p", reason="busy")
        taken = book.add_offer(offer_to(p.id), NOW)
        book.decide(taken.id, OfferState.ACCEPTED, NOW, actor="p", eta_min=10)
        book.save(
            msgspec.structs.replace(
                book.attendance,
                state=AttendanceState.ASSIGNED,
                provider_id=p.id,
                promised_ms=NOW + 600_000,
                due_ms=NOW + 5,
            )
        )
        await held.commit(book.change())
    assert await records.dispatch.due(NOW + 4) == []
    assert await records.dispatch.due(NOW + 5) == [a.id]
    assert await records.dispatch.engaged() == {p.id: a.id}
    async with records.dispatch.locked(a.id) as held:
        book = await book_of(held)
        book.save(
            msgspec.structs.replace(
                book.attendance, state=AttendanceState.ON_SITE, arrived_ms=NOW + 700_000
            )
        )
        await held.commit(book.change())
    kpis = (await records.dispatch.kpis(NOW + 1_000_000))[p.id]
    assert (kpis.decided, kpis.accepted, kpis.arrivals, kpis.on_time) == (2, 1, 1, 0)
    assert (kpis.acceptance_pct(), kpis.on_time_pct()) == (50.0, 0.0)
    assert await records.dispatch.kpis(NOW, provider_id=p.id + 1) == {}


async def test_locked_unknown_is_none_and_notifications_round_trip(records):
    async with records.dispatch.locked(424242) as held:
        assert held is None
    note = Notification(
        at_ms=NOW, channel="sms", recipient="+5511", subject="", body="b", outcome="outbox"
    )
    first = await records.dispatch.notify(note)
    await records.dispatch.notify(msgspec.structs.replace(note, body="c"))
    found = await records.dispatch.notifications(after_id=first)
    assert [n.body for n in found] == ["c"]


async def test_offer_ids_are_never_given_twice(records):
    first = await records.dispatch.offer_ids(3)
    second = await records.dispatch.offer_ids(2)
    assert len(set(first + second)) == 5 and min(second) > max(first)


async def test_a_commit_on_a_snapshot_another_decision_overtook_is_stale_and_writes_nothing(
    records,
):
    a = await attendance(records)
    (p,) = await providers(records, 1)
    snapshot = await records.dispatch.snapshot(a.id)
    assert (snapshot.attendance, snapshot.offers, snapshot.version) == (a, [], 0)
    first = OfferBook(snapshot, await records.dispatch.offer_ids(1))
    second = OfferBook(snapshot, await records.dispatch.offer_ids(1))
    made = first.add_offer(offer_to(p.id, link_hash="f" * 64), NOW)
    first.save(msgspec.structs.replace(first.attendance, state=AttendanceState.OFFERING))
    first.log("offer", "first", "", NOW)
    change = first.change()
    await records.dispatch.commit(change)
    left = change.after()
    assert left.version == 1 and [o.id for o in left.offers] == [made.id]
    assert await records.dispatch.snapshot(a.id) == left  # as stored, new offer and all
    assert (await records.dispatch.offer_by_link(made.id, "f" * 64)).id == made.id
    second.add_offer(offer_to(p.id), NOW)
    second.log("offer", "second", "", NOW)
    with pytest.raises(Stale):
        await records.dispatch.commit(second.change())
    assert await records.dispatch.snapshot(a.id) == left
    assert [e.actor for e in await records.attendances.log(a.id)] == ["t", "first"]


async def test_an_offer_made_and_decided_in_one_decision_is_stored_decided(records):
    a = await attendance(records)
    (p,) = await providers(records, 1)
    book = OfferBook(await records.dispatch.snapshot(a.id), await records.dispatch.offer_ids(1))
    made = book.add_offer(offer_to(p.id), NOW)  # a verbal dispatch: made, accepted
    book.decide(made.id, OfferState.ACCEPTED, NOW, actor="op", eta_min=7)
    await records.dispatch.commit(book.change())
    stored = await records.dispatch.offer(made.id)
    assert (stored.state, stored.eta_min, stored.decided_by) == (OfferState.ACCEPTED, 7, "op")


async def test_a_conditional_write_that_changes_no_row_undoes_the_whole_decision(records):
    a = await attendance(records)
    (p,) = await providers(records, 1)
    async with records.dispatch.locked(a.id) as held:
        book = await book_of(held, 1)
        offer = book.add_offer(offer_to(p.id), NOW)
        await held.commit(book.change())
    snapshot, logged = await records.dispatch.snapshot(a.id), await records.attendances.log(a.id)
    # changed behind dispatch's back (no decision, so the version stays)
    await records.execute("UPDATE offers SET state = 'withdrawn' WHERE id = ?", offer.id)
    book = OfferBook(snapshot)
    book.decide(offer.id, OfferState.ACCEPTED, NOW + 1, actor="p", eta_min=5)
    book.save(
        msgspec.structs.replace(book.attendance, state=AttendanceState.ASSIGNED, provider_id=p.id)
    )
    book.log("assign", "p", "", NOW + 1)
    with pytest.raises(Conflict):
        await records.dispatch.commit(book.change())
    after = await records.dispatch.snapshot(a.id)
    assert after.version == snapshot.version
    assert after.attendance == snapshot.attendance
    assert await records.attendances.log(a.id) == logged
