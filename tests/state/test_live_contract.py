"""The live-state contract, run against memory and the real Redis."""

import asyncio
import time

import pytest

from hub.presence import Connectivity, LivePosition, Owner, PresenceNote
from hub.state.live import StreamEntry, offset_key
from tests.conftest import redis_live, redis_prefix


def now_ms() -> int:
    return int(time.time() * 1000)


async def test_an_older_position_never_replaces_a_newer_one(live):
    """A replaced session's late flush (another node) must not move the provider back."""
    live.positions.put(LivePosition(3, -23.5, -46.6, 500, now_ms()))
    await live.positions.flush()
    live.positions.put(LivePosition(3, -10.0, -40.0, 400, now_ms()))
    await live.positions.flush()
    assert (await live.positions.get(3)).t_ms == 500


async def test_positions_newest_wins_after_flush(live):
    live.positions.put(LivePosition(1, -23.5, -46.6, 100, now_ms()))
    live.positions.put(LivePosition(1, -23.6, -46.7, 200, now_ms(), 4.0, 10.0, 180.0))
    await live.positions.flush()
    got = await live.positions.get(1)
    assert (got.lat, got.lng, got.t_ms, got.accuracy, got.speed, got.heading) == (
        -23.6,
        -46.7,
        200,
        4.0,
        10.0,
        180.0,
    )
    assert await live.positions.get(2) is None


async def test_positions_flush_on_their_own_tick(live):
    live.positions.put(LivePosition(5, 10.0, 20.0, 1, now_ms()))
    async with asyncio.timeout(2):
        while await live.positions.get(5) is None:
            await asyncio.sleep(0.01)


async def test_moving_across_regions_keeps_one_geo_entry(live):
    """Redis: a provider that crosses a region cell leaves its old GEO set."""
    live.positions.put(LivePosition(9, -23.5, -46.6, 1, now_ms()))
    await live.positions.flush()
    live.positions.put(LivePosition(9, -3.1, -60.0, 2, now_ms()))  # Manaus: another region
    await live.positions.flush()
    if live.name == "redis":
        keys = live.positions.keys
        hits = 0
        async for key in live.client.scan_iter(match=f"{keys.prefix}:geo:*"):
            hits += await live.client.zscore(key, 9) is not None
        assert hits == 1
    assert (await live.positions.get(9)).lat == -3.1


async def test_claim_returns_previous_owner_and_release_is_compare_and_delete(live):
    a, b = Owner("s1", "node-a"), Owner("s2", "node-b")
    assert await live.presence.claim(1, a, now_ms()) is None
    assert await live.presence.claim(1, b, now_ms()) == a
    assert await live.presence.release(1, "s1") is False  # no longer the owner
    assert (await live.presence.view(1, now_ms())).owner == b
    assert await live.presence.release(1, "s2") is True
    assert (await live.presence.view(1, now_ms())).owner is None


async def test_connectivity_online_stale_offline(live):
    await live.presence.heartbeat("node-a", 5)
    assert (await live.presence.view(1, now_ms())).connectivity is Connectivity.OFFLINE
    await live.presence.claim(1, Owner("s1", "node-a"), now_ms())
    assert (await live.presence.view(1, now_ms())).connectivity is Connectivity.STALE
    live.positions.put(LivePosition(1, 1.0, 1.0, 1, now_ms()))
    await live.positions.flush()
    view = await live.presence.view(1, now_ms())
    assert view.connectivity is Connectivity.ONLINE and view.last_fix_ms is not None
    later = now_ms() + 1001  # stale_after_ms is 1000 in the fixture
    assert (await live.presence.view(1, later)).connectivity is Connectivity.STALE


async def test_owner_on_a_dead_node_is_offline(live):
    await live.presence.claim(1, Owner("s1", "ghost"), now_ms())
    live.positions.put(LivePosition(1, 1.0, 1.0, 1, now_ms()))
    await live.positions.flush()
    assert (await live.presence.view(1, now_ms())).connectivity is Connectivity.OFFLINE


async def test_duty_survives_sessions(live):
    assert (await live.presence.view(1, now_ms())).on_duty is False
    await live.presence.set_duty(1, True)
    await live.presence.claim(1, Owner("s", "n"), now_ms())
    await live.presence.release(1, "s")
    assert (await live.presence.view(1, now_ms())).on_duty is True


async def test_bus_delivers_to_listeners_of_the_channel_only(live):
    received: list[bytes] = []
    ready = asyncio.Event()

    async def listen():
        stream = live.bus.listen("node:x")
        ready.set()
        async for message in stream:
            received.append(message)
            if len(received) == 2:
                return

    task = asyncio.create_task(listen())
    await ready.wait()
    async with asyncio.timeout(3):
        while not received:
            await live.bus.publish("node:y", b"not for x")
            await live.bus.publish("node:x", b"one")
            await asyncio.sleep(0.05)
        await live.bus.publish("node:x", b"two")
        await task
    assert received[-1] == b"two" and b"not for x" not in received


async def test_views_of_many_providers_match_single_views(live):
    await live.presence.heartbeat("node-a", 5)
    await live.presence.claim(1, Owner("s1", "node-a"), now_ms())
    await live.presence.set_duty(2, True)
    live.positions.put(LivePosition(1, 1.0, 1.0, 1, now_ms()))
    await live.positions.flush()
    now = now_ms()
    views = await live.presence.views([1, 2, 3], now)
    assert views == {pid: await live.presence.view(pid, now) for pid in (1, 2, 3)}
    assert views[1].connectivity is Connectivity.ONLINE and views[2].on_duty
    many = await live.positions.get_many([1, 2])
    assert list(many) == [1]


async def test_alive_names_the_nodes_whose_heartbeat_has_not_lapsed(live):
    await live.presence.heartbeat("node-a", 5)
    await live.presence.heartbeat("node-b", 0.05)
    assert await live.presence.alive(["node-a", "node-b", "node-c"]) == {"node-a", "node-b"}
    await asyncio.sleep(0.2)
    assert await live.presence.alive(["node-a", "node-b", "node-c"]) == {"node-a"}
    assert await live.presence.alive([]) == set()


async def _first(stream, timeout: float):
    async with asyncio.timeout(timeout):
        return await anext(stream)


async def test_other_nodes_receive_flushed_positions_and_presence_notes(live):
    if live.name == "memory":
        # one node: nobody else moves anyone, and nothing is ever streamed
        live.positions.put(LivePosition(1, 1.0, 1.0, 1, now_ms()))
        with pytest.raises(TimeoutError):
            await _first(live.positions.changes(), 0.1)
        return
    other = redis_live(live.positions.keys.prefix, "other-node", url=live.url)
    await other.start()
    try:
        positions = other.positions.changes()
        notes = other.presence.changes()
        first_position = asyncio.create_task(_first(positions, 3))
        first_note = asyncio.create_task(_first(notes, 3))
        await asyncio.sleep(0.1)  # let the subscriptions start
        live.positions.put(LivePosition(7, -23.5, -46.6, 5, now_ms()))
        await live.presence.note(PresenceNote("test-node", 7, "s7", opened=True))
        batch = await first_position
        assert [(p.provider_id, p.lat) for p in batch] == [(7, -23.5)]
        assert await first_note == PresenceNote("test-node", 7, "s7", opened=True)
        # a node does not hear itself
        own = asyncio.create_task(_first(live.positions.changes(), 0.3))
        await asyncio.sleep(0.1)
        live.positions.put(LivePosition(8, -23.5, -46.6, 5, now_ms()))
        with pytest.raises(TimeoutError):
            await own
    finally:
        await other.close()


async def test_streams_keep_order_and_offsets_to_resume_from(live):
    assert await live.streams.last("s") == "0-0"
    assert await live.streams.after("s", "0-0") == []
    offsets = [await live.streams.append("s", f"m{i}".encode()) for i in range(5)]
    assert sorted(offsets, key=offset_key) == offsets and len(set(offsets)) == 5
    assert await live.streams.last("s") == offsets[-1]
    resumed = await live.streams.after("s", offsets[1])
    assert [e.payload for e in resumed] == [b"m2", b"m3", b"m4"]
    assert [e.offset for e in resumed] == offsets[2:]
    assert await live.streams.after("s", offsets[-1]) == []
    assert await live.streams.after("s", "0-0", limit=2) == [
        StreamEntry(offsets[0], b"m0"),
        StreamEntry(offsets[1], b"m1"),
    ]
    assert await live.streams.after("other", "0-0") == []


async def test_an_offset_whose_followers_were_trimmed_or_never_given_resyncs(live):
    live.streams.kept = 3
    offsets = [await live.streams.append("t", f"m{i}".encode()) for i in range(6)]
    assert [e.payload for e in await live.streams.after("t", offsets[2])] == [b"m3", b"m4", b"m5"]
    assert await live.streams.after("t", offsets[1]) is None  # m2 was trimmed
    assert await live.streams.after("t", "0-0") is None
    assert await live.streams.after("t", "99999999999999-0") is None  # from another stream
    assert await live.streams.after("t", "garbage") is None


async def test_following_a_stream_sees_every_new_entry(live):
    start = await live.streams.last("f")
    seen = []

    async def follow():
        async for entry in live.streams.follow("f", start):
            seen.append(entry.payload)
            if len(seen) == 3:
                return

    follower = asyncio.create_task(follow())
    await asyncio.sleep(0.05)
    for i in range(3):
        await live.streams.append("f", f"x{i}".encode())
    await asyncio.wait_for(follower, 5)
    assert seen == [b"x0", b"x1", b"x2"]


async def test_a_burst_larger_than_the_redis_pool_waits_for_connections():
    async with redis_prefix() as prefix:
        small = redis_live(prefix, "small-pool", pool_size=2)
        await small.start()
        try:  # 200 calls at once on 2 connections: each waits its turn, none fails
            offsets = await asyncio.gather(
                *(small.streams.append("burst", f"m{i}".encode()) for i in range(200))
            )
            assert len(set(offsets)) == 200
            assert len(await small.streams.after("burst", "0-0", limit=500)) == 200
        finally:
            await small.close()
