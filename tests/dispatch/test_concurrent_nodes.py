"""Three nodes deciding on one attendance at once, on one PostgreSQL: operators' offers made
concurrently from every node, then accepts racing from every node.  Exactly one accept
wins, and no offer is left pending beside it (a decision made again under the lock must
see every offer committed before the lock was granted)."""

from __future__ import annotations

import asyncio

import pytest

from hub.dispatch.offers import OfferState
from hub.dispatch.service import Dispatcher
from hub.errors import HubError
from hub.operations.providers import Channel
from tests.dispatch.scene import scene_on

ROUNDS = 30


def node(hub) -> Dispatcher:
    """Another node's dispatcher: its own memory of snapshots and its own turns, the same
    store (the store decides)."""
    return Dispatcher(
        records=hub.records,
        dispatch=hub.records.dispatch,
        matching=hub.matching,
        delivery=hub.dispatcher.delivery,
        metrics=hub.metrics,
        sweep_grace_s=hub.settings.sweep_grace_s,
    )


async def outcome(work):
    try:
        return await work
    except HubError as exc:
        return exc.code


@pytest.mark.postgres
async def test_concurrent_offers_then_racing_accepts_leave_one_winner_and_nothing_pending(
    tmp_path,
):
    async with scene_on("distributed", tmp_path) as scene:
        hub = scene.hub
        nodes = [hub.dispatcher, node(hub), node(hub)]
        providers = [await scene.provider(f"P{i}") for i in range(3)]
        for _ in range(ROUNDS):
            tow = (await scene.tow())["id"]
            offers = await asyncio.gather(
                *(
                    outcome(n.offer(tow, pid, Channel.LINK, "op"))
                    for n, pid in zip(nodes, providers, strict=True)
                )
            )
            made = [o for o in offers if not isinstance(o, str)]
            assert made, offers
            answers = await asyncio.gather(
                *(
                    outcome(n.accept(o.id, o.provider_id, 15, f"provider:{o.provider_id}"))
                    for n, o in zip(nodes, made, strict=False)
                )
            )
            won = [a for a in answers if not isinstance(a, str)]
            assert len(won) == 1, answers
            stored = await hub.records.dispatch.offers_of(tow)
            states = sorted(o.state.value for o in stored)
            assert states.count(OfferState.ACCEPTED.value) == 1, states
            assert OfferState.PENDING.value not in states, states
            attendance = await hub.records.attendances.get(tow)
            assert attendance.provider_id == won[0].provider_id
