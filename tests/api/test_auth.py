"""Console users: login, roles on every route, the audit log."""

from __future__ import annotations

import time

import httpx
import pytest

from tests.conftest import engine_settings, serve

QUERY = {"origin": {"lat": -23.55, "lng": -46.63}, "service": "taxi"}


@pytest.fixture
async def hub_http(tmp_path):
    async with engine_settings("embedded", tmp_path) as settings, serve(settings) as running:
        bootstrap = running.hub.tokens.admin_token("bootstrap", int(time.time()))
        async with httpx.AsyncClient(base_url=running.http) as http:
            http.bootstrap = {"Authorization": f"Bearer {bootstrap}"}
            yield http


async def add_user(http, login: str, role: str) -> dict:
    response = await http.post(
        "/admin/users",
        json={"login": login, "name": login.title(), "role": role, "password": "s3cret-enough"},
        headers=http.bootstrap,
    )
    assert response.status_code == 201, response.text
    return response.json()


async def log_in(http, login: str, password: str = "s3cret-enough") -> httpx.Response:
    return await http.post("/auth/login", json={"login": login, "password": password})


async def test_an_operator_logs_in_and_may_match_but_not_administer(hub_http):
    await add_user(hub_http, "ana", "operator")
    session = await log_in(hub_http, "ANA ")  # logins are case- and space-insensitive
    assert session.status_code == 200, session.text
    body = session.json()
    assert (body["user"]["login"], body["user"]["role"]) == ("ana", "operator")
    headers = {"Authorization": f"Bearer {body['token']}"}
    me = await hub_http.get("/auth/me", headers=headers)
    assert me.json() == {"subject": f"user:{body['user']['id']}", "role": "operator"}
    assert (await hub_http.post("/match", json=QUERY, headers=headers)).status_code == 200
    refused = await hub_http.get("/admin/providers", headers=headers)
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "forbidden"


async def test_an_admin_user_administers_and_is_audited(hub_http):
    admin = await add_user(hub_http, "root", "admin")
    token = (await log_in(hub_http, "root")).json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    created = await hub_http.post(
        "/admin/providers", json={"name": "P", "phone": "+5511999990000"}, headers=headers
    )
    assert created.status_code == 201
    entries = (await hub_http.get("/admin/audit", headers=headers)).json()["entries"]
    assert [(e["actor"], e["action"], e["target"]) for e in entries[:3]] == [
        (f"user:{admin['id']}", "provider.add", f"provider:{created.json()['id']}"),
        (f"user:{admin['id']}", "user.login", f"user:{admin['id']}"),
        ("cli:bootstrap", "user.add", f"user:{admin['id']}"),
    ]


@pytest.mark.parametrize(
    ("login", "password"), [("ana", "wrong-password"), ("nobody", "s3cret-enough")]
)
async def test_wrong_credentials_get_one_vague_answer(hub_http, login, password):
    await add_user(hub_http, "ana", "operator")
    refused = await log_in(hub_http, login, password)
    assert refused.status_code == 401
    assert refused.json()["error"] == {
        "code": "login_failed",
        "message": "login or password is wrong",
    }


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"login": "a", "name": "A", "role": "operator", "password": "s3cret-enough"}, "login"),
        ({"login": "bob", "name": "B", "role": "operator", "password": "short"}, "password"),
        ({"login": "bob", "name": "B", "role": "king", "password": "s3cret-enough"}, "role"),
        ({"login": "bob", "name": " ", "role": "operator", "password": "s3cret-enough"}, "name"),
        ({"login": "bob", "name": "B", "role": "operator"}, "password"),
    ],
)
async def test_bad_users_are_refused(hub_http, body, fragment):
    response = await hub_http.post("/admin/users", json=body, headers=hub_http.bootstrap)
    assert response.status_code == 400
    assert fragment in response.json()["error"]["message"]


async def test_a_taken_login_conflicts_and_bad_login_bodies_are_refused(hub_http):
    await add_user(hub_http, "ana", "operator")
    again = await hub_http.post(
        "/admin/users",
        json={"login": "ana", "name": "Ana", "role": "admin", "password": "s3cret-enough"},
        headers=hub_http.bootstrap,
    )
    assert again.status_code == 409
    assert again.json()["error"]["message"] == "this login is taken"  # no SQL in it
    assert (await hub_http.post("/auth/login", content=b"{")).status_code == 400
    assert (await hub_http.post("/auth/login", json={"login": "ana"})).status_code == 400


async def test_tokens_for_other_audiences_do_not_open_the_api(hub_http, tmp_path):
    provider = await hub_http.post(
        "/admin/providers",
        json={"name": "P", "phone": "+5511999990000"},
        headers=hub_http.bootstrap,
    )
    app_token = (
        await hub_http.post(
            f"/admin/providers/{provider.json()['id']}/token", headers=hub_http.bootstrap
        )
    ).json()["token"]
    refused = await hub_http.post(
        "/match", json=QUERY, headers={"Authorization": f"Bearer {app_token}"}
    )
    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "token_audience"
