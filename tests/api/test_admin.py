"""Admin REST API over real uvicorn: provider registry, tokens, revocation, live view."""

from __future__ import annotations

import time

import httpx
import msgspec
import pytest

from hub.errors import Close
from tests.client import ProviderClient, fixes
from tests.conftest import engine_settings, serve


@pytest.fixture
async def admin(tmp_path):
    async with engine_settings("embedded", tmp_path) as settings, serve(settings) as running:
        token = running.hub.tokens.admin_token("tests", int(time.time()))
        headers = {"Authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(base_url=running.http, headers=headers) as client:
            client.running = running
            yield client


async def test_register_issue_token_and_connect(admin):
    created = await admin.post(
        "/admin/providers", json={"name": " Guincho  Silva ", "phone": "(11) 99999-0000"}
    )
    assert created.status_code == 201
    body = created.json()
    assert (body["name"], body["phone"], body["active"]) == ("Guincho Silva", "11999990000", True)
    assert len(body["device_key"]) >= 20
    issued = await admin.post(f"/admin/providers/{body['id']}/token")
    assert issued.status_code == 201
    async with ProviderClient.connect(admin.running.ws, issued.json()["token"]) as app:
        await app.welcome()
        await app.send({"type": "fixes", "fixes": fixes(1, 3)})
        await app.acked(3)
    live = (await admin.get(f"/admin/providers/{body['id']}/live")).json()
    assert live["position"]["provider_id"] == body["id"]
    assert live["presence"]["connectivity"] in {"offline", "online", "stale"}
    track = (await admin.get(f"/admin/providers/{body['id']}/track")).json()
    assert len(track["points"]) == 3


async def test_list_get_patch_and_revoke(admin):
    ids = []
    for i in range(3):
        r = await admin.post("/admin/providers", json={"name": f"P{i}", "phone": "+551199990000"})
        ids.append(r.json()["id"])
    page = (await admin.get("/admin/providers", params={"limit": 2})).json()["providers"]
    assert [p["id"] for p in page] == ids[:2]
    after = (await admin.get("/admin/providers", params={"after": ids[1]})).json()["providers"]
    assert [p["id"] for p in after] == ids[2:]
    patched = await admin.patch(f"/admin/providers/{ids[0]}", json={"active": False})
    assert patched.json()["active"] is False
    revoked = await admin.post(f"/admin/providers/{ids[1]}/revoke")
    assert revoked.json()["token_version"] == 2
    assert (await admin.get(f"/admin/providers/{ids[2]}")).json()["name"] == "P2"
    listed = (await admin.get("/admin/providers")).json()["providers"]
    one = (await admin.get(f"/admin/providers/{ids[0]}")).json()
    assert {p["device_key"] for p in [*listed, one]} == {""}  # only when made or rotated


async def test_revoking_ends_every_credential_and_a_rotated_key_replaces_the_old(admin):
    phone = "+5511977770000"
    made = (await admin.post("/admin/providers", json={"name": "Moto", "phone": phone})).json()
    pid, key = made["id"], made["device_key"]
    token = (await admin.post(f"/admin/providers/{pid}/token")).json()["token"]

    async def portal(with_key: str) -> int:
        return (
            await admin.post("/portal/login", json={"phone": phone, "key": with_key})
        ).status_code

    async def osmand(with_key: str) -> int:
        params = {
            "id": with_key,
            "lat": "-23.5",
            "lon": "-46.6",
            "timestamp": str(int(time.time())),
        }
        return (await admin.get("/ingest/osmand", params=params)).status_code

    assert (await portal(key), await osmand(key)) == (200, 200)
    revoked = (await admin.post(f"/admin/providers/{pid}/revoke")).json()
    new_key = revoked["device_key"]
    assert new_key and new_key != key  # the new key, this once
    assert (await portal(key), await osmand(key)) == (401, 401)  # the old key is dead
    async with ProviderClient.connect(admin.running.ws, token) as app:
        await app.error("token_revoked")  # and so is every token issued before
    assert (await portal(new_key), await osmand(new_key)) == (200, 200)

    rotated = (await admin.post(f"/admin/providers/{pid}/device-key")).json()
    assert rotated["device_key"] not in ("", new_key)
    assert rotated["token_version"] == revoked["token_version"]  # tokens stay
    assert (await portal(new_key), await portal(rotated["device_key"])) == (401, 200)
    audit = (await admin.get("/admin/audit")).json()["entries"]
    assert {"provider.revoke", "provider.device_key"} <= {e["action"] for e in audit}


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "code"),
    [
        ("post", "/admin/providers", {"name": "x"}, 400, "bad_request"),
        ("post", "/admin/providers", {"name": "x", "phone": "12"}, 400, "bad_request"),
        ("post", "/admin/providers", {"name": "x", "phone": "not a phone"}, 400, "bad_request"),
        (
            "post",
            "/admin/providers",
            {"name": "   ", "phone": "+5511999990000"},
            400,
            "bad_request",
        ),
        (
            "post",
            "/admin/providers",
            {"name": "x", "phone": "+5511999990000", "evil": 1},
            400,
            "bad_request",
        ),
        ("post", "/admin/providers", "[not json", 400, "bad_request"),
        ("get", "/admin/providers?limit=0", None, 400, "bad_request"),
        ("get", "/admin/providers?limit=abc", None, 400, "bad_request"),
        ("get", "/admin/providers/999", None, 404, "not_found"),
        ("get", "/admin/providers/abc", None, 400, "bad_request"),
        ("get", "/admin/providers/0", None, 400, "bad_request"),
        ("post", "/admin/providers/999/token", None, 404, "not_found"),
        ("post", "/admin/providers/999/revoke", None, 404, "not_found"),
        ("patch", "/admin/providers/999", {"active": True}, 404, "not_found"),
        ("patch", "/admin/providers/1", {"active": "yes"}, 400, "bad_request"),
        ("get", "/admin/nothing-here", None, 404, "not_found"),
    ],
)
async def test_bad_requests_get_json_errors(admin, method, path, body, status, code):
    await admin.post("/admin/providers", json={"name": "P", "phone": "+5511999990000"})
    kwargs = {"content": body} if isinstance(body, str) else {"json": body}
    response = await getattr(admin, method)(path, **({} if body is None else kwargs))
    assert response.status_code == status
    assert response.json()["error"]["code"] == code
    assert response.json()["error"]["message"]


@pytest.mark.parametrize(
    ("header", "code"),
    [
        (None, "token_missing"),
        ("Basic abc", "token_missing"),
        ("Bearer nonsense", "token_invalid"),
        ("provider", "token_audience"),
        ("expired", "token_expired"),
    ],
)
async def test_admin_routes_need_an_admin_token(admin, header, code):
    hub = admin.running.hub
    if header == "provider":
        header = "Bearer " + hub.tokens.provider_token(1, 1, int(time.time()))
    elif header == "expired":
        header = "Bearer " + hub.tokens.admin_token("old", int(time.time()) - 10**6)
    headers = {"Authorization": header} if header else {}
    async with httpx.AsyncClient(base_url=admin.running.http, headers=headers) as anonymous:
        response = await anonymous.post(
            "/admin/providers", json={"name": "x", "phone": "+5511999990000"}
        )
    assert response.status_code == 401
    assert response.json()["error"]["code"] == code
    assert (await admin.get("/admin/providers")).json()["providers"] == []  # nothing created


@pytest.mark.parametrize(
    ("action", "error", "close"),
    [
        ("revoke", "token_revoked", Close.TOKEN_REVOKED),
        ("deactivate", "provider_inactive", Close.PROVIDER_INACTIVE),
    ],
)
async def test_revoking_or_deactivating_closes_the_open_session(admin, action, error, close):
    created = (
        await admin.post("/admin/providers", json={"name": "P", "phone": "+5511999990000"})
    ).json()
    token = (await admin.post(f"/admin/providers/{created['id']}/token")).json()["token"]
    async with ProviderClient.connect(admin.running.ws, token) as app:
        await app.welcome()
        if action == "revoke":
            await admin.post(f"/admin/providers/{created['id']}/revoke")
        else:
            await admin.patch(f"/admin/providers/{created['id']}", json={"active": False})
        await app.error(error)
        assert await app.closed() == close
    async with ProviderClient.connect(admin.running.ws, token) as again:
        assert (await again.error(error))["code"] == error  # and it cannot come back


async def test_revoke_closes_a_session_held_by_another_node(tmp_path):
    async with engine_settings("distributed", tmp_path) as settings:
        a_settings = msgspec.structs.replace(settings, node_id="node-a")
        b_settings = msgspec.structs.replace(settings, node_id="node-b")
        async with serve(a_settings) as a, serve(b_settings) as b:
            admin_token = a.hub.tokens.admin_token("tests", int(time.time()))
            headers = {"Authorization": f"Bearer {admin_token}"}
            async with httpx.AsyncClient(base_url=a.http, headers=headers) as on_a:
                created = (
                    await on_a.post(
                        "/admin/providers", json={"name": "P", "phone": "+5511999990000"}
                    )
                ).json()
                token = (await on_a.post(f"/admin/providers/{created['id']}/token")).json()
                async with ProviderClient.connect(b.ws, token["token"]) as app:
                    await app.welcome()
                    await on_a.post(f"/admin/providers/{created['id']}/revoke")
                    await app.error("token_revoked")
                    assert await app.closed() == Close.TOKEN_REVOKED


async def test_dispatch_profile_is_replaced_and_checked(admin):
    created = (
        await admin.post("/admin/providers", json={"name": "P", "phone": "+5511999990000"})
    ).json()
    assert created["profile"]["services"] == []
    profile = {
        "services": ["light_tow"],
        "prices": {"light_tow": {"base_fee_cents": 15000, "per_km_cents": 350, "included_km": 40}},
        "city": "Campinas",
        "base": [-22.9, -47.06],
        "channels": ["app", "verbal"],
        "working_hours": {"days": [[[480, 1080]]] * 5 + [[], []]},
    }
    put = await admin.put(f"/admin/providers/{created['id']}/profile", json=profile)
    assert put.status_code == 200, put.text
    stored = (await admin.get(f"/admin/providers/{created['id']}")).json()["profile"]
    assert (stored["services"], stored["city"], stored["base"]) == (
        ["light_tow"],
        "Campinas",
        [-22.9, -47.06],
    )
    for bad, status in [
        ({**profile, "services": ["rocket"]}, 400),
        ({**profile, "colour": "red"}, 400),
        ({**profile, "channels": ["pigeon"]}, 400),
        ({**profile, "on_time_pct": 120}, 400),
        ({**profile, "prices": {"light_tow": {"base_fee_cents": -1}}}, 400),
    ]:
        response = await admin.put(f"/admin/providers/{created['id']}/profile", json=bad)
        assert response.status_code == status, bad
        assert response.json()["error"]["code"] in {"bad_request", "unknown_service"}
    missing = await admin.put("/admin/providers/999/profile", json=profile)
    assert missing.status_code == 404


CSV = (
    "name;phone;services;prices;city\n"
    "Guincho Silva;11999990000;light_tow;light_tow:150:3.5:40;São Paulo\n"
    "Táxi Souza;11988887777;taxi;;Campinas\n"
)


async def test_csv_import_then_export(admin):
    imported = await admin.post(
        "/admin/providers/import", content=CSV.encode(), headers={"Content-Type": "text/csv"}
    )
    assert imported.status_code == 201, imported.text
    assert imported.json()["imported"] == 2
    exported = await admin.get("/admin/providers/export")
    assert exported.headers["content-type"].startswith("text/csv")
    lines = exported.text.splitlines()
    assert lines[0].startswith("id;name;phone;")
    assert "Guincho Silva" in lines[1] and "light_tow:150.00:3.50:40" in lines[1]
    assert "Campinas" in lines[2]


async def test_csv_with_a_bad_row_imports_nothing_and_names_every_problem(admin):
    bad = CSV + "Sem Telefone;;taxi;;\nX;11977776666;rocket;;\n"
    refused = await admin.post("/admin/providers/import", content=bad.encode())
    assert refused.status_code == 422
    body = refused.json()
    assert body["error"]["code"] == "csv_rows_invalid"
    assert [(r["row"], r["column"]) for r in body["error"]["details"]["rows"]] == [
        (4, "phone"),
        (5, "services"),
    ]
    assert (await admin.get("/admin/providers")).json()["providers"] == []


async def test_csv_that_is_not_utf8_or_too_large_is_refused(admin):
    latin1 = await admin.post(
        "/admin/providers/import", content="name;phone\nJoão;1199999\n".encode("latin-1")
    )
    assert latin1.status_code == 400
    assert "UTF-8" in latin1.json()["error"]["message"]
    huge = await admin.post("/admin/providers/import", content=b"name;phone\n" + b"x" * 10 * 2**20)
    assert huge.status_code == 413
    assert huge.json()["error"]["code"] == "body_too_large"
