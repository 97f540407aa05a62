"""What a client needs to word an error in its own language: the code, and the details it
carries (hub/errors.py CODES), never only the English message; and the attendance history
with the facts and names to write it as sentences."""

from __future__ import annotations

import ast
from pathlib import Path

from hub.errors import CODES
from tests.api.test_attendances import TOW, event  # noqa: F401  (the fixture)
from tests.dispatch.conftest import scene  # noqa: F401  (the fixture)

HUB = Path(__file__).parents[2] / "hub"


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


def codes(node: ast.expr) -> list[str] | None:
    """The codes a ``code=`` argument may be: a literal, or either side of a conditional;
    None when only running it would tell."""
    if isinstance(node, ast.IfExp):
        body, orelse = codes(node.body), codes(node.orelse)
        return None if body is None or orelse is None else body + orelse
    return [node.value] if isinstance(node, ast.Constant) else None


def test_every_detail_an_error_carries_is_declared_for_its_code():
    """The keys an error is raised with are the ones hub/errors.py (and so OpenAPI) says
    its code carries: read from every raise in the source."""
    defaults = {"BadRequest": "bad_request", "Conflict": "conflict", "NotFound": "not_found"}
    undeclared, seen = [], set()
    for path in HUB.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            name = getattr(getattr(node, "func", None), "id", None)
            if not isinstance(node, ast.Call) or name not in defaults:
                continue
            words = {k.arg: k.value for k in node.keywords if k.arg}
            code_node = words.pop("code", None)
            found = codes(code_node) if code_node is not None else [defaults[name]]
            if found is None:  # a code computed at run time carries no details here
                assert not words, (path.name, ast.dump(code_node))
                continue
            for code in found:
                declared = CODES[code].details
                undeclared += [(path.name, code, key) for key in words if key not in declared]
                if words:
                    seen.add(code)
    assert undeclared == []
    assert {"bad_request", "illegal_transition", "over_km_limit", "service_not_covered"} <= seen
