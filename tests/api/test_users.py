"""Users an admin can manage and sessions that end: role changes, deactivation, deletion,
logout (REST and CLI, each audited), and open console sockets re-checked on every
subscribe and every few seconds."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from hub import lifespan
from hub.errors import Close
from tests.api.test_auth import add_user, log_in
from tests.conftest import engine_settings, serve


@pytest.fixture
async def admin(tmp_path, monkeypatch):
    monkeypatch.setattr(lifespan, "SESSION_RECHECK_S", 0.3)
    async with (
        engine_settings("embedded", tmp_path, operator_token_ttl_s=3) as settings,
        serve(settings) as running,
    ):
        bootstrap = running.hub.tokens.admin_token("bootstrap", int(time.time()))
        headers = {"Authorization": f"Bearer {bootstrap}"}
        async with httpx.AsyncClient(base_url=running.http, headers=headers) as http:
            http.bootstrap = headers
            http.running = running
            yield http


async def cli(admin, *args: str) -> subprocess.CompletedProcess[str]:
    """``hub ARGS`` on the test hub's records store, in its own process."""
    env = {**os.environ, "HUB_SQLITE_PATH": admin.running.settings.sqlite_path}
    return await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "hub", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def console(admin, token: str):
    url = f"ws://127.0.0.1:{admin.running.port}/ws/dashboard"
    ws = await connect(url)
    await ws.send(f'{{"type":"sign_in","token":"{token}"}}')
    assert '"signed_in"' in await ws.recv()
    return ws


async def closed_with(ws, timeout: float = 5) -> int:
    try:
        async with asyncio.timeout(timeout):
            while True:
                await ws.recv()
    except ConnectionClosed as exc:
        assert exc.rcvd is not None
        return exc.rcvd.code


async def test_an_admin_changes_a_role_deactivates_and_deletes_users(admin):
    ana = await add_user(admin, "ana", "operator")
    token = (await log_in(admin, "ana")).json()["token"]
    promoted = await admin.patch(f"/admin/users/{ana['id']}", json={"role": "supervisor"})
    assert promoted.status_code == 200 and promoted.json()["role"] == "supervisor"
    me = await admin.get("/auth/me", headers=bearer(token))
    assert me.json()["role"] == "supervisor"  # at once, with the same token
    off = await admin.patch(f"/admin/users/{ana['id']}", json={"active": False})
    assert off.json()["active"] is False
    refused = await admin.get("/auth/me", headers=bearer(token))
    assert (refused.status_code, refused.json()["error"]["code"]) == (401, "token_revoked")
    assert (await log_in(admin, "ana")).status_code == 401
    back = await admin.patch(f"/admin/users/{ana['id']}", json={"active": True})
    assert back.json()["active"] is True
    assert (await admin.get("/auth/me", headers=bearer(token))).status_code == 401  # still ended
    assert (await admin.patch(f"/admin/users/{ana['id']}", json={})).status_code == 400
    assert (await admin.delete(f"/admin/users/{ana['id']}")).status_code == 204
    assert (await admin.delete(f"/admin/users/{ana['id']}")).status_code == 404
    assert (await log_in(admin, "ana")).status_code == 401
    listed = (await admin.get("/admin/users")).json()["users"]
    assert ana["id"] not in [u["id"] for u in listed]
    actions = [e["action"] for e in (await admin.get("/admin/audit")).json()["entries"]]
    assert {"user.change", "user.delete"} <= set(actions)


async def test_logout_ends_every_session_and_closes_open_consoles(admin):
    await add_user(admin, "bia", "operator")
    first = (await log_in(admin, "bia")).json()["token"]
    second = (await log_in(admin, "bia")).json()["token"]
    ws = await console(admin, second)
    out = await admin.post("/auth/logout", headers=bearer(first))
    assert out.status_code == 204
    for token in (first, second):
        assert (await admin.get("/auth/me", headers=bearer(token))).status_code == 401
    assert await closed_with(ws) == Close.TOKEN_REVOKED
    cli = await admin.post("/auth/logout", headers=admin.bootstrap)
    assert (cli.status_code, cli.json()["error"]["code"]) == (400, "bad_request")


async def test_open_consoles_are_checked_again_when_deactivated_or_expired(admin):
    user = await add_user(admin, "caio", "supervisor")
    token = (await log_in(admin, "caio")).json()["token"]
    ws = await console(admin, token)
    await admin.patch(f"/admin/users/{user['id']}", json={"active": False})
    assert await closed_with(ws) == Close.TOKEN_REVOKED  # within the recheck tick

    await admin.patch(f"/admin/users/{user['id']}", json={"active": True})
    token = (await log_in(admin, "caio")).json()["token"]
    ws = await console(admin, token)  # the token lives 3 s here: then the tick closes it
    assert await closed_with(ws, timeout=6) == Close.AUTH_FAILED


async def test_every_subscribe_reads_the_token_again(tmp_path, monkeypatch):
    monkeypatch.setattr(lifespan, "SESSION_RECHECK_S", 3600.0)  # no tick: the subscribe checks
    async with (
        engine_settings("embedded", tmp_path, operator_token_ttl_s=2) as settings,
        serve(settings) as running,
    ):
        bootstrap = running.hub.tokens.admin_token("bootstrap", int(time.time()))
        async with httpx.AsyncClient(base_url=running.http) as http:
            http.bootstrap = bearer(bootstrap)
            http.running = running
            await add_user(http, "edu", "operator")
            ws = await console(http, (await log_in(http, "edu")).json()["token"])
            await ws.send('{"type":"subscribe","topic":"dispatch"}')
            assert '"snapshot"' in await ws.recv()
            await asyncio.sleep(2.2)  # expired a moment ago
            await ws.send('{"type":"subscribe","topic":"dispatch"}')
            assert await closed_with(ws) == Close.AUTH_FAILED


async def test_the_cli_sets_logs_out_and_deletes_users(admin):
    user = await add_user(admin, "duda", "operator")
    token = (await log_in(admin, "duda")).json()["token"]

    async def hub(*args: str) -> subprocess.CompletedProcess[str]:
        return await cli(admin, "user", *args)

    done = await hub("set", str(user["id"]), "--role", "admin")
    assert done.returncode == 0, done.stderr
    assert (await admin.get("/auth/me", headers=bearer(token))).json()["role"] == "admin"
    done = await hub("logout", str(user["id"]))
    assert done.returncode == 0, done.stderr
    assert (await admin.get("/auth/me", headers=bearer(token))).status_code == 401
    done = await hub("delete", str(user["id"]))
    assert done.returncode == 0, done.stderr
    missing = await hub("delete", str(user["id"]))
    assert missing.returncode == 2 and "not_found" in missing.stderr


@pytest.mark.parametrize(
    ("login", "password"),
    [
        ("gil", "aaaaaaaaaa"),
        ("gil", " " * 12),
        ("gilberto10", "gilberto10"),
        ("gil", "password123"),
        ("gil", "Senha12345"),
    ],
)
async def test_guessable_passwords_are_refused(admin, login, password):
    made = await admin.post(
        "/admin/users",
        json={"login": login, "name": "Gil", "role": "operator", "password": password},
        headers=admin.bootstrap,
    )
    assert made.status_code == 400, made.text
    assert "password" in made.json()["error"]["message"]


async def test_admin_tokens_are_revoked_by_the_cli_and_new_ones_work(admin):

    async def hub(*args: str) -> subprocess.CompletedProcess[str]:
        done = await cli(admin, "admin", *args)
        assert done.returncode == 0, done.stderr
        return done

    assert (await admin.get("/admin/users")).status_code == 200
    issued = json.loads((await hub("token", "--subject", "ops")).stdout)
    await hub("revoke")
    for token in (admin.bootstrap["Authorization"].split()[1], issued["token"]):
        refused = await admin.get("/admin/users", headers=bearer(token))
        assert (refused.status_code, refused.json()["error"]["code"]) == (401, "token_revoked")
    fresh = json.loads((await hub("token")).stdout)["token"]
    assert (await admin.get("/admin/users", headers=bearer(fresh))).status_code == 200
    actions = [
        e["action"]
        for e in (await admin.get("/admin/audit", headers=bearer(fresh))).json()["entries"]
    ]
    assert "admin.revoke" in actions
