"""Dispatch across real hub processes: one winner across two nodes, a cascade that outlives
a kill -9, and offers that outlive a restart."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import time

import httpx
import pytest

from tests.client import ProviderClient, fixes
from tests.conftest import engine_settings, serve
from tests.dispatch.scene import Scene, admin_client, link_path
from tests.processes import environment, free_port, start, stop

ORIGIN_LAT = -23.5614
FAST_SWEEP = {"HUB_SWEEP_INTERVAL_S": "0.2", "HUB_SWEEP_GRACE_S": "0.2"}


@contextlib.asynccontextmanager
async def two_nodes(tmp_path, rules, **settings):
    """Node A in process (its hub is inspectable), node B a real `hub serve` process."""
    fast = {"sweep_grace_s": 0.2, "sweep_interval_s": 0.2, **settings}
    async with (
        engine_settings("distributed", tmp_path, **fast) as st,
        serve(st) as running,
        admin_client(running) as http,
    ):
        scene = Scene(running, http)
        await scene.setup(rules)
        port = free_port()
        node_b = await start(environment(st, **FAST_SWEEP), port)
        try:
            headers = dict(http.headers)
            async with httpx.AsyncClient(
                base_url=f"http://127.0.0.1:{port}", headers=headers
            ) as http_b:
                yield scene, node_b, http_b, port
        finally:
            if node_b.returncode is None:
                await stop(node_b)


async def test_accepts_racing_across_two_nodes_have_one_winner(tmp_path):
    async with two_nodes(tmp_path, {"offer_deadline_s": 30}) as (scene, _, http_b, port_b):
        await asyncio.sleep(0.3)  # node B follows the registry from now on
        for _ in range(5):
            app_id = await scene.provider("App")
            link_id = await scene.provider("Link")
            verbal_id = await scene.provider("Tel")
            tow = await scene.tow()
            async with scene.app(app_id, url=f"ws://127.0.0.1:{port_b}/ws/provider") as app:
                made = await scene.http.post(  # made on A, pushed to B's session via the bus
                    f"/attendances/{tow['id']}/offers", json={"provider_id": app_id, "mode": "app"}
                )
                offer = await app.until(lambda f: f["type"] == "offer")
                assert offer["offer_id"] == made.json()["id"]
                link = await scene.http.post(
                    f"/attendances/{tow['id']}/offers",
                    json={"provider_id": link_id, "mode": "link"},
                )
                sms = (await scene.http.get("/notifications")).json()["notifications"][-1]
                assert sms["offer_id"] == link.json()["id"]
                path = link_path(sms["body"])

                async def by_link(http, path=path):
                    answer = await http.post(path + "/accept", json={"eta_min": 9})
                    return answer.status_code == 200 or answer.json()["error"]["code"]

                async def by_phone(http, tow=tow, verbal_id=verbal_id):
                    answer = await http.post(
                        f"/attendances/{tow['id']}/verbal",
                        json={"provider_id": verbal_id, "eta_min": 9},
                    )
                    return answer.status_code == 201 or answer.json()["error"]["code"]

                accept = {"type": "accept", "offer_id": offer["offer_id"], "eta_min": 9}
                nodes = (scene.http, http_b)
                results = await asyncio.gather(
                    *(app.send(accept) for _ in range(10)),
                    *(by_link(nodes[i % 2]) for i in range(20)),
                    *(by_phone(nodes[i % 2]) for i in range(20)),
                )
                with contextlib.suppress(TimeoutError):
                    while True:
                        await app.recv(timeout=0.3)
            answers = [r for r in results if r is not None]
            assert {a for a in answers if a is not True} <= {"offer_taken"}
            offers = (await scene.http.get(f"/attendances/{tow['id']}/offers")).json()["offers"]
            winners = [o["provider_id"] for o in offers if o["state"] == "accepted"]
            view = (await scene.attendance(tow["id"]))["attendance"]
            assert winners == [view["provider_id"]]
            assert view["state"] == "assigned"


async def test_a_cascade_continues_on_the_other_node_after_kill_9(tmp_path):
    rules = {"automatic": True, "offer_deadline_s": 2, "max_attempts": 3}
    async with two_nodes(tmp_path, rules) as (scene, node_b, http_b, _):
        near = await scene.provider("Perto", channels=["link"], base=[-23.562, -46.656])
        far = await scene.provider("Longe", channels=["link"], base=[-23.58, -46.656])
        await asyncio.sleep(0.5)  # node B knows the providers and the client
        made = await http_b.post(  # node B starts the cascade: the first offer is B's
            f"/events/{scene.event_id}/attendances",
            json={
                "kind": "assistance",
                "service": "light_tow",
                "requester_name": "Ana",
                "requester_phone": "11999990000",
                "origin": {
                    "address": {"street": "Av. Paulista", "district": "Bela Vista"},
                    "lat": -23.5614,
                    "lng": -46.6559,
                },
                "destination": {
                    "address": {"street": "Rua Augusta"},
                    "lat": -23.556,
                    "lng": -46.66,
                },
            },
        )
        assert made.status_code == 201, made.text
        assert made.json()["state"] == "offering"
        node_b.send_signal(signal.SIGKILL)
        await node_b.wait()
        attendance_id = made.json()["id"]
        async with asyncio.timeout(10):  # deadline 2 s + sweep: node A takes over
            while True:
                offers = (await scene.http.get(f"/attendances/{attendance_id}/offers")).json()
                if len(offers["offers"]) == 2:
                    break
                await asyncio.sleep(0.1)
        first, second = offers["offers"]
        assert (first["provider_id"], first["state"]) == (near, "expired")
        assert (second["provider_id"], second["state"]) == (far, "pending")
        sms = (await scene.http.get("/notifications")).json()["notifications"]
        path = link_path(next(n for n in sms if n["offer_id"] == second["id"])["body"])
        won = await scene.http.post(path + "/accept", json={"eta_min": 12})
        assert won.status_code == 200, won.text
        view = (await scene.attendance(attendance_id))["attendance"]
        assert (view["state"], view["provider_id"], view["due_ms"]) == ("assigned", far, None)


@pytest.mark.parametrize("engine_kind", ["embedded", "distributed"])
async def test_offers_outlive_a_restart(engine_kind, tmp_path):
    async with engine_settings(
        engine_kind, tmp_path, sweep_grace_s=0.2, sweep_interval_s=0.2
    ) as settings:
        async with serve(settings) as running, admin_client(running) as http:
            scene = Scene(running, http)
            await scene.setup({"offer_deadline_s": 3})
            kept, lapsed = await scene.provider("Fica"), await scene.provider("Expira")
            tow_kept, tow_lapsed = await scene.tow(), await scene.tow()
            async with scene.app(kept), scene.app(lapsed):
                for tow, pid in ((tow_kept, kept), (tow_lapsed, lapsed)):
                    made = await http.post(
                        f"/attendances/{tow['id']}/offers", json={"provider_id": pid, "mode": "app"}
                    )
                    assert made.status_code == 201, made.text
        async with serve(settings) as running, admin_client(running) as http:
            scene.running, scene.http = running, http
            async with scene.app(kept) as app:  # reconnecting: the pending offer again
                offers = [f for f in app.seen if f["type"] == "offer"]
                offer = offers[0] if offers else await app.until(lambda f: f["type"] == "offer")
                await app.send({"type": "accept", "offer_id": offer["offer_id"], "eta_min": 7})
                await app.until(lambda f: f["type"] == "assignment")
            async with asyncio.timeout(6):  # the other one's deadline fires after the restart
                while (await scene.attendance(tow_lapsed["id"]))["attendance"]["state"] != (
                    "awaiting_dispatch"
                ):
                    await asyncio.sleep(0.1)
            assert (await scene.attendance(tow_kept["id"]))["attendance"]["state"] == "assigned"


@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGSTOP])
async def test_a_dead_nodes_providers_leave_app_matching_when_its_heartbeat_lapses(tmp_path, how):
    """The app's session is on node B; B is killed (or stopped): node A stops matching the
    provider in app mode once B's heartbeat lapses, not 60 s later when its fixes go
    stale."""
    async with two_nodes(tmp_path, {}) as (scene, node_b, _, port):
        pid = await scene.provider("App", channels=["app"])
        query = {
            "origin": {"lat": ORIGIN_LAT, "lng": -46.63},
            "service": "light_tow",
            "mode": "app",
        }

        async def matched() -> bool:
            found = (await scene.http.post("/match", json=query)).json()["candidates"]
            return pid in [c["provider_id"] for c in found]

        token = await scene.token(pid)
        async with ProviderClient.connect(f"ws://127.0.0.1:{port}/ws/provider", token) as app:
            await app.welcome()
            await app.send({"type": "duty", "on": True})
            await app.send({"type": "fixes", "fixes": fixes(1, 1, lat=ORIGIN_LAT)})
            await app.acked(1)
            async with asyncio.timeout(5):
                while not await matched():
                    await asyncio.sleep(0.1)
            node_b.send_signal(how)
            try:
                async with asyncio.timeout(15):  # a 6 s lapse, then the next 2 s tick
                    while await matched():
                        await asyncio.sleep(0.2)
            finally:
                if how is signal.SIGSTOP:
                    node_b.send_signal(signal.SIGCONT)


async def test_fixes_through_two_nodes_at_once_leave_every_index_at_the_newest(tmp_path):
    """A provider's app on node A and an OsmAnd report with an older device time on node B,
    inside the propagation window: both nodes match it where /live says it is."""
    async with two_nodes(tmp_path, {}) as (scene, _, http_b, _):
        pid = await scene.provider("Dois", channels=["app"])
        key = (await scene.http.get(f"/admin/providers/{pid}")).json()["device_key"]
        token = await scene.token(pid)
        now_s = time.time()
        async with ProviderClient.connect(scene.running.ws, token) as app:
            await app.welcome()
            await app.send({"type": "duty", "on": True})
            newer = {**fixes(1, 1)[0], "t": int(now_s * 1000), "lat": -23.5614, "lng": -46.6559}
            older = {"id": key, "lat": -23.60, "lon": -46.70, "timestamp": int(now_s) - 5}
            await asyncio.gather(
                app.send({"type": "fixes", "fixes": [newer]}),
                http_b.get("/ingest/osmand", params=older),
            )
            await app.acked(1)
            query = {"origin": {"lat": -23.56, "lng": -46.65}, "service": "light_tow"}

            async def where(http: httpx.AsyncClient) -> tuple[float, float] | None:
                found = (await http.post("/match", json=query)).json()["candidates"]
                mine = [c for c in found if c["provider_id"] == pid]
                return (round(mine[0]["lat"], 4), round(mine[0]["lng"], 4)) if mine else None

            await asyncio.sleep(0.5)  # past the propagation window (live_flush_ms 20)
            live = (await scene.http.get(f"/admin/providers/{pid}/live")).json()["position"]
            expected = (round(live["lat"], 4), round(live["lng"], 4))
            assert expected == (-23.5614, -46.6559)
            assert await where(scene.http) == expected
            assert await where(http_b) == expected
