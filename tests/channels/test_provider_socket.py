"""/ws/provider end to end: real uvicorn, real websocket client, both engine pairs."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import jwt
import msgspec
import pytest
from websockets.exceptions import ConnectionClosed

from hub.channels import provider as provider_channel
from hub.errors import Close
from hub.operations import registry
from hub.operations.providers import NewProvider
from hub.presence import Connectivity
from tests.client import ProviderClient, fixes, now_ms
from tests.conftest import RunningHub, engine_settings, serve
from tests.shut_window import ShutWindow


async def counted_close(running: RunningHub, name: str) -> None:
    """Wait (2 s at most) for one close of that name in hub_provider_closes_total."""
    sample = running.hub.metrics.registry.get_sample_value
    async with asyncio.timeout(2):
        while sample("hub_provider_closes_total", {"code": name}) != 1:
            await asyncio.sleep(0.02)


async def new_provider(running, name: str = "Guincho Silva") -> tuple[int, str]:
    hub = running.hub
    provider = await registry.register(hub.records, NewProvider(name=name, phone="+5511999990000"))
    issued = await registry.issue_token(hub.records, hub.tokens, provider.id)
    return provider.id, issued.token


async def wait_for(predicate, timeout: float = 5.0):
    async with asyncio.timeout(timeout):
        while not (result := await predicate()):
            await asyncio.sleep(0.02)
        return result


async def test_stream_batched_fixes_acked_live_and_stored(engine_kind, tmp_path):
    async with engine_settings(engine_kind, tmp_path) as settings, serve(settings) as running:
        pid, token = await new_provider(running)
        async with ProviderClient.connect(running.ws, token) as app:
            welcome = await app.welcome()
            assert welcome["provider_id"] == pid
            assert welcome["limits"]["max_frame_bytes"] == 16 * 1024
            batch = fixes(1, 20)
            await app.send({"type": "fixes", "fixes": batch[:10]})
            await app.send({"type": "fixes", "fixes": batch[10:]})
            await app.acked(20)
            assert await running.hub.records.tracks.count([pid]) == 20
            position = await wait_for(lambda: running.hub.live.positions.get(pid))
            assert (position.lat, position.t_ms) == (batch[-1]["lat"], batch[-1]["t"])
            view = await running.hub.live.presence.view(pid, now_ms())
            assert view.connectivity is Connectivity.ONLINE
            stored = await running.hub.records.tracks.history(pid)
            assert [p.t_ms for p in stored] == [f["t"] for f in batch]
        # the session is released once the socket closes
        await wait_for(
            lambda: _offline(running, pid),
        )


async def _offline(running, pid: int) -> bool:
    view = await running.hub.live.presence.view(pid, now_ms())
    return view.connectivity is Connectivity.OFFLINE


async def test_hello_frame_auth_and_msgpack_session(tmp_path):
    async with engine_settings("embedded", tmp_path) as settings, serve(settings) as running:
        pid, token = await new_provider(running)
        async with ProviderClient.connect(running.ws, token, header=False, binary=True) as app:
            assert (await app.welcome())["provider_id"] == pid
            await app.send({"type": "fix", **fixes(1, 1)[0]})
            await app.acked(1)  # answered in MessagePack, decoded by the client
            await app.send({"type": "duty", "on": True})
            assert await app.until(lambda f: f["type"] == "duty") == {"type": "duty", "on": True}
            assert (await running.hub.live.presence.view(pid, now_ms())).on_duty is True


async def test_frames_before_hello_are_refused_until_it_comes(tmp_path):
    async with engine_settings("embedded", tmp_path) as settings, serve(settings) as running:
        _, token = await new_provider(running)
        async with ProviderClient.connect(running.ws, hello=False) as app:
            await app.send({"type": "fix", **fixes(1, 1)[0]})
            await app.error("not_authenticated")
            await app.send("{not json")
            await app.error("malformed_frame")
            await app.send({"type": "hello", "token": token})
            await app.welcome()


def _forged(pid: int) -> str:
    now = int(time.time())
    claims = {"sub": str(pid), "aud": "hub:provider", "iat": now, "exp": now + 60, "ver": 1}
    return jwt.encode(claims, "not-the-hub-secret-but-long-enough-for-hs256", algorithm="HS256")


@pytest.mark.parametrize(
    ("case", "code", "close"),
    [
        ("missing", "token_missing", Close.AUTH_FAILED),
        ("garbage", "token_invalid", Close.AUTH_FAILED),
        ("forged", "token_invalid", Close.AUTH_FAILED),
        ("expired", "token_expired", Close.AUTH_FAILED),
        ("audience", "token_audience", Close.AUTH_FAILED),
        ("revoked", "token_revoked", Close.TOKEN_REVOKED),
        ("inactive", "provider_inactive", Close.PROVIDER_INACTIVE),
        ("basic", "token_missing", Close.AUTH_FAILED),
    ],
)
async def test_bad_credentials_get_their_code_and_close(tmp_path, case, code, close):
    async with engine_settings("embedded", tmp_path) as settings, serve(settings) as running:
        hub = running.hub
        pid, token = await new_provider(running)
        header = True
        if case == "missing":
            token, header = "", False
        elif case == "garbage":
            token = "abc.def.ghi"
        elif case == "forged":
            token = _forged(pid)
        elif case == "expired":
            token = hub.tokens.provider_token(pid, 1, int(time.time()) - 10**8)
        elif case == "audience":
            token = hub.tokens.admin_token("someone", int(time.time()))
        elif case == "revoked":
            await registry.revoke_tokens(hub.records, pid)
        elif case == "inactive":
            await registry.set_active(hub.records, pid, False)
        if case == "basic":
            from websockets.asyncio.client import connect

            async with connect(running.ws, additional_headers={"Authorization": "Basic x"}) as ws:
                app = ProviderClient(ws, False)
                assert (await app.error(code))["code"] == code
                assert await app.closed() == close
            return
        async with ProviderClient.connect(running.ws, token or None, header=header) as app:
            if case == "missing":
                await app.send({"type": "hello"})
            assert (await app.error(code))["code"] == code
            assert await app.closed() == close


async def test_never_authenticating_is_closed(tmp_path):
    async with (
        engine_settings("embedded", tmp_path, auth_timeout_s=0.3) as settings,
        serve(settings) as running,
        ProviderClient.connect(running.ws, hello=False) as app,
    ):
        assert await app.closed() == Close.AUTH_TIMEOUT
        assert app.seen[-1]["code"] == "not_authenticated"
        await counted_close(running, "auth_timeout")


async def test_bad_input_gets_its_code_keeps_the_socket_and_loses_nothing(engine_kind, tmp_path):
    async with engine_settings(engine_kind, tmp_path) as settings, serve(settings) as running:
        pid, token = await new_provider(running)
        other_pid, other_token = await new_provider(running, "Táxi Souza")
        async with (
            ProviderClient.connect(running.ws, token) as app,
            ProviderClient.connect(running.ws, other_token) as other,
        ):
            await app.welcome()
            await other.welcome()
            good = fixes(1, 5)
            await app.send({"type": "fixes", "fixes": good})
            await app.acked(5)
            now = now_ms()
            cases = [
                ("{oops", "malformed_frame"),
                ('{"type":"teleport"}', "unknown_frame_type"),
                ('{"type":"ping","id":1,"colour":"red"}', "unknown_field"),
                ('{"type":"fix","seq":"6","t":1,"lat":0,"lng":0}', "invalid_frame"),
            ]
            for raw, code in cases:
                await app.send(raw)
                await app.error(code)
            per_fix = [
                ({"lat": 91.0}, "lat_out_of_range"),
                ({"lng": 181.0}, "lng_out_of_range"),
                ({"lat": 88.0}, "lat_beyond_geo_limit"),
                ({"t": now + 10 * 60_000}, "fix_from_future"),
            ]
            seq = 6
            for change, code in per_fix:
                await app.send({"type": "fix", **{**fixes(seq, 1)[0], **change}})
                assert (await app.error(code))["seq"] == seq
                seq += 1
            # NaN cannot be written in JSON; MessagePack carries it to the filter
            nan_fix = {"type": "fix", **fixes(seq, 1)[0], "lat": math.nan}
            await app.send(msgspec.msgpack.encode(nan_fix))
            assert (await app.error("fix_not_finite"))["seq"] == seq
            seq += 1
            # duplicate: acked again, not stored twice
            await app.send({"type": "fix", **good[0]})
            await app.notice("duplicate_seq")
            # out of order: older than the live position
            await app.send({"type": "fix", **fixes(seq, 1, t0=good[0]["t"] - 60_000)[0]})
            assert (await app.notice("fix_out_of_order"))["seq"] == seq
            seq += 1
            # speed jump: ~600 km in a second
            await app.send({"type": "fix", **fixes(seq, 1, t0=now_ms(), lat=-18.0)[0]})
            assert (await app.notice("speed_jump"))["seq"] == seq
            await app.acked(seq)
            await app.alive()
            # the other session was never disturbed
            await other.send({"type": "fixes", "fixes": fixes(1, 3)})
            await other.acked(3)
            assert not [f for f in other.seen if f["type"] == "error"]
        # stored: 5 good + late + jump; the refused and the duplicate are not
        history = await running.hub.records.tracks.history(pid)
        assert sorted(p.flag for p in history) == [0, 0, 0, 0, 0, 1, 2]
        assert await running.hub.records.tracks.count([other_pid]) == 3


async def test_oversize_frame_closes_with_1009(tmp_path):
    async with engine_settings("embedded", tmp_path) as settings, serve(settings) as running:
        _, token = await new_provider(running)
        async with ProviderClient.connect(running.ws, token) as app:
            await app.welcome()
            await app.send({"type": "fixes", "fixes": fixes(1, 200)})  # ~17 KiB of JSON
            assert await app.closed() == Close.FRAME_TOO_LARGE
        await counted_close(running, "frame_too_large")


async def test_flood_is_refused_then_closed_and_dropped_fixes_are_not_acked(tmp_path):
    async with (
        engine_settings(
            "embedded", tmp_path, max_fixes_per_s=1, fix_burst=5, flood_strikes=3
        ) as settings,
        serve(settings) as running,
    ):
        pid, token = await new_provider(running)
        async with ProviderClient.connect(running.ws, token) as app:
            await app.welcome()
            stream = fixes(1, 20)
            await app.send({"type": "fixes", "fixes": stream[:5]})
            await app.acked(5)
            for i in range(3):
                await app.send({"type": "fixes", "fixes": stream[5 + i * 5 : 10 + i * 5]})
            limited = await app.error("rate_limited")
            assert limited["retry_after_s"] > 0
            assert await app.closed() == Close.RATE_LIMITED
            assert max(f["seq"] for f in app.seen if f["type"] == "ack") == 5
        assert await running.hub.records.tracks.count([pid]) == 5


async def test_new_session_takes_over_and_the_old_one_is_closed(tmp_path):
    async with engine_settings("embedded", tmp_path) as settings, serve(settings) as running:
        pid, token = await new_provider(running)
        async with ProviderClient.connect(running.ws, token) as first:
            await first.welcome()
            async with ProviderClient.connect(running.ws, token) as second:
                welcome = await second.welcome()
                await first.error("session_replaced")
                assert await first.closed() == Close.SESSION_REPLACED
                await second.send({"type": "fixes", "fixes": fixes(1, 2)})
                await second.acked(2)
                view = await running.hub.live.presence.view(pid, now_ms())
                assert view.owner.session_id == welcome["session_id"]


async def test_takeover_across_two_nodes_on_redis(tmp_path):
    async with engine_settings("distributed", tmp_path) as settings:
        node_a = msgspec.structs.replace(settings, node_id="node-a")
        node_b = msgspec.structs.replace(settings, node_id="node-b")
        async with serve(node_a) as a, serve(node_b) as b:
            pid, token = await new_provider(a)
            async with ProviderClient.connect(a.ws, token) as on_a:
                await on_a.welcome()
                await on_a.send({"type": "fixes", "fixes": fixes(1, 3)})
                await on_a.acked(3)
                async with ProviderClient.connect(b.ws, token) as on_b:
                    await on_b.welcome()
                    await on_a.error("session_replaced")
                    assert await on_a.closed() == Close.SESSION_REPLACED
                    view = await b.hub.live.presence.view(pid, now_ms())
                    assert view.owner.node == "node-b"
                    # the new session's fixes move the position seen from node A too
                    moved_to = fixes(1, 1, t0=now_ms(), lat=-23.5497)[0]
                    await on_b.send({"type": "fix", **moved_to})
                    await on_b.acked(1)

                    async def moved():
                        position = await a.hub.live.positions.get(pid)
                        return position is not None and position.t_ms == moved_to["t"]

                    try:
                        await wait_for(moved)
                    except TimeoutError:
                        raise AssertionError(
                            f"{await a.hub.live.positions.get(pid)} {moved_to} {on_b.seen}"
                        ) from None


async def test_idle_socket_is_closed(tmp_path):
    async with (
        engine_settings("embedded", tmp_path, idle_timeout_s=0.5) as settings,
        serve(settings) as running,
    ):
        _, token = await new_provider(running)
        async with ProviderClient.connect(running.ws, token) as app:
            await app.welcome()
            assert await app.closed(timeout=5) == Close.IDLE_TIMEOUT
            assert app.seen[-1]["code"] == "idle_timeout"


async def test_acked_fixes_survive_a_restart(engine_kind, tmp_path):
    async with engine_settings(engine_kind, tmp_path) as settings:
        async with serve(settings) as running:
            pid, token = await new_provider(running)
            async with ProviderClient.connect(running.ws, token) as app:
                await app.welcome()
                await app.send({"type": "fixes", "fixes": fixes(1, 50)})
                acked = (await app.acked(50))["seq"]
        async with serve(settings) as restarted:
            assert await restarted.hub.records.tracks.count([pid]) == acked == 50
            # and the provider's tokens still work: the secret is kept in the store
            async with ProviderClient.connect(restarted.ws, token) as app:
                await app.welcome()


async def test_other_frames_bad_and_replayed(tmp_path):
    async with engine_settings("embedded", tmp_path) as settings, serve(settings) as running:
        _, token = await new_provider(running)
        async with ProviderClient.connect(running.ws, token, header=False) as app:
            await app.welcome()
            await app.send({"type": "hello", "token": token})  # replayed
            await app.error("already_authenticated")
            await app.send('{"type":"duty","on":"yes"}')
            await app.error("invalid_frame")
            await app.send('{"type":"duty"}')
            await app.error("invalid_frame")
            await app.send('{"type":"ping","id":-1}')
            await app.error("invalid_frame")
            await app.send('{"type":"fixes","fixes":[]}')
            await app.error("invalid_frame")
            await app.send(b"\x93\x01\x02")  # MessagePack, but an array, not a frame
            await app.error("invalid_frame")
            await app.alive()


async def test_a_ping_flood_is_limited_like_fixes(tmp_path):
    async with (
        engine_settings("embedded", tmp_path, max_fixes_per_s=1, fix_burst=3) as settings,
        serve(settings) as running,
    ):
        _, token = await new_provider(running)
        async with ProviderClient.connect(running.ws, token) as app:
            await app.welcome()
            for i in range(10):
                await app.send({"type": "ping", "id": i})
            await app.error("rate_limited")
            assert await app.closed() == Close.RATE_LIMITED
            assert len([f for f in app.seen if f["type"] == "pong"]) == 3


@asynccontextmanager
async def small_send_queue(tmp_path) -> AsyncIterator[RunningHub]:
    """An embedded hub that cuts a socket off past 1 KiB unsent, pings unlimited."""
    async with (
        engine_settings(
            "embedded", tmp_path, send_queue_bytes=1024, max_fixes_per_s=1e6, fix_burst=10**6
        ) as settings,
        serve(settings) as running,
    ):
        yield running


async def test_a_peer_whose_window_is_shut_is_dropped_and_its_session_released(
    tmp_path, monkeypatch
):
    """A peer that never reads: the kernel buffers fill, then the transport's past the
    cap; the close frame is stuck behind the unread pongs, so once the close has gone
    unanswered the hub drops the connection (uvicorn's own close timer waits 10 s)."""
    monkeypatch.setattr(provider_channel, "CLOSE_TIMEOUT_S", 0.5)
    async with small_send_queue(tmp_path) as running:
        pid, token = await new_provider(running)
        async with ShutWindow.connect(
            running.port, "/ws/provider", {"Authorization": f"Bearer {token}"}
        ) as peer:
            with pytest.raises(ConnectionError):  # the window shuts in ~1 s here
                await peer.flood('{"type":"ping","id":1}', within_s=8)
        closes = running.hub.metrics.registry.get_sample_value(
            "hub_provider_closes_total", {"code": "slow_consumer"}
        )
        assert closes == 1
        await wait_for(lambda: _offline(running, pid))


async def test_a_client_that_stops_reading_is_cut_off(tmp_path):
    async with small_send_queue(tmp_path) as running:
        _, token = await new_provider(running)
        async with (
            ProviderClient.connect(running.ws, token) as app,
            ProviderClient.connect(running.ws, (await new_provider(running, "B"))[1]) as ok,
        ):
            await app.welcome()
            # Pings, never reading the pongs: a burst of them handled in one loop iteration
            # queues more pongs than the cap, and the close frame still gets through.
            ping = msgspec.json.encode({"type": "ping", "id": 1}).decode()

            async def ping_until_closed() -> None:
                async with asyncio.timeout(30):
                    while True:
                        await app.ws.send(ping)

            with pytest.raises(ConnectionClosed) as closed:
                await ping_until_closed()
            assert closed.value.rcvd.code == Close.SLOW_CONSUMER
            # the other session is unaffected
            await ok.welcome()
            await ok.alive()


async def test_a_fix_as_old_as_the_live_position_is_noticed_and_not_stored_twice(tmp_path):
    async with engine_settings("embedded", tmp_path) as settings, serve(settings) as running:
        pid, token = await new_provider(running)
        async with ProviderClient.connect(running.ws, token) as app:
            await app.welcome()
            first = fixes(1, 1)[0]
            await app.send({"type": "fix", **first})
            await app.acked(1)
            await app.send({"type": "fix", **first, "seq": 2, "lat": first["lat"] + 0.001})
            notice = await app.notice("fix_out_of_order")
            assert notice["seq"] == 2
            await app.acked(2)
        history = await running.hub.records.tracks.history(pid)
        assert [(p.t_ms, p.lat) for p in history] == [(first["t"], first["lat"])]
