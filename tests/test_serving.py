"""Stopping a real `hub serve` process with SIGTERM: a drain.  Readiness says `draining` at
once, new sockets are turned away with 1001, the open ones are closed with 1001 spread over
HUB_DRAIN_S, then the process exits."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import signal
import time

import httpx
import uvicorn
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from hub.errors import Close
from hub.tokens import TokenIssuer
from tests.client import ProviderClient
from tests.conftest import engine_settings
from tests.processes import environment, free_port, start, stop

SECRET = "a-test-secret-that-is-long-enough-for-hs256"
APPS = 8
DRAIN_S = 2.0


async def closed_at(app: ProviderClient) -> tuple[float, int]:
    code = await app.closed(timeout=DRAIN_S + 10)
    return time.monotonic(), code


async def test_sigterm_drains_the_sockets_over_the_window_then_exits(tmp_path):
    async with engine_settings("embedded", tmp_path) as settings:
        port = free_port()
        env = environment(settings, HUB_TOKEN_SECRET=SECRET, HUB_DRAIN_S=str(DRAIN_S))
        process = await start(env, port)
        try:
            tokens = TokenIssuer(SECRET, provider_ttl_s=3600, admin_ttl_s=3600)
            admin = {"Authorization": f"Bearer {tokens.admin_token('tests', int(time.time()))}"}
            base = f"http://127.0.0.1:{port}"
            async with httpx.AsyncClient(base_url=base, headers=admin) as http:
                issued = []
                for i in range(APPS):
                    made = await http.post(
                        "/admin/providers", json={"name": f"P{i}", "phone": "+5511999990000"}
                    )
                    token = await http.post(f"/admin/providers/{made.json()['id']}/token")
                    issued.append(token.json()["token"])
                url = f"ws://127.0.0.1:{port}/ws/provider"
                async with contextlib.AsyncExitStack() as stack:
                    apps = [
                        await stack.enter_async_context(ProviderClient.connect(url, t))
                        for t in issued
                    ]
                    for app in apps:
                        await app.welcome()
                    waiting = [asyncio.create_task(closed_at(app)) for app in apps]
                    started = time.monotonic()
                    process.send_signal(signal.SIGTERM)
                    async with asyncio.timeout(5):
                        while (ready := await http.get("/readyz")).status_code == 200:
                            await asyncio.sleep(0.02)
                    assert (ready.status_code, ready.json()["status"]) == (503, "draining")
                    async with connect(url) as late:  # a socket opened while draining
                        try:
                            await asyncio.wait_for(late.recv(), 5)
                        except ConnectionClosed as exc:
                            assert exc.rcvd is not None and exc.rcvd.code == Close.GOING_AWAY
                    closes = await asyncio.gather(*waiting)
            assert {code for _, code in closes} == {Close.GOING_AWAY}
            times = sorted(at for at, _ in closes)
            assert times[-1] - times[0] >= DRAIN_S / 2  # spread, not all at once
            assert times[-1] - started <= DRAIN_S + 2
            async with asyncio.timeout(10):
                await process.wait()
        finally:
            await stop(process)


def test_the_uvicorn_seams_the_drain_uses_are_still_there():
    """hub/serving.py overrides Server.handle_exit and appends to its captured signals (so
    uvicorn raises them again once stopped); pyproject.toml bounds uvicorn for this."""
    source = inspect.getsource(uvicorn.Server)
    assert "def handle_exit(self, sig" in source
    assert "self._captured_signals" in source, "uvicorn no longer re-raises captured signals"
