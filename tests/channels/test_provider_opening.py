"""Opening a provider socket: the encoding it is answered in, a store that is down, and
clients that leave before the hub has answered."""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import sys

import msgspec
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed
from websockets.frames import Frame, Opcode

from hub import lifespan
from hub.errors import Close
from tests.channels.test_provider_socket import counted_close, new_provider
from tests.client import ProviderClient
from tests.conftest import engine_settings, serve


async def test_a_messagepack_hello_is_welcomed_in_messagepack(tmp_path):
    async with engine_settings("embedded", tmp_path) as settings, serve(settings) as running:
        pid, token = await new_provider(running)
        async with connect(running.ws) as ws:
            await ws.send(msgspec.msgpack.encode({"type": "hello", "token": token}))
            raw = await asyncio.wait_for(ws.recv(), 5)
        assert isinstance(raw, bytes)
        welcome = msgspec.msgpack.decode(raw)
        assert (welcome["type"], welcome["provider_id"]) == ("welcome", pid)


async def test_a_refused_messagepack_hello_is_refused_in_messagepack(tmp_path):
    async with (
        engine_settings("embedded", tmp_path) as settings,
        serve(settings) as running,
        connect(running.ws) as ws,
    ):
        await ws.send(msgspec.msgpack.encode({"type": "hello", "token": "not-a-token"}))
        raw = await asyncio.wait_for(ws.recv(), 5)
        assert isinstance(raw, bytes)
        assert msgspec.msgpack.decode(raw)["code"] == "token_invalid"


async def test_a_session_opened_while_the_store_is_down_is_told_to_retry_later(tmp_path):
    """Not dropped without a word (1006): an error frame, then 1011, which says reconnect."""
    async with engine_settings("embedded", tmp_path) as settings, serve(settings) as running:
        _, token = await new_provider(running)
        await running.hub.records.close()  # the store goes away under the running hub
        async with connect(running.ws) as ws:
            await ws.send(msgspec.json.encode({"type": "hello", "token": token}).decode())
            frame = msgspec.json.decode(await asyncio.wait_for(ws.recv(), 5))
            try:
                await asyncio.wait_for(ws.recv(), 5)
            except ConnectionClosed as exc:
                code = exc.rcvd.code if exc.rcvd else None
        assert (frame["type"], frame["code"]) == ("error", "store_unavailable")
        assert code == Close.INTERNAL_ERROR
        text = running.hub.metrics.exposition().decode()
        assert 'hub_provider_closes_total{code="internal_error"} 1.0' in text


async def test_clients_that_leave_before_the_answer_leave_no_traceback(tmp_path, caplog):
    caplog.set_level(logging.INFO)
    async with engine_settings("embedded", tmp_path) as settings, serve(settings) as running:
        for bad in ("{not json", '{"type":"hello","token":"x"}', b"\xff\xfe"):
            for _ in range(10):
                async with connect(running.ws) as ws:
                    await ws.send(bad)
                # gone at once, before the hub has answered
        await asyncio.sleep(0.3)
    tracebacks = [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]
    assert tracebacks == []


@pytest.mark.parametrize(
    ("action", "close"),
    [
        (("revoke",), Close.TOKEN_REVOKED),
        (("active", "off"), Close.PROVIDER_INACTIVE),
    ],
)
async def test_the_cli_ends_an_open_session_too(engine_kind, tmp_path, monkeypatch, action, close):
    """`hub provider revoke` and `hub provider active off` change the store from another
    process: the hub holding the session closes it within the recheck period."""
    monkeypatch.setattr(lifespan, "SESSION_RECHECK_S", 0.1)
    async with engine_settings(engine_kind, tmp_path) as settings, serve(settings) as running:
        pid, token = await new_provider(running)
        env = {
            "HUB_SQLITE_PATH": settings.sqlite_path,
            "HUB_DATABASE_URL": settings.database_url,
            "HUB_POSTGRES_SCHEMA": settings.postgres_schema,
        }
        async with ProviderClient.connect(running.ws, token) as app:
            await app.welcome()
            done = await asyncio.to_thread(
                subprocess.run,
                [sys.executable, "-m", "hub", "provider", *action[:1], str(pid), *action[1:]],
                env={**os.environ, **{k: v for k, v in env.items() if v}},
                capture_output=True,
                timeout=60,
                check=False,
            )
            assert done.returncode == 0, done.stderr
            assert await app.closed(timeout=10) == close


@pytest.mark.parametrize("authenticated", [False, True])
async def test_text_that_is_not_utf8_is_closed_with_1007_and_no_traceback(
    tmp_path, caplog, authenticated
):
    caplog.set_level(logging.INFO)
    not_utf8 = Frame(Opcode.TEXT, b'{"type":"ping","id":1,"x":"' + b"\xff\xfe" + b'"}')
    async with engine_settings("embedded", tmp_path) as settings, serve(settings) as running:
        _, token = await new_provider(running)
        async with ProviderClient.connect(running.ws, token if authenticated else None) as app:
            if authenticated:
                await app.welcome()
                await app.alive()  # frames are taken as they are parsed
            app.ws.transport.write(not_utf8.serialize(mask=True, extensions=[]))
            assert await app.closed() == 1007
        await counted_close(running, "invalid_payload")
    tracebacks = [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]
    assert tracebacks == []
