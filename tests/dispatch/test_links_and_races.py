"""Links (GET never consumes; POST answers), verbal dispatch, and racing accepts."""

from __future__ import annotations

import asyncio
import contextlib

import httpx
import pytest

from tests.dispatch.scene import link_path, scene_on


@pytest.fixture
async def scene(engine_kind, tmp_path):
    async with scene_on(
        engine_kind, tmp_path, {"offer_deadline_s": 2}, sweep_grace_s=0.2, sweep_interval_s=0.2
    ) as s:
        yield s


async def link_offer(scene, tow, pid):
    made = await scene.http.post(
        f"/attendances/{tow['id']}/offers", json={"provider_id": pid, "mode": "link"}
    )
    assert made.status_code == 201, made.text
    sms = (await scene.http.get("/notifications")).json()["notifications"][-1]
    assert (sms["channel"], sms["outcome"], sms["offer_id"]) == ("sms", "outbox", made.json()["id"])
    return made.json(), link_path(sms["body"])


async def test_a_link_is_opened_by_a_scanner_then_accepted_then_steps(scene):
    pid = await scene.provider("Link")
    tow = await scene.tow()
    offer, path = await link_offer(scene, tow, pid)
    async with httpx.AsyncClient(base_url=scene.running.http) as anyone:
        for _ in range(3):  # a mail scanner, a preview, the provider: nothing changes
            seen = await anyone.get(path)
            assert seen.status_code == 200
            assert (seen.json()["state"], seen.json()["assignment"]) == ("pending", None)
        won = await anyone.post(path + "/accept", json={"eta_min": 20})
        assert won.status_code == 200, won.text
        assert won.json()["assignment"]["requester_phone"] == "11999990000"
        again = await anyone.post(path + "/accept", json={"eta_min": 20})  # double POST
        assert again.status_code == 200
        assert again.json()["assignment"] == won.json()["assignment"]
        refuse_after = await anyone.post(path + "/refuse", json={"reason": "busy"})
        assert refuse_after.json()["error"]["code"] == "offer_taken"
        step = await anyone.post(path + "/steps", json={"step": "depart"})
        assert step.json() == {"type": "status", "attendance_id": tow["id"], "state": "en_route"}
        for name in ("arrive", "complete"):
            await anyone.post(path + "/steps", json={"step": name})
        done = (await anyone.get(path)).json()
        assert done["attendance_state"] == "completed"  # the job is over: no one to call
        assert (done["assignment"]["requester_name"], done["assignment"]["requester_phone"]) == (
            "",
            "",
        )
        tampered = path[:-3] + ("aaa" if not path.endswith("aaa") else "bbb")
        assert (await anyone.get(tampered)).json()["error"]["code"] == "link_invalid"
        other = path.replace(f"/links/{offer['id']}.", f"/links/{offer['id'] + 1}.")
        assert (await anyone.get(other)).json()["error"]["code"] == "link_invalid"
        assert (await anyone.get("/links/nonsense")).status_code == 404


async def test_a_refused_link_and_an_expired_link(scene):
    one, two = await scene.provider("Um"), await scene.provider("Dois")
    tow = await scene.tow()
    _, path = await link_offer(scene, tow, one)
    async with httpx.AsyncClient(base_url=scene.running.http) as anyone:
        no = await anyone.post(path + "/refuse", json={"reason": "too_far"})
        assert no.json()["state"] == "refused"
        late = await anyone.post(path + "/accept", json={"eta_min": 5})
        assert (late.status_code, late.json()["error"]["code"]) == (409, "offer_refused")
        bad = await anyone.post(path + "/refuse", json={"reason": "why not"})
        assert bad.json()["error"]["code"] == "unknown_refusal_reason"  # checked first
        _, path2 = await link_offer(scene, tow, two)
        await asyncio.sleep(2.5)
        expired = await anyone.post(path2 + "/accept", json={"eta_min": 5})
        assert (expired.status_code, expired.json()["error"]["code"]) == (410, "offer_expired")
        assert (await anyone.get(path2)).json()["state"] == "expired"


async def test_fifty_accepts_over_socket_link_and_verbal_have_one_winner(scene):
    for _ in range(3):
        app_id, link_id, verbal_id = (
            await scene.provider("App"),
            await scene.provider("Link"),
            await scene.provider("Tel"),
        )
        tow = await scene.tow()
        async with scene.app(app_id) as app:
            made = await scene.http.post(
                f"/attendances/{tow['id']}/offers", json={"provider_id": app_id, "mode": "app"}
            )
            app_offer = made.json()["id"]
            _, path = await link_offer(scene, tow, link_id)
            async with httpx.AsyncClient(base_url=scene.running.http) as anyone:

                async def by_link(path=path):
                    answer = await anyone.post(path + "/accept", json={"eta_min": 9})
                    return "won" if answer.status_code == 200 else answer.json()["error"]["code"]

                async def by_phone(tow=tow, verbal_id=verbal_id):
                    answer = await scene.http.post(
                        f"/attendances/{tow['id']}/verbal",
                        json={"provider_id": verbal_id, "eta_min": 9},
                    )
                    return "won" if answer.status_code == 201 else answer.json()["error"]["code"]

                frame = {"type": "accept", "offer_id": app_offer, "eta_min": 9}
                socket_sends = [app.send(frame) for _ in range(16)]
                results = await asyncio.gather(
                    *socket_sends, *(by_link() for _ in range(17)), *(by_phone() for _ in range(17))
                )
            with contextlib.suppress(TimeoutError):  # read every answer before closing
                while True:
                    await app.recv(timeout=0.3)
        answers = [r for r in results if r is not None]
        view = await scene.attendance(tow["id"])
        winner = view["attendance"]["provider_id"]
        offers = (await scene.http.get(f"/attendances/{tow['id']}/offers")).json()["offers"]
        assert sum(o["state"] == "accepted" for o in offers) == 1
        assert [o["provider_id"] for o in offers if o["state"] == "accepted"] == [winner]
        losers = {a for a in answers if a != "won"}
        assert losers <= {"offer_taken"}, losers
        assert view["attendance"]["state"] == "assigned"


async def test_a_provider_cannot_touch_another_providers_offer_or_attendance(scene):
    mine, theirs = await scene.provider("Eu"), await scene.provider("Outro")
    tow = await scene.tow()
    async with scene.app(mine) as app, scene.app(theirs) as other:
        made = await scene.http.post(
            f"/attendances/{tow['id']}/offers", json={"provider_id": mine, "mode": "app"}
        )
        offer_id = made.json()["id"]
        await other.send({"type": "accept", "offer_id": offer_id, "eta_min": 5})
        assert (await other.until(lambda f: f["type"] == "error"))["code"] == "offer_unknown"
        portal = {"Authorization": f"Bearer {await scene.token(theirs)}"}
        async with httpx.AsyncClient(base_url=scene.running.http, headers=portal) as web:
            stolen = await web.post(f"/portal/offers/{offer_id}/accept", json={"eta_min": 5})
            assert stolen.json()["error"]["code"] == "offer_unknown"
            assert (await web.get("/portal/offers")).json() == {"offers": []}
            await app.send({"type": "accept", "offer_id": offer_id, "eta_min": 5})
            await app.until(lambda f: f["type"] == "assignment")
            moved = await web.post(
                f"/attendances/{tow['id']}/steps".replace("/attendances", "/portal/attendances"),
                json={"step": "depart"},
            )
            assert moved.json()["error"]["code"] == "not_your_attendance"
            assert (await web.get(f"/attendances/{tow['id']}")).status_code == 401
    async with httpx.AsyncClient(base_url=scene.running.http) as nobody:
        refused = await nobody.post(
            f"/attendances/{tow['id']}/offers", json={"provider_id": mine, "mode": "app"}
        )
        assert refused.status_code == 401


async def test_bad_input_on_dispatch_routes(scene):
    pid = await scene.provider("P", channels=["link"])
    tow = await scene.tow()
    base = f"/attendances/{tow['id']}"
    cases = [
        (f"{base}/offers", {"provider_id": pid, "mode": "app"}, 409, "provider_unreachable"),
        (f"{base}/offers", {"provider_id": 0, "mode": "app"}, 400, "bad_request"),
        (f"{base}/offers", {"provider_id": pid, "mode": "fax"}, 400, "bad_request"),
        (f"{base}/offers", {"provider_id": 999, "mode": "link"}, 404, "not_found"),
        ("/attendances/999/offers", {"provider_id": pid, "mode": "link"}, 404, "not_found"),
        (f"{base}/verbal", {"provider_id": pid, "eta_min": 0}, 400, "bad_request"),
        (f"{base}/steps", {"step": "complete"}, 409, "illegal_transition"),
        (f"{base}/steps", {"step": "assign"}, 400, "bad_request"),
        (f"{base}/steps", {"step": "cancel"}, 400, "bad_request"),  # needs a reason
    ]
    for path, body, status, code in cases:
        answer = await scene.http.post(path, json=body)
        assert (answer.status_code, answer.json()["error"]["code"]) == (status, code), path
    cancel = await scene.http.post(f"{base}/steps", json={"step": "cancel", "reason": "desistiu"})
    assert cancel.json()["state"] == "cancelled"
    again = await scene.http.post(f"{base}/verbal", json={"provider_id": pid, "eta_min": 5})
    assert again.json()["error"]["code"] == "illegal_transition"


async def test_a_deactivated_providers_link_cannot_win_and_its_offers_are_withdrawn(scene):
    pid, other = await scene.provider("Link"), await scene.provider("Outro")
    tow, second = await scene.tow(), await scene.tow()
    _, path = await link_offer(scene, tow, pid)
    _, kept = await link_offer(scene, second, other)
    off = await scene.http.patch(f"/admin/providers/{pid}", json={"active": False})
    assert off.status_code == 200
    async with httpx.AsyncClient(base_url=scene.running.http) as anyone:
        for answer in (
            await anyone.get(path),
            await anyone.post(path + "/accept", json={"eta_min": 10}),
            await anyone.post(path + "/refuse", json={"reason": "busy"}),
        ):
            assert answer.status_code == 403, answer.text
            assert answer.json()["error"]["code"] == "provider_inactive"
        assert (await anyone.get(kept)).status_code == 200  # others' links are untouched
    stored = (await scene.attendance(tow["id"]))["attendance"]
    assert (stored["state"], stored["provider_id"]) == ("awaiting_dispatch", None)
    offers = (await scene.http.get(f"/attendances/{tow['id']}/offers")).json()["offers"]
    assert [(o["state"], o["reason"]) for o in offers] == [("withdrawn", "provider_inactive")]


async def test_an_attendances_messages_say_to_whom_when_and_what_became_of_them(scene):
    pid = await scene.provider("P", channels=["link"])
    tow, other = await scene.tow(), await scene.tow()
    made = await scene.http.post(
        f"/attendances/{tow['id']}/offers", json={"provider_id": pid, "mode": "link"}
    )
    assert made.status_code == 201, made.text
    notes = (await scene.http.get(f"/attendances/{tow['id']}/notifications")).json()
    [sms] = notes["notifications"]
    assert (sms["offer_id"], sms["channel"], sms["recipient"], sms["outcome"]) == (
        made.json()["id"],
        "sms",
        "+5511988880000",
        "outbox",
    )
    none = (await scene.http.get(f"/attendances/{other['id']}/notifications")).json()
    assert none["notifications"] == []
