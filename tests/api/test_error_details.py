"""What a client needs to word an error in its own language: the code, and the details it
carries (hub/errors.py CODES), never only the English message; and the attendance history
with the facts and names to write it as sentences."""

from __future__ import annotations

from hub.errors import CODES
from tests.api.test_attendances import TOW, event  # noqa: F401  (the fixture)
from tests.dispatch.conftest import scene  # noqa: F401  (the fixture)


async def post(http, path, body):
    answer = await http.post(path, json=body)
    return answer.status_code, answer.json()["error"]


async def test_a_bad_field_is_named_with_what_is_wrong(event):  # noqa: F811
    http, path = event, f"/events/{event.event_id}/attendances"
    status, error = await post(http, path, {**TOW, "requester_phone": "1"})
    assert (status, error["code"], error["details"]) == (
        400,
        "bad_request",
        {"field": "requester_phone", "problem": "invalid"},
    )
    missing = {k: v for k, v in TOW.items() if k != "requester_name"}
    _, error = await post(http, path, missing)
    assert error["details"] == {"field": "requester_name", "problem": "required"}
    _, error = await post(http, path, {**TOW, "origin": {"lat": 1, "lng": 2}})
    assert error["details"] == {"field": "origin.address", "problem": "required"}
    _, error = await post(http, path, {**TOW, "requester_name": "   "})
    assert error["details"] == {"field": "requester_name", "problem": "required"}
    numbered = {**TOW["origin"], "address": {"street": "Avenida Nove de Julho, 150"}}
    _, error = await post(http, path, {**TOW, "origin": numbered})
    assert error["details"] == {"field": "street", "problem": "has_number"}
    _, error = await post(http, path, {**TOW, "kind": "question"})
    assert error["details"] == {"field": "kind", "problem": "not_dispatched", "kind": "question"}
    joao = (await http.get(f"/beneficiaries/{event.beneficiary_id}")).json()["beneficiary"]
    bad_cpf = await http.post(
        "/beneficiaries",
        json={"client_id": joao["client_id"], "plan_id": joao["plan_id"], "name": "X", "cpf": "1"},
    )
    assert bad_cpf.json()["error"]["details"] == {"field": "cpf", "problem": "invalid"}
    search = await http.get("/beneficiaries/search?q=ab")
    assert search.json()["error"]["details"] == {
        "field": "q",
        "problem": "too_short",
        "min_length": 3,
    }


async def test_plan_refusals_carry_the_service_and_the_figures(event):  # noqa: F811
    http, path = event, f"/events/{event.event_id}/attendances"
    status, error = await post(http, path, {**TOW, "service": "locksmith", "destination": None})
    assert (status, error["code"], error["details"]) == (
        409,
        "service_not_covered",
        {"service": "locksmith"},
    )
    assert (await http.post(path, json=TOW)).status_code == 201  # the plan's one tow
    status, error = await post(http, path, TOW)
    assert (status, error["code"], error["details"]) == (
        409,
        "service_used_up",
        {"service": "light_tow"},
    )
    await http.post(f"/events/{event.event_id}/close", json={"reason": "resolvido"})
    status, error = await post(http, path, {**TOW, "service": "taxi"})
    assert (status, error["code"]) == (409, "event_closed")
    status, error = await post(http, f"/events/{event.event_id}/close", {"reason": "de novo"})
    assert (status, error["code"], error["details"]) == (
        409,
        "illegal_transition",
        {"step": "close", "state": "closed"},
    )


async def test_dispatch_refusals_carry_the_step_state_and_mode(scene):  # noqa: F811
    pid = await scene.provider("Só Link", channels=["link"])
    tow = await scene.tow()
    base = f"/attendances/{tow['id']}"
    status, error = await post(scene.http, f"{base}/offers", {"provider_id": pid, "mode": "app"})
    assert (status, error["code"], error["details"]) == (
        409,
        "provider_unreachable",
        {"mode": "app"},
    )
    status, error = await post(scene.http, f"{base}/steps", {"step": "complete"})
    assert (status, error["code"], error["details"]) == (
        409,
        "illegal_transition",
        {"step": "complete", "state": "awaiting_dispatch"},
    )
    status, error = await post(scene.http, f"{base}/steps", {"step": "cancel"})
    assert error["details"] == {"field": "reason", "problem": "required"}


async def test_the_history_carries_facts_and_the_names_it_mentions(scene):  # noqa: F811
    pid = await scene.provider("Guincho Paulista", channels=["link"])
    tow = await scene.tow()
    made = await scene.http.post(
        f"/attendances/{tow['id']}/offers", json={"provider_id": pid, "mode": "link"}
    )
    assert made.status_code == 201, made.text
    view = await scene.attendance(tow["id"])
    create, offer = view["log"][0], view["log"][1]
    assert (create["action"], create["facts"]) == ("create", {"state": "awaiting_dispatch"})
    assert (offer["action"], offer["facts"]) == (
        "offer",
        {"offer_id": made.json()["id"], "provider_id": pid, "mode": "link"},
    )
    assert view["names"][f"provider:{pid}"] == "Guincho Paulista"
    assert all(not actor.startswith("user:") or name for actor, name in view["names"].items())


async def test_providers_are_found_by_a_piece_of_the_name(scene):  # noqa: F811
    wanted = await scene.provider("Guincho São Jorge")
    await scene.provider("Chaveiro Central")
    found = (await scene.http.get("/match/providers?q=sao jo")).json()["providers"]
    assert [(p["provider_id"], p["name"]) for p in found] == [(wanted, "Guincho São Jorge")]
    short = await scene.http.get("/match/providers?q=g")
    assert short.json()["error"]["details"]["problem"] == "too_short"


def test_every_detail_a_code_names_is_documented():
    for code, info in CODES.items():
        assert all(key.isidentifier() for key in info.details), code
