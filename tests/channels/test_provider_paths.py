"""The two ways a provider's frame reaches the hub: taken as the hub's own protocol parses
it, or through the ASGI receive() (other frames, a full writer, another ASGI server).
Either way frames are handled in the order they came and every acked fix is stored."""

from __future__ import annotations

import msgspec
from websockets.frames import Frame, Opcode

from tests.channels.test_provider_socket import new_provider
from tests.client import ProviderClient, fixes
from tests.conftest import engine_settings, serve


def masked(frame: dict) -> bytes:
    """A client's text frame, as it goes on the wire."""
    return Frame(Opcode.TEXT, msgspec.json.encode(frame)).serialize(mask=True, extensions=[])


async def replies(app: ProviderClient, count: int) -> list[dict]:
    """The next ``count`` frames that are not acks."""
    return [await app.until(lambda f: f["type"] != "ack") for _ in range(count)]


async def test_frames_that_arrive_together_are_answered_in_order(tmp_path):
    """A ping queued for the session, then a frame of fixes in the same TCP segment: the
    fixes must not overtake the ping, whose answer comes first."""
    async with engine_settings("embedded", tmp_path) as settings, serve(settings) as running:
        _, token = await new_provider(running)
        async with ProviderClient.connect(running.ws, token) as app:
            await app.welcome()
            await app.alive()  # the session reads: frames are taken as they are parsed
            bad = {**fixes(1, 1)[0], "lat": 91.0}
            app.ws.transport.write(
                masked({"type": "ping", "id": 7}) + masked({"type": "fixes", "fixes": [bad]})
            )
            first, second = await replies(app, 2)
            assert (first["type"], first["id"]) == ("pong", 7)
            assert (second["type"], second["code"]) == ("error", "lat_out_of_range")
            # and the other way round: the fixes are answered before the ping
            bad = {**fixes(2, 1)[0], "lng": 181.0}
            app.ws.transport.write(
                masked({"type": "fixes", "fixes": [bad]}) + masked({"type": "ping", "id": 8})
            )
            first, second = await replies(app, 2)
            assert (first["type"], first["code"]) == ("error", "lng_out_of_range")
            assert (second["type"], second["id"]) == ("pong", 8)


async def test_a_full_writer_holds_frames_back_and_loses_nothing(tmp_path):
    async with (
        engine_settings("embedded", tmp_path, track_queue_max=10) as settings,
        serve(settings) as running,
    ):
        pid, token = await new_provider(running)
        async with ProviderClient.connect(running.ws, token) as app:
            await app.welcome()
            stream = fixes(1, 200, step_s=0.1)
            for start in range(0, 200, 20):
                await app.send({"type": "fixes", "fixes": stream[start : start + 20]})
            await app.acked(200)
        assert await running.hub.records.tracks.count([pid]) == 200


async def test_on_another_asgi_server_fixes_come_through_receive(tmp_path):
    """uvicorn's own websockets-sansio protocol has no listener: the ASGI way alone."""
    async with (
        engine_settings("embedded", tmp_path) as settings,
        serve(settings, ws="websockets-sansio") as running,
    ):
        pid, token = await new_provider(running)
        async with ProviderClient.connect(running.ws, token) as app:
            await app.welcome()
            stream = fixes(1, 40)
            await app.send({"type": "fixes", "fixes": stream[:20]})
            await app.send({"type": "fixes", "fixes": stream[20:]})
            await app.send({"type": "fixes", "fixes": [{**stream[0], "seq": 41, "lat": 91.0}]})
            await app.error("lat_out_of_range")
            await app.acked(41)
        assert await running.hub.records.tracks.count([pid]) == 40
