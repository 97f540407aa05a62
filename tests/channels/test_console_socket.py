"""/ws/dashboard over real uvicorn: sign in, snapshots, live updates, resuming, limits."""

from __future__ import annotations

import asyncio
import time
from contextlib import asynccontextmanager

import msgspec
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from hub.channels import console_socket
from tests.conftest import engine_settings, serve
from tests.dispatch.scene import Scene, admin_client, scene_on
from tests.shut_window import ShutWindow


class Console:
    def __init__(self, ws) -> None:
        self.ws = ws
        self.seen: list[dict] = []

    async def send(self, frame: dict | str) -> None:
        await self.ws.send(frame if isinstance(frame, str) else msgspec.json.encode(frame).decode())

    async def until(self, predicate, timeout: float = 5.0) -> dict:
        async with asyncio.timeout(timeout):
            while True:
                frame = msgspec.json.decode(await self.ws.recv())
                self.seen.append(frame)
                if predicate(frame):
                    return frame

    async def subscribe(self, topic: str, since: str | None = None) -> dict:
        await self.send(
            {"type": "subscribe", "topic": topic, **({"since": since} if since else {})}
        )
        return await self.until(lambda f: f["type"] == "snapshot" and f["topic"] == topic)


async def handshake_status(scene, host: str) -> int:
    """The status a dashboard handshake gets from a page of ``host`` claiming that Host."""
    reader, writer = await asyncio.open_connection("127.0.0.1", scene.running.port)
    writer.write(
        (
            "GET /ws/dashboard HTTP/1.1\r\n"
            f"Host: {host}\r\nOrigin: http://{host}\r\n"
            "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
        ).encode()
    )
    status = int((await asyncio.wait_for(reader.readline(), 5)).split()[1])
    writer.close()
    return status


@asynccontextmanager
async def console(scene, token: str | None = None, origin: str | None = None):
    url = scene.running.ws.replace("/ws/provider", "/ws/dashboard")
    headers = {"Origin": origin} if origin else None
    async with connect(url, additional_headers=headers, max_size=2**24) as ws:
        client = Console(ws)
        if token is not False:
            admin = token or scene.hub.tokens.admin_token("console", int(time.time()))
            await client.send({"type": "sign_in", "token": admin})
            await client.until(lambda f: f["type"] == "signed_in")
        yield client


@pytest.fixture
async def scene(engine_kind, tmp_path):
    async with scene_on(engine_kind, tmp_path, map_interval_s=0.2) as s:
        yield s


def updates(console, topic):
    return [f for f in console.seen if f["type"] == "update" and f["topic"] == topic]


async def test_panels_see_an_attendance_appear_move_and_leave(scene):
    pid = await scene.provider("Guincho")
    before = await scene.tow()
    async with console(scene) as panel:
        dispatch = await panel.subscribe("dispatch")
        assert [r["attendance_id"] for r in dispatch["rows"]] == [before["id"]]
        tracking = await panel.subscribe("tracking")
        assert tracking["rows"] == []
        started = time.monotonic()
        tow = await scene.tow()
        added = await panel.until(
            lambda f: f["type"] == "update" and f.get("row", {}).get("attendance_id") == tow["id"]
        )
        assert time.monotonic() - started < 1.0  # generous; bench fanout measures it
        assert (added["topic"], added["row"]["state"]) == ("dispatch", "awaiting_dispatch")
        await scene.http.post(
            f"/attendances/{tow['id']}/verbal", json={"provider_id": pid, "eta_min": 20}
        )
        moved = await panel.until(lambda f: f["type"] == "update" and f["topic"] == "tracking")
        assert (moved["row"]["attendance_id"], moved["row"]["provider_name"]) == (
            tow["id"],
            "Guincho",
        )
        assert moved["row"]["promised_ms"] is not None
        gone = [u for u in updates(panel, "dispatch") if u.get("removed") == tow["id"]]
        assert gone and gone[0]["offset"] == moved["offset"]


async def test_one_attendance_topic_streams_its_log(scene):
    tow = await scene.tow()
    async with console(scene) as panel:
        snapshot = await panel.subscribe(f"attendance:{tow['id']}")
        assert [line["action"] for line in snapshot["log"]] == ["create"]
        await scene.http.post(
            f"/attendances/{tow['id']}/steps", json={"step": "cancel", "reason": "desistiu"}
        )
        line = await panel.until(lambda f: f["type"] == "update")
        assert (line["line"]["action"], line["line"]["state"]) == ("cancel", "cancelled")


async def test_a_reconnecting_console_gets_what_it_missed(scene):
    async with console(scene) as panel:
        snapshot = await panel.subscribe("dispatch")
        last = snapshot["offset"]
        first = await scene.tow()
        last = (await panel.until(lambda f: f["type"] == "update"))["offset"]
    missed = [await scene.tow(), await scene.tow()]  # while it was away
    async with console(scene) as panel:
        await panel.send({"type": "subscribe", "topic": "dispatch", "since": last})
        got = [await panel.until(lambda f: f["type"] == "update") for _ in missed]
        assert [u["row"]["attendance_id"] for u in got] == [m["id"] for m in missed]
        assert not [f for f in panel.seen if f["type"] == "snapshot"]
        assert first["id"] not in [u["row"]["attendance_id"] for u in got]
        stale = await panel.subscribe("tracking", since="0-999999999")
        assert stale["resync"] is True and stale["rows"] == []


async def test_the_map_gets_moved_providers_at_most_each_interval(scene):
    pid = await scene.provider("Mapa")
    async with console(scene) as panel:
        await panel.subscribe("map")
        async with scene.app(pid):
            update = await panel.until(lambda f: f["type"] == "update" and f["topic"] == "map")
        point = next(p for p in update["points"] if p[0] == pid)
        assert point[3] in ("online", "stale") and point[4] is True and point[6] == "Mapa"


async def test_bad_input_on_the_stream(scene):
    url = scene.running.ws.replace("/ws/provider", "/ws/dashboard")
    with pytest.raises(InvalidStatus) as refused:  # a page from another origin
        async with connect(url, additional_headers={"Origin": "https://evil.example"}):
            pass
    assert refused.value.response.status_code == 403
    assert await handshake_status(scene, host="evil.example") == 403  # a Host is no proof
    public = {"Origin": scene.hub.settings.public_url}  # HUB_PUBLIC_URL's pages are welcome
    async with connect(url, additional_headers=public) as ws:
        await ws.send('{"type":"ping","id":1}')
    async with console(scene, token=False) as anon:
        await anon.send({"type": "subscribe", "topic": "dispatch"})
        assert (await anon.until(lambda f: f["type"] == "error"))["code"] == "not_authenticated"
        await anon.send("{not json")
        assert (await anon.until(lambda f: f["type"] == "error"))["code"] == "malformed_frame"
        await anon.send({"type": "sign_in", "token": "forged"})
        assert (await anon.until(lambda f: f["type"] == "error"))["code"] == "token_invalid"
        with pytest.raises(ConnectionClosed) as closed:
            await anon.until(lambda f: False)
        assert closed.value.rcvd.code == 4001
    provider_token = await scene.token(await scene.provider("P"))
    async with console(scene, token=False) as provider:
        await provider.send({"type": "sign_in", "token": provider_token})
        assert (await provider.until(lambda f: f["type"] == "error"))["code"] == "token_audience"
        with pytest.raises(ConnectionClosed) as closed:
            await provider.until(lambda f: False)
        assert closed.value.rcvd.code == 4009
    async with console(scene) as panel:
        for frame, code in [
            ({"type": "subscribe", "topic": "everything"}, "unknown_topic"),
            ({"type": "subscribe", "topic": "map:3"}, "unknown_topic"),
            ({"type": "subscribe", "topic": "DROP TABLE"}, "invalid_frame"),
            ({"type": "subscribe"}, "invalid_frame"),
            ({"type": "subscribe", "topic": "dispatch", "x": 1}, "unknown_field"),
            ({"type": "launch"}, "unknown_frame_type"),
            ({"type": "sign_in", "token": "again"}, "already_authenticated"),
        ]:
            await panel.send(frame)
            assert (await panel.until(lambda f: f["type"] == "error"))["code"] == code, frame
        await panel.send({"type": "ping", "id": 3})
        assert (await panel.until(lambda f: f["type"] == "pong"))["id"] == 3


async def test_a_console_that_stops_reading_is_cut_off_alone(engine_kind, tmp_path):
    async with (
        engine_settings(engine_kind, tmp_path, dashboard_queue_bytes=65536) as settings,
        serve(settings) as running,
        admin_client(running) as http,
    ):
        scene = Scene(running, http)
        await scene.setup()
        for _ in range(30):
            await scene.tow()
        subscribers = running.hub.dashboards.topics
        async with console(scene) as reader, console(scene) as stuck:
            await reader.subscribe("dispatch")
            stuck.ws.transport.pause_reading()  # the page froze: nothing is read any more
            await stuck.send({"type": "subscribe", "topic": "dispatch"})
            async with asyncio.timeout(30):
                while len(subscribers.get("dispatch", {})) < 2:
                    await asyncio.sleep(0.01)
                while len(subscribers["dispatch"]) == 2:
                    # each answer is a snapshot of 30 rows the stuck page never reads
                    await stuck.send({"type": "subscribe", "topic": "dispatch"})
                    await asyncio.sleep(0.002)
            assert len(subscribers["dispatch"]) == 1  # only the reader is left
            late = await scene.tow()
            seen = await reader.until(lambda f: f.get("row", {}).get("attendance_id") == late["id"])
            assert seen["topic"] == "dispatch"
            stuck.ws.transport.resume_reading()
            with pytest.raises(ConnectionClosed) as closed:
                await stuck.until(lambda f: False, timeout=15)
            assert closed.value.rcvd is None or closed.value.rcvd.code == 4008


async def test_a_console_whose_window_is_shut_is_dropped_and_unsubscribed(tmp_path, monkeypatch):
    """A console that stops reading is cut off; one that never reads the close frame
    either is dropped once the close has gone unanswered, its subscriptions with it."""
    monkeypatch.setattr(console_socket, "CLOSE_TIMEOUT_S", 0.5)
    async with scene_on("embedded", tmp_path, dashboard_queue_bytes=1024) as scene:
        hub = scene.hub
        token = hub.tokens.admin_token("console", int(time.time()))
        async with ShutWindow.connect(scene.running.port, "/ws/dashboard") as peer:
            peer.send(msgspec.json.encode({"type": "sign_in", "token": token}).decode())
            await peer.read_until(b"signed_in")
            peer.send('{"type":"subscribe","topic":"dispatch"}')
            await peer.read_until(b'"topic":"dispatch"')  # its snapshot
            assert hub.dashboards.topics.get("dispatch")
            with pytest.raises(ConnectionError):  # the window shuts in ~1 s here
                await peer.flood('{"type":"ping","id":1}', within_s=8)
        assert not hub.dashboards.topics.get("dispatch")


async def test_a_quiet_console_gets_keepalive_frames(tmp_path):
    async with (
        scene_on("embedded", tmp_path, console_keepalive_s=0.2) as quiet,
        console(quiet) as panel,
    ):
        started = time.monotonic()
        first = await panel.until(lambda f: f["type"] == "keepalive", timeout=2)
        await panel.until(lambda f: f["type"] == "keepalive", timeout=2)
        assert time.monotonic() - started < 1.5
        assert abs(first["server_time"] - time.time() * 1000) < 5000
