"""Links by SMS and e-mail, against a real local SMTP server and an HTTP gateway stand-in."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import sys
from email import message_from_bytes

import pytest
import uvicorn
from aiosmtpd.controller import Controller
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.conftest import engine_settings, serve
from tests.dispatch.scene import Scene, admin_client, link_path
from tests.processes import free_port


class Inbox:
    def __init__(self) -> None:
        self.mails: list[bytes] = []

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd calls this hook by name
        self.mails.append(envelope.content)
        return "250 OK"


@contextlib.asynccontextmanager
async def smtp_server():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield inbox, controller.port
    finally:
        controller.stop()


@contextlib.asynccontextmanager
async def sms_gateway(status: int = 200):
    """An HTTP SMS gateway stand-in: records each POST, answers ``status``."""
    received: list[dict] = []

    async def sms(request: Request) -> JSONResponse:
        received.append({"auth": request.headers.get("authorization"), **await request.json()})
        return JSONResponse({"id": len(received)}, status_code=status)

    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            Starlette(routes=[Route("/sms", sms, methods=["POST"])]),
            host="127.0.0.1",
            port=port,
            log_level="warning",
        )
    )
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    try:
        yield received, f"http://127.0.0.1:{port}/sms"
    finally:
        server.should_exit = True
        await task


async def test_a_link_goes_out_by_sms_and_email_and_works(tmp_path):
    async with (
        smtp_server() as (inbox, smtp_port),
        sms_gateway() as (texts, sms_url),
        engine_settings(
            "embedded",
            tmp_path,
            smtp_host="127.0.0.1",
            smtp_port=smtp_port,
            smtp_from="central@example.com",
            sms_url=sms_url,
            sms_key="k3y",
        ) as settings,
        serve(settings) as running,
        admin_client(running) as http,
    ):
        scene = Scene(running, http)
        await scene.setup()
        pid = await scene.provider("Link", email="guincho@example.com")
        tow = await scene.tow(track_page=False)  # the offer's messages alone
        made = await http.post(
            f"/attendances/{tow['id']}/offers", json={"provider_id": pid, "mode": "link"}
        )
        assert made.status_code == 201, made.text
        assert len(texts) == 1
        assert (texts[0]["to"], texts[0]["auth"]) == ("+5511988880000", "Bearer k3y")
        url = texts[0]["text"].rsplit(" ", 1)[-1]
        assert texts[0]["text"].startswith("Acionamento: Reboque leve em Bela Vista, São Paulo.")
        mail = message_from_bytes(inbox.mails[0])
        assert (mail["To"], mail["From"]) == ("guincho@example.com", "central@example.com")
        assert url in mail.get_payload(decode=True).decode()
        notes = (await http.get("/notifications")).json()["notifications"]
        assert [(n["channel"], n["outcome"]) for n in notes] == [("sms", "sent"), ("email", "sent")]
        secret = url.rsplit(".", 1)[1]
        for note in notes:  # sent: only the phone and the mailbox hold the secret
            assert secret not in note["body"] and "[hidden]" in note["body"], note["body"]
        path = link_path(texts[0]["text"])
        won = await http.post(path + "/accept", json={"eta_min": 25})
        assert won.json()["assignment"]["eta_min"] == 25


@pytest.mark.parametrize("status", [500, 401])
async def test_a_failing_gateway_is_recorded_and_the_offer_stands(tmp_path, status):
    async with (
        sms_gateway(status) as (texts, sms_url),
        engine_settings("embedded", tmp_path, sms_url=sms_url) as settings,
        serve(settings) as running,
        admin_client(running) as http,
    ):
        scene = Scene(running, http)
        await scene.setup()
        pid = await scene.provider("Link")
        tow = await scene.tow(track_page=False)  # the offer's messages alone
        made = await http.post(
            f"/attendances/{tow['id']}/offers", json={"provider_id": pid, "mode": "link"}
        )
        assert made.status_code == 201
        note = (await http.get("/notifications")).json()["notifications"][0]
        assert note["outcome"].startswith("failed: HTTPStatusError")
        offers = (await http.get(f"/attendances/{tow['id']}/offers")).json()["offers"]
        assert offers[0]["state"] == "pending"  # the operator sees it and can phone instead
        assert len(texts) == 1  # the gateway was asked once


async def test_without_a_gateway_links_wait_in_the_outbox_the_cli_reads(tmp_path):
    async with (
        engine_settings("embedded", tmp_path) as settings,
        serve(settings) as running,
        admin_client(running) as http,
    ):
        scene = Scene(running, http)
        await scene.setup()
        pid = await scene.provider("Link", email="x@example.com")
        tow = await scene.tow(track_page=False)  # the offer's messages alone
        made = await http.post(
            f"/attendances/{tow['id']}/offers", json={"provider_id": pid, "mode": "link"}
        )
        listed = await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-m", "hub", "outbox"],
            env={**os.environ, "HUB_SQLITE_PATH": settings.sqlite_path},
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
    notes = json.loads(listed.stdout)
    assert [(n["channel"], n["outcome"], n["offer_id"]) for n in notes] == [
        ("sms", "outbox", made.json()["id"]),
        ("email", "outbox", made.json()["id"]),
    ]
    assert "/console/link.html#" in notes[0]["body"]


async def test_a_link_waiting_in_the_outbox_is_shown_whole_to_admins_only(tmp_path):
    async with (
        engine_settings("embedded", tmp_path) as settings,
        serve(settings) as running,
        admin_client(running) as http,
    ):
        scene = Scene(running, http)
        await scene.setup()
        pid = await scene.provider("Link")
        await http.post(
            f"/attendances/{(await scene.tow(track_page=False))['id']}/offers",
            json={"provider_id": pid, "mode": "link"},
        )
        whole = (await http.get("/notifications")).json()["notifications"][0]["body"]
        link_path(whole)  # an admin passes it on
        made = await http.post(
            "/admin/users",
            json={
                "login": "opera",
                "name": "Opera",
                "role": "operator",
                "password": "s3nha-longa-ok",
            },
        )
        assert made.status_code == 201, made.text
        login = await http.post(
            "/auth/login", json={"login": "opera", "password": "s3nha-longa-ok"}
        )
        operator = {"Authorization": f"Bearer {login.json()['token']}"}
        seen = await http.get("/notifications", headers=operator)
        body = seen.json()["notifications"][0]["body"]
        assert body.rsplit(".", 1)[1] == "[hidden]" and body != whole
