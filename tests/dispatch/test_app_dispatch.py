"""Offers by app over real uvicorn: pushed on the socket, accepted, followed to the end."""

from __future__ import annotations


async def test_an_app_offer_is_accepted_and_followed_to_completion(scene):
    pid = await scene.provider("Guincho")
    tow = await scene.tow()
    async with scene.app(pid) as app:
        made = await scene.http.post(
            f"/attendances/{tow['id']}/offers", json={"provider_id": pid, "mode": "app"}
        )
        assert made.status_code == 201, made.text
        offer = await app.until(lambda f: f["type"] == "offer")
        assert offer["offer_id"] == made.json()["id"]
        assert (offer["district"], offer["service"]) == ("Bela Vista", "light_tow")
        assert "requester_name" not in offer  # who calls comes with the assignment only
        await app.send({"type": "accept", "offer_id": offer["offer_id"], "eta_min": 15})
        assigned = await app.until(lambda f: f["type"] == "assignment")
        assert (assigned["requester_name"], assigned["eta_min"]) == ("Ana", 15)
        view = await scene.attendance(tow["id"])
        assert view["attendance"]["state"] == "assigned"
        assert view["attendance"]["provider_id"] == pid
        for step, state in (
            ("depart", "en_route"),
            ("arrive", "on_site"),
            ("start", "in_service"),
            ("complete", "completed"),
        ):
            await app.send({"type": "step", "attendance_id": tow["id"], "step": step})
            status = await app.until(lambda f: f["type"] in ("status", "error"))
            assert status == {"type": "status", "attendance_id": tow["id"], "state": state}
    done = (await scene.attendance(tow["id"]))["attendance"]
    assert done["state"] == "completed"
    assert done["arrived_ms"] <= done["promised_ms"]
    actions = [e["action"] for e in (await scene.attendance(tow["id"]))["log"]]
    assert actions == ["create", "offer", "assign", "depart", "arrive", "start", "complete"]
