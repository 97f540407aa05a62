"""Execution: arrival from GPS, on time or late, the late risk, KPIs into ranking,
scheduled dispatch, and bad frames on the provider socket."""

from __future__ import annotations

import asyncio
import time

import msgspec
import pytest

from hub.dispatch.punctuality import punctuality
from hub.operations.attendances import Attendance, AttendanceState, Kind, Place
from hub.operations.beneficiaries import Address
from tests.client import now_ms
from tests.dispatch.scene import ORIGIN, scene_on


def job(**changes) -> Attendance:
    base = Attendance(
        id=1,
        event_id=1,
        beneficiary_id=1,
        kind=Kind.ASSISTANCE,
        service="light_tow",
        avulso=False,
        avulso_reason="",
        requester_name="A",
        requester_phone="1",
        notes="",
        at_ms=0,
        scheduled_ms=None,
        origin=Place(address=Address(), lat=-23.5614, lng=-46.6559),
        destination=None,
        police_report="",
        last_seen=None,
        state=AttendanceState.EN_ROUTE,
        created_by="t",
        provider_id=9,
        promised_ms=600_000,
    )
    return msgspec.structs.replace(base, **changes)


def test_on_time_late_and_the_risk_before_arrival():
    far = (-23.70, -46.6559)  # ~15 km away
    at_risk = punctuality(job(), far, 590_000, road_factor=1.3, speed_kmh=40)
    assert at_risk.late_risk and at_risk.verdict is None
    assert at_risk.current_eta_ms > 600_000
    near = punctuality(job(), (-23.562, -46.6559), 100_000, road_factor=1.3, speed_kmh=40)
    assert not near.late_risk
    on_time = punctuality(
        job(state=AttendanceState.ON_SITE, arrived_ms=599_000),
        None,
        0,
        road_factor=1.3,
        speed_kmh=40,
    )
    assert (on_time.verdict, on_time.late_risk, on_time.current_eta_ms) == ("on_time", False, None)
    late = punctuality(
        job(state=AttendanceState.ON_SITE, arrived_ms=600_001),
        None,
        0,
        road_factor=1.3,
        speed_kmh=40,
    )
    assert late.verdict == "late"


@pytest.fixture
async def scene(engine_kind, tmp_path):
    async with scene_on(
        engine_kind, tmp_path, {"offer_deadline_s": 1}, sweep_grace_s=0.2, sweep_interval_s=0.2
    ) as s:
        yield s


async def test_arrival_is_detected_from_gps(scene):
    pid = await scene.provider("GPS")
    tow = await scene.tow()
    # ~4 km from the origin, two minutes ago (driving there now is no speed jump)
    async with scene.app(pid, lat=-23.60, fix_age_ms=120_000) as app:
        made = await scene.http.post(
            f"/attendances/{tow['id']}/offers", json={"provider_id": pid, "mode": "app"}
        )
        offer = await app.until(lambda f: f["type"] == "offer")
        assert offer["offer_id"] == made.json()["id"]
        await app.send({"type": "accept", "offer_id": offer["offer_id"], "eta_min": 20})
        await app.until(lambda f: f["type"] == "assignment")
        await app.send({"type": "step", "attendance_id": tow["id"], "step": "depart"})
        await app.until(lambda f: f["type"] == "status")
        view = await scene.attendance(tow["id"])
        assert view["punctuality"]["verdict"] is None
        assert view["punctuality"]["current_eta_ms"] is not None
        fix = {
            "seq": 2,
            "t": now_ms(),
            "lat": ORIGIN["lat"] + 0.0005,
            "lng": ORIGIN["lng"],
            "acc": 5.0,
        }
        await app.send({"type": "fixes", "fixes": [fix]})
        await app.acked(2)
        async with asyncio.timeout(5):
            while (await scene.attendance(tow["id"]))["attendance"]["state"] != "on_site":
                await asyncio.sleep(0.05)
        # the provider presses "arrived" after the GPS said so: answered, not an error
        await app.send({"type": "step", "attendance_id": tow["id"], "step": "arrive"})
        status = await app.until(lambda f: f["type"] in ("status", "error"))
        assert (status["type"], status["state"]) == ("status", "on_site")
    view = await scene.attendance(tow["id"])
    assert [e["action"] for e in view["log"]].count("arrive") == 1
    assert view["log"][-1]["action"] == "arrive"
    assert view["log"][-1]["actor"] == "gps"
    assert view["punctuality"]["verdict"] == "on_time"


async def matchable_again(scene, query, pid):
    """The provider's candidate once matching has it free again (within 5 s); otherwise
    fail with why /match/explain says it is not."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 5
    while not (found := (await scene.http.post("/match", json=query)).json()["candidates"]):
        if loop.time() > deadline:
            explain = await scene.http.post("/match/explain", json={**query, "provider_id": pid})
            raise AssertionError(f"provider {pid} is not matchable again: {explain.text}")
        await asyncio.sleep(0.05)
    return found[0]


async def test_refusals_and_expiries_lower_the_acceptance_matching_ranks_by(scene):
    pid = await scene.provider("Recusa")
    query = {"origin": {"lat": ORIGIN["lat"], "lng": ORIGIN["lng"]}, "service": "light_tow"}
    async with scene.app(pid) as app:
        before = (await scene.http.post("/match", json=query)).json()["candidates"][0]
        assert before["acceptance_pct"] == 100.0  # the profile's figure: no history yet
        for reason in ("busy", None):
            tow = await scene.tow()
            await scene.http.post(
                f"/attendances/{tow['id']}/offers", json={"provider_id": pid, "mode": "app"}
            )
            offer = await app.until(lambda f: f["type"] == "offer")
            if reason:
                await app.send({"type": "refuse", "offer_id": offer["offer_id"], "reason": reason})
            await app.until(lambda f: f["type"] == "offer_closed", timeout=5)
        tow = await scene.tow()
        await scene.http.post(
            f"/attendances/{tow['id']}/offers", json={"provider_id": pid, "mode": "app"}
        )
        offer = await app.until(lambda f: f["type"] == "offer")
        await app.send({"type": "accept", "offer_id": offer["offer_id"], "eta_min": 5})
        await app.until(lambda f: f["type"] == "assignment")
        await app.send({"type": "step", "attendance_id": tow["id"], "step": "arrive"})
        await app.send({"type": "step", "attendance_id": tow["id"], "step": "complete"})
        await app.until(lambda f: f["type"] == "status" and f["state"] == "completed")
        after = await matchable_again(scene, query, pid)
    assert after["acceptance_pct"] == pytest.approx(33.3)  # 1 of 3; expired counts as refused
    assert after["on_time_pct"] == 100.0
    assert after["score"] > before["score"]  # lower ranks first


async def test_a_scheduled_attendance_is_dispatched_its_lead_time_before(scene):
    pid = await scene.provider("Agenda")
    lead_min = 30  # the client's default
    scheduled = int(time.time() * 1000) + lead_min * 60_000 + 1_500
    async with scene.app(pid) as app:
        made = await scene.http.post(
            f"/events/{scene.event_id}/attendances",
            json={
                "kind": "assistance",
                "service": "light_tow",
                "requester_name": "Ana",
                "requester_phone": "11999990000",
                "origin": ORIGIN,
                "destination": ORIGIN,
                "scheduled_ms": scheduled,
            },
        )
        aid = made.json()["id"]
        started = await scene.http.post(f"/attendances/{aid}/auto")
        assert started.json()["state"] == "awaiting_dispatch"
        assert started.json()["due_ms"] == scheduled - lead_min * 60_000
        offer = await app.until(lambda f: f["type"] == "offer", timeout=6)
        assert offer["attendance_id"] == aid
        assert now_ms() >= scheduled - lead_min * 60_000


BAD_FRAMES = [
    ({"type": "accept", "offer_id": 1}, "invalid_frame"),
    ({"type": "accept", "offer_id": 1, "eta_min": 0}, "invalid_frame"),
    ({"type": "accept", "offer_id": "x", "eta_min": 5}, "invalid_frame"),
    ({"type": "accept", "offer_id": 1, "eta_min": 5, "tip": 1}, "unknown_field"),
    ({"type": "refuse", "offer_id": 0}, "invalid_frame"),
    ({"type": "accept", "offer_id": 424242, "eta_min": 5}, "offer_unknown"),
    ({"type": "refuse", "offer_id": 424242, "reason": "busy"}, "offer_unknown"),
    ({"type": "refuse", "offer_id": 1, "reason": "meh"}, "unknown_refusal_reason"),
    ({"type": "step", "attendance_id": 1, "step": "teleport"}, "invalid_frame"),
    ({"type": "step", "attendance_id": 1, "step": "cancel", "reason": "x"}, "invalid_frame"),
    ({"type": "step", "attendance_id": 424242, "step": "depart"}, "not_your_attendance"),
]


async def test_bad_offer_and_step_frames_are_refused_and_the_socket_stays(scene):
    pid = await scene.provider("Mal")
    async with scene.app(pid) as app:
        for frame, code in BAD_FRAMES:
            await app.send(frame)
            error = await app.until(lambda f: f["type"] == "error")
            assert error["code"] == code, frame
        await app.send({"type": "ping", "id": 5})
        assert (await app.until(lambda f: f["type"] == "pong"))["id"] == 5
