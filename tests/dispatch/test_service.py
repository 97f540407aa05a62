"""Decisions on snapshots: one trip when the snapshot is current, made again with the
attendance locked when another node decided first."""

from __future__ import annotations

import pytest

from hub.dispatch.lifecycle import Step
from hub.dispatch.offers import OfferState
from hub.dispatch.service import Dispatcher
from hub.errors import Conflict
from hub.operations.attendances import AttendanceState
from hub.operations.providers import Channel


def decisions(hub, path: str) -> float:
    value = hub.metrics.registry.get_sample_value("hub_dispatch_decisions_total", {"path": path})
    return value or 0.0


async def test_decisions_on_this_nodes_snapshots_commit_in_one_go(scene):
    pid = await scene.provider("Link")
    tow = await scene.tow()
    dispatcher, before = scene.hub.dispatcher, decisions(scene.hub, "snapshot")
    offer = await dispatcher.offer(tow["id"], pid, Channel.LINK, "op")
    won = await dispatcher.accept(offer.id, pid, 20, "p")
    moved = await dispatcher.step(tow["id"], Step.DEPART, "p", provider_id=pid)
    assert (won.state, moved.state) == (OfferState.ACCEPTED, AttendanceState.EN_ROUTE)
    assert decisions(scene.hub, "snapshot") == before + 3
    assert decisions(scene.hub, "again") == 0


async def test_a_decision_another_node_overtook_is_made_again_on_what_is_stored(scene):
    one, two = await scene.provider("Um"), await scene.provider("Dois")
    first, second = await scene.tow(), await scene.tow()
    hub = scene.hub
    here = hub.dispatcher
    elsewhere = Dispatcher(  # another node's memory
        records=hub.records,
        dispatch=hub.records.dispatch,
        matching=hub.matching,
        delivery=here.delivery,
        metrics=hub.metrics,
        sweep_grace_s=hub.settings.sweep_grace_s,
    )
    offers = [
        await here.offer(tow["id"], pid, Channel.LINK, "op")  # here remembers them pending
        for tow, pid in ((first, one), (second, two))
    ]
    for offer in offers:
        await elsewhere.accept(offer.id, offer.provider_id, 20, "p")
    # here's memory says pending, so a refusal looks possible: the store says taken
    with pytest.raises(Conflict) as refused:
        await here.refuse(offers[0].id, one, "busy", "p")
    assert refused.value.code == "offer_taken"
    # here's memory says offering, where setting off is illegal: the store says assigned
    moved = await here.step(second["id"], Step.DEPART, "p", provider_id=two)
    assert moved.state is AttendanceState.EN_ROUTE
    assert decisions(scene.hub, "again") == 1  # the refusal was an answer, not a decision
    stored = await scene.attendance(second["id"])
    assert (stored["attendance"]["state"], stored["attendance"]["provider_id"]) == (
        "en_route",
        two,
    )
    assert [e["action"] for e in stored["log"]][-3:] == ["offer", "assign", "depart"]
    # and here remembers what it read under the lock: the next step takes one trip
    before = decisions(scene.hub, "snapshot")
    await here.step(second["id"], Step.ARRIVE, "p", provider_id=two)
    assert decisions(scene.hub, "snapshot") == before + 1
