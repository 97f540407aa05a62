"""Idempotency-Key on REST: a request sent again is answered, not redone."""

from __future__ import annotations

import time

import msgspec
import pytest

from hub.api.idempotency import STALE_MS, caller, fingerprint
from tests.dispatch.scene import TOW, Scene, scene_on


@pytest.fixture
async def scene(engine_kind, tmp_path):
    async with scene_on(engine_kind, tmp_path) as s:
        yield s


async def registered(scene: Scene) -> list[int]:
    found = await scene.http.get(f"/events/{scene.event_id}/attendances")
    return sorted(a["id"] for a in found.json()["attendances"])


async def test_a_registration_sent_twice_with_one_key_registers_once(scene):
    path = f"/events/{scene.event_id}/attendances"
    first = await scene.http.post(path, json=TOW, headers={"Idempotency-Key": "reg-1"})
    again = await scene.http.post(path, json=TOW, headers={"Idempotency-Key": "reg-1"})
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert await registered(scene) == [first.json()["id"]]
    other = await scene.http.post(path, json=TOW)  # no key: a second registration
    assert len(await registered(scene)) == 2
    assert other.json()["id"] != first.json()["id"]


async def test_the_same_key_with_another_request_is_refused_and_does_nothing(scene):
    path = f"/events/{scene.event_id}/attendances"
    await scene.http.post(path, json=TOW, headers={"Idempotency-Key": "reg-2"})
    changed = await scene.http.post(
        path, json={**TOW, "requester_name": "Bia"}, headers={"Idempotency-Key": "reg-2"}
    )
    assert changed.status_code == 422
    assert changed.json()["error"]["code"] == "idempotency_key_reused"
    assert len(await registered(scene)) == 1


async def test_an_answer_that_refused_the_request_is_kept_too(scene):
    path = f"/events/{scene.event_id}/attendances"
    bad = {**TOW, "service": "glazier"}
    first = await scene.http.post(path, json=bad, headers={"Idempotency-Key": "reg-3"})
    again = await scene.http.post(path, json=bad, headers={"Idempotency-Key": "reg-3"})
    assert first.status_code in (400, 409)  # refused: the catalogue has no such service
    assert (again.status_code, again.json()) == (first.status_code, first.json())
    assert again.headers["idempotent-replayed"] == "true"


async def test_a_key_whose_request_still_runs_is_in_flight_until_it_goes_stale(scene):
    path = f"/events/{scene.event_id}/attendances"
    keys = scene.hub.records.idempotency
    who = caller(scene.http.headers["authorization"].encode())
    request = fingerprint("POST", path.encode(), b"", msgspec.json.encode(TOW))
    now = int(time.time() * 1000)
    await keys.claim(who, "reg-4", request, now)  # as if a first request were running
    running = await scene.http.post(path, content=msgspec.json.encode(TOW), headers=_key("reg-4"))
    assert running.status_code == 409
    assert running.json()["error"]["code"] == "idempotency_key_in_flight"
    assert await registered(scene) == []
    await keys.claim(who, "reg-5", request, now - STALE_MS - 1)  # its node died long ago
    orphaned = await scene.http.post(path, content=msgspec.json.encode(TOW), headers=_key("reg-5"))
    assert orphaned.status_code == 201
    assert len(await registered(scene)) == 1


async def test_keys_belong_to_whoever_sent_them(scene):
    path = f"/events/{scene.event_id}/attendances"
    await scene.http.post(path, json=TOW, headers={"Idempotency-Key": "shared"})
    token = scene.hub.tokens.admin_token("another-operator", int(time.time()))
    theirs = await scene.http.post(
        path, json=TOW, headers={"Idempotency-Key": "shared", "Authorization": f"Bearer {token}"}
    )
    assert theirs.status_code == 201
    assert "idempotent-replayed" not in theirs.headers
    assert len(await registered(scene)) == 2


@pytest.mark.parametrize("key", ["", "x" * 256, "chave\u00e7"])
async def test_a_key_that_is_no_key_is_refused(scene, key):
    path = f"/events/{scene.event_id}/attendances"
    sent = await scene.http.post(
        path, json=TOW, headers=[("Idempotency-Key", key.encode("latin-1"))]
    )
    assert sent.status_code == 400
    assert "Idempotency-Key" in sent.json()["error"]["message"]
    assert await registered(scene) == []


async def test_reads_ignore_the_header(scene):
    got = await scene.http.get(f"/events/{scene.event_id}", headers={"Idempotency-Key": "r"})
    again = await scene.http.get(f"/events/{scene.event_id}", headers={"Idempotency-Key": "r"})
    assert (got.status_code, again.status_code) == (200, 200)
    assert "idempotent-replayed" not in again.headers


def _key(key: str) -> dict[str, str]:
    return {"Idempotency-Key": key, "content-type": "application/json"}


async def test_answers_with_credentials_are_never_kept(scene):
    keys = scene.hub.records.idempotency
    made = await scene.http.post(
        "/admin/providers",
        json={"name": "Guincho", "phone": "+5511988880000"},
        headers={"Idempotency-Key": "secret-1"},
    )
    token = await scene.http.post(
        f"/admin/providers/{made.json()['id']}/token", headers={"Idempotency-Key": "secret-2"}
    )
    assert (made.status_code, token.status_code) == (201, 201)
    who = caller(scene.http.headers["authorization"].encode())
    for key in ("secret-1", "secret-2"):  # no row was claimed: nothing to leak
        assert await keys.claim(who, key, "probe", int(time.time() * 1000)) is None


async def test_requests_that_do_not_authenticate_store_no_key(scene):
    path = f"/events/{scene.event_id}/attendances"
    forged = scene.hub.tokens.admin_token("x", int(time.time()))[:-4] + "AAAA"
    for i, auth in enumerate(["", "Bearer x", f"Bearer {forged}", "Basic YWRtaW46eA=="] * 5):
        answer = await scene.http.post(
            path, json=TOW, headers={"Idempotency-Key": f"anon-{i}", "Authorization": auth}
        )
        assert answer.status_code == 401, answer.text
    count = "SELECT count(*) AS n FROM idempotency_keys"
    keys = scene.hub.records.idempotency
    assert (await keys.fetch(count))[0]["n"] == 0
    await scene.http.post(path, json=TOW, headers={"Idempotency-Key": "mine"})  # a real one
    assert (await keys.fetch(count))[0]["n"] == 1
