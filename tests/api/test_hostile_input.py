"""Input that must never reach the store unchecked (both engines): numbers past what the
stores hold, digits that are not ASCII, NUL characters, addresses with no UF or CEP.  Each
is a clear 4xx, never a 500 or a 503 that is not an outage."""

from __future__ import annotations

import pytest

from tests.dispatch.scene import TOW, scene_on

HUGE = 2**63


def arabic(text: str) -> str:
    """The same digits as Arabic-Indic digits (which Python's int() reads)."""
    return "".join(chr(0x0660 + int(c)) if c.isdigit() else c for c in text)


def fullwidth(text: str) -> str:
    return "".join(chr(0xFF10 + int(c)) if c.isdigit() else c for c in text)


@pytest.fixture
async def scene(engine_kind, tmp_path):
    async with scene_on(engine_kind, tmp_path) as s:
        yield s


def refused(answer, status: int = 400, code: str = "bad_request") -> None:
    assert answer.status_code == status, answer.text
    assert answer.json()["error"]["code"] == code, answer.text


async def test_numbers_past_the_stores_range_are_refused(scene):
    http = scene.http
    path = f"/events/{scene.event_id}/attendances"
    refused(await http.post(path, json={**TOW, "scheduled_ms": HUGE}))
    refused(await http.post(path, json={**TOW, "at_ms": HUGE}))
    refused(await http.post("/events", json={"beneficiary_id": HUGE, "type": "out_of_fuel"}))
    tow = await scene.tow()
    body = {"provider_id": HUGE, "mode": "app"}
    refused(await http.post(f"/attendances/{tow['id']}/offers", json=body))
    person = {"client_id": scene.client_id, "plan_id": 1, "name": "X", "cpf": "52998224725"}
    refused(await http.post("/beneficiaries", json={**person, "active_from_ms": HUGE}))
    profile = {"services": ["light_tow"], "suspended_until_ms": HUGE}
    made = {"name": "P", "phone": "+5511988880000", "profile": profile}
    refused(await http.post("/admin/providers", json=made))


@pytest.mark.parametrize("raw", ["%C2%B2", "%D9%A3", "%EF%BC%93", "-1", "0", "9" * 30])
async def test_path_ids_are_ascii_digits_in_range(scene, raw):
    refused(await scene.http.get(f"/attendances/{raw}"))
    refused(await scene.http.get(f"/events/{raw}"))


async def test_a_link_with_a_non_ascii_offer_id_is_just_invalid(scene):
    answer = await scene.http.get("/links/%C2%B2." + "a" * 30)
    refused(answer, 404, "link_invalid")


async def test_an_osmand_timestamp_past_any_date_is_refused(scene):
    made = await scene.http.post(
        "/admin/providers", json={"name": "Gps", "phone": "+5511988880000"}
    )
    key = made.json()["device_key"]
    for stamp in ("1e30", "1e16", "-5", "nan"):
        answer = await scene.http.get(
            "/ingest/osmand", params={"id": key, "lat": "1", "lon": "1", "timestamp": stamp}
        )
        refused(answer)


async def test_nul_characters_are_refused_in_queries_and_bodies(scene):
    refused(await scene.http.get("/beneficiaries/search", params={"q": "Jo\x00ão"}))
    refused(await scene.http.post("/clients", json={"name": "Seguradora\x00X"}))
    made = {"name": "Nul\x00", "phone": "+5511988880000"}
    refused(await scene.http.post("/admin/providers", json=made))


@pytest.mark.parametrize(
    "cpf", [arabic("52998224725"), fullwidth("52998224725"), "5\u00b29.982.247-25"]
)
async def test_a_cpf_in_other_digits_is_refused_not_stored_beside_the_ascii_one(scene, cpf):
    person = {"client_id": scene.client_id, "plan_id": 1, "name": "Outro", "cpf": cpf}
    refused(await scene.http.post("/beneficiaries", json=person))


@pytest.mark.parametrize(
    ("address", "code"),
    [
        ({"cep": "=1+1;--x"}, "invalid_cep"),
        ({"cep": arabic("01310-100")}, "invalid_cep"),
        ({"state": "ZZ"}, "bad_request"),
    ],
)
async def test_a_beneficiarys_address_needs_a_real_uf_and_cep(scene, address, code):
    person = {
        "client_id": scene.client_id,
        "plan_id": 1,
        "name": "Outra",
        "cpf": "11144477735",
        "address": address,
    }
    refused(await scene.http.post("/beneficiaries", json=person), 400, code)
    ok = {**person, "address": {"state": "sp", "cep": "01310100"}}
    made = await scene.http.post("/beneficiaries", json=ok)
    assert made.status_code == 201, made.text
    stored = made.json()["beneficiary"]["address"]
    assert (stored["state"], stored["cep"]) == ("SP", "01310-100")
