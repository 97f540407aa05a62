"""The beneficiary's live page over REST: the link sent at registration, the position
confirmed and taken as the origin, the provider coming, the rating, and every way a link
stops working (revoked, expired, another attendance's, tampered)."""

from __future__ import annotations

import asyncio
import re

import httpx
import msgspec

from hub.clock import now_ms
from hub.operations import track_pages
from tests.dispatch.conftest import scene  # noqa: F401  (the fixture)
from tests.dispatch.scene import TOW

TOKEN = re.compile(r"/console/track\.html#(\d+\.[\w-]+)")


async def page_token(scene, attendance_id: int) -> str:  # noqa: F811
    """The token of the newest SMS carrying the attendance's page (admins see the outbox)."""
    notes = (await scene.http.get("/notifications")).json()["notifications"]
    for note in reversed(notes):
        found = TOKEN.search(note["body"])
        if found and found.group(1).startswith(f"{attendance_id}."):
            return found.group(1)
    raise AssertionError(f"no page link for attendance {attendance_id}")


def public(scene) -> httpx.AsyncClient:  # noqa: F811
    """The beneficiary's browser: no credentials at all."""
    return httpx.AsyncClient(base_url=scene.running.http)


async def test_an_assistance_sends_the_requester_its_page_and_the_page_shows_the_request(
    scene,  # noqa: F811
):
    tow = await scene.tow()
    notes = (await scene.http.get("/notifications")).json()["notifications"]
    sms = next(n for n in notes if TOKEN.search(n["body"]))
    assert (sms["channel"], sms["recipient"], sms["offer_id"]) == ("sms", "11999990000", None)
    assert "Reboque leve" in sms["body"]
    token = await page_token(scene, tow["id"])
    async with public(scene) as browser:
        view = (await browser.get(f"/track/{token}")).json()
        again = (await browser.get(f"/track/{token}")).json()
    assert view == again  # opening it changes nothing
    assert (view["service"], view["state"], view["origin"]["street"]) == (
        "light_tow",
        "awaiting_dispatch",
        "Avenida Paulista",
    )
    assert [s["step"] for s in view["steps"]] == ["registered"]
    assert view["can_confirm"] and not view["can_rate"] and view["helper"] is None
    silent = await scene.http.post(
        f"/events/{scene.event_id}/attendances", json={**TOW, "track_page": False}
    )
    theft = await scene.http.post(
        f"/events/{scene.event_id}/attendances",
        json={
            "kind": "theft",
            "requester_name": "Ana",
            "requester_phone": "11999990000",
            "police_report": "BO 1",
        },
    )
    later = (await scene.http.get("/notifications")).json()["notifications"]
    linked = {
        TOKEN.search(n["body"]).group(1).split(".")[0] for n in later if TOKEN.search(n["body"])
    }
    assert linked == {str(tow["id"])}  # not the one told not to, nor the theft
    assert (silent.status_code, theft.status_code) == (201, 201)


async def test_the_beneficiary_confirms_a_position_and_the_operator_takes_it(scene):  # noqa: F811
    tow = await scene.tow()
    token = await page_token(scene, tow["id"])
    async with public(scene) as browser:
        confirmed = await browser.post(
            f"/track/{token}/position", json={"lat": -23.5625, "lng": -46.6545}
        )
        assert confirmed.status_code == 200, confirmed.text
        assert 100 < confirmed.json()["confirmed"]["distance_m"] < 300
        for bad in (
            {"lat": 95, "lng": 0},
            {"lat": "x", "lng": 0},
            {"lat": 1},
            {"lat": 1, "lng": 2, "x": 1},
        ):
            refused = await browser.post(f"/track/{token}/position", json=bad)
            assert refused.status_code == 400, bad
    view = await scene.attendance(tow["id"])
    assert view["track_page"]["confirmed"]["lat"] == -23.5625 and view["track_page"]["active"]
    taken = await scene.http.post(f"/attendances/{tow['id']}/track-page/accept-position")
    assert taken.status_code == 200, taken.text
    origin = taken.json()["origin"]
    assert (origin["lat"], origin["lng"], origin["address"]["street"]) == (
        -23.5625,
        -46.6545,
        "Avenida Paulista",
    )
    log = (await scene.attendance(tow["id"]))["log"]
    assert log[-1]["action"] == "origin_confirmed" and log[-1]["facts"]["lat"] == -23.5625
    # the beneficiary's own page never needs the operator's credentials, and the
    # operator's routes refuse the beneficiary's browser
    async with public(scene) as browser:
        assert (await browser.post(f"/attendances/{tow['id']}/track-page")).status_code == 401


async def test_the_provider_coming_the_steps_and_the_rating(scene):  # noqa: F811
    pid = await scene.provider("Carlos Guincheiro")
    tow = await scene.tow()
    token = await page_token(scene, tow["id"])
    async with scene.app(pid, lat=-23.58, lng=-46.67) as app, public(scene) as browser:
        await scene.http.post(
            f"/attendances/{tow['id']}/offers", json={"provider_id": pid, "mode": "app"}
        )
        offer = await app.until(lambda f: f["type"] == "offer")
        await app.send({"type": "accept", "offer_id": offer["offer_id"], "eta_min": 15})
        await app.until(lambda f: f["type"] == "assignment")
        await app.send({"type": "step", "attendance_id": tow["id"], "step": "depart"})
        await app.until(lambda f: f["type"] == "status")
        await app.send(
            {
                "type": "fixes",
                "fixes": [{"seq": 2, "t": now_ms(), "lat": -23.5798, "lng": -46.67, "acc": 5.0}],
            }
        )
        view: dict = {}
        async with asyncio.timeout(10):
            while (view.get("helper_position") or {}).get("lat") != -23.5798:
                await asyncio.sleep(0.2)
                view = (await browser.get(f"/track/{token}")).json()
        assert view["helper"] == {"first_name": "Carlos", "service": "light_tow"}
        assert view["eta_ms"] is not None and view["state"] == "en_route"
        text = msgspec.json.encode(view).decode()
        assert "+5511988880000" not in text and "Guincheiro" not in text  # no phone, no surname
        late = await browser.post(f"/track/{token}/position", json={"lat": -23.5, "lng": -46.6})
        assert (late.status_code, late.json()["error"]["code"]) == (409, "illegal_transition")
        early = await browser.post(f"/track/{token}/rating", json={"stars": 5})
        assert (early.status_code, early.json()["error"]["details"]["step"]) == (409, "rate")
        for step in ("arrive", "complete"):
            await app.send({"type": "step", "attendance_id": tow["id"], "step": step})
            await app.until(lambda f: f["type"] == "status" and f["state"] != "en_route")
        done = (await browser.get(f"/track/{token}")).json()
        assert [s["step"] for s in done["steps"]] == [
            "registered",
            "assigned",
            "en_route",
            "on_site",
            "completed",
        ]
        assert done["can_rate"] and done["helper_position"] is None
        for bad in (
            {"stars": 0},
            {"stars": 6},
            {"stars": "5"},
            {"stars": 5, "comment": "x" * 1001},
        ):
            assert (await browser.post(f"/track/{token}/rating", json=bad)).status_code == 400
        rated = await browser.post(
            f"/track/{token}/rating", json={"stars": 4, "comment": " Ótimo  "}
        )
        assert (rated.json()["rating"], rated.json()["comment"], rated.json()["can_rate"]) == (
            4,
            "Ótimo",
            False,
        )
        replay = await browser.post(f"/track/{token}/rating", json={"stars": 4, "comment": "Ótimo"})
        assert replay.status_code == 200  # the same rating again: answered, not stored twice
        other = await browser.post(f"/track/{token}/rating", json={"stars": 1})
        assert other.status_code == 409
    assert (await scene.attendance(tow["id"]))["track_page"]["rating"] == 4
    # the rating feeds the provider's figures: Acionamento's candidates show it
    query = {"origin": {"lat": -23.5614, "lng": -46.6559}, "service": "light_tow", "mode": "verbal"}
    candidates = (await scene.http.post("/match", json=query)).json()["candidates"]
    assert next(c for c in candidates if c["provider_id"] == pid)["rating"] == 4.0


async def test_a_link_stops_working_when_revoked_replaced_or_expired(scene, monkeypatch):  # noqa: F811
    one, two = await scene.tow(), await scene.tow()
    first, second = await page_token(scene, one["id"]), await page_token(scene, two["id"])
    async with public(scene) as browser:

        async def status(token: str) -> tuple[int, str | None]:
            answer = await browser.get(f"/track/{token}")
            return answer.status_code, answer.json().get("error", {}).get("code")

        secret_of_two = second.split(".", 1)[1]
        for forged in (
            f"{one['id']}.{secret_of_two}",  # another attendance's secret
            first[:-2] + "xx",  # tampered
            "abc.def",
            f"{one['id']}",
            "9" * 20 + "." + "a" * 30,
        ):
            assert await status(forged) == (404, "link_invalid"), forged
        revoked = await scene.http.delete(f"/attendances/{one['id']}/track-page")
        assert revoked.json()["active"] is False
        assert await status(first) == (404, "link_invalid")
        sent = await scene.http.post(f"/attendances/{one['id']}/track-page")
        assert (sent.status_code, sent.json()["phone"]) == (201, "11999990000")
        fresh = await page_token(scene, one["id"])
        assert fresh != first and (await status(fresh))[0] == 200
        assert await status(first) == (404, "link_invalid")  # the old one stays dead
        # the end, and the hours after it
        await scene.http.post(
            f"/attendances/{two['id']}/steps", json={"step": "cancel", "reason": "desistiu"}
        )
        assert (await status(second))[0] == 200  # still shown for a while after the end
        monkeypatch.setattr(track_pages, "KEPT_AFTER_END_MS", 0)
        assert await status(second) == (404, "link_invalid")


async def test_the_stream_sends_the_view_as_server_sent_events(scene):  # noqa: F811
    tow = await scene.tow()
    token = await page_token(scene, tow["id"])
    async with public(scene) as browser:
        async with browser.stream("GET", f"/track/{token}/stream") as events:
            assert events.headers["content-type"].startswith("text/event-stream")
            async for line in events.aiter_lines():
                if line.startswith("data: "):
                    view = msgspec.json.decode(line[len("data: ") :])
                    break
        assert view["state"] == "awaiting_dispatch"
        assert (await browser.get("/track/1.nope/stream")).status_code == 404
