"""`hub cluster`: two real nodes behind Debian's nginx with the repo's configuration, on
Redis + PostgreSQL.  Apps connect through nginx and land on both nodes; a console stays
connected through quiet spells longer than nginx's read timeout; a node killed with -9
sends its apps back through the other; Ctrl-C stops everything."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import sys
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from tests.client import ProviderClient
from tests.conftest import engine_settings, need_program, serve
from tests.dispatch.scene import Scene, admin_client
from tests.processes import environment, free_ports_in_a_row

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Cluster:
    process: asyncio.subprocess.Process
    port: int
    said: list[str] = field(default_factory=list)
    pids: dict[str, int] = field(default_factory=dict)

    @property
    def ws(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws/provider"

    async def until(self, pattern: str, timeout: float = 60) -> re.Match[str]:
        """Read the cluster's output until a line matches."""
        async with asyncio.timeout(timeout):
            while True:
                for line in self.said:
                    if found := re.search(pattern, line):
                        return found
                raw = await self.process.stdout.readline()  # type: ignore[union-attr]
                if not raw:
                    raise AssertionError(f"hub cluster ended: {self.said}")
                self.said.append(raw.decode())


@asynccontextmanager
async def hub_cluster(settings, read_timeout_s: int = 3600, **env: str) -> AsyncIterator[Cluster]:
    """`hub cluster` with two nodes on the settings' engines, its nginx timing out quiet
    sockets after ``read_timeout_s``."""
    port = free_ports_in_a_row(3)
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "hub",
        "cluster",
        "--nodes",
        "2",
        "--port",
        str(port),
        "--proxy-read-timeout",
        str(read_timeout_s),
        env=environment(settings, **env),
        stdout=asyncio.subprocess.PIPE,
    )
    cluster = Cluster(process, port)
    try:
        await cluster.until(r"2 nodes behind")
        for match in re.finditer(r"(node-\d) ready at \S+ \(pid (\d+)\)", "".join(cluster.said)):
            cluster.pids[match[1]] = int(match[2])
        yield cluster
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGINT)
            async with asyncio.timeout(30):
                await process.wait()


@pytest.mark.postgres
async def test_hub_cluster_balances_apps_keeps_quiet_consoles_and_survives_a_node(tmp_path):
    need_program("nginx", "Debian's nginx (apt-get install nginx)")
    async with (
        engine_settings("distributed", tmp_path) as settings,
        serve(settings) as control,  # the records' side: providers and tokens
        admin_client(control) as http,
        hub_cluster(settings, read_timeout_s=2, HUB_CONSOLE_KEEPALIVE_S="0.5") as cluster,
    ):
        scene = Scene(control, http)
        await scene.setup({})
        ids = [await scene.provider(f"App {i}", channels=["app"]) for i in range(6)]
        tokens = {pid: await scene.token(pid) for pid in ids}

        async def nodes_of(apps: dict[int, ProviderClient]) -> dict[int, str]:
            where = {}
            for pid in apps:
                live = (await http.get(f"/admin/providers/{pid}/live")).json()["presence"]
                where[pid] = (live["owner"] or {}).get("node")
            return where

        apps: dict[int, ProviderClient] = {}
        async with AsyncExitStack() as held:

            async def dial(pid: int) -> None:
                apps[pid] = await held.enter_async_context(
                    ProviderClient.connect(cluster.ws, tokens[pid])
                )
                await apps[pid].welcome()

            async def ping_all() -> None:  # apps ping, well inside nginx's 2 s timeout here
                while True:
                    await asyncio.sleep(0.5)
                    for app in list(apps.values()):
                        with contextlib.suppress(ConnectionClosed):
                            await app.send({"type": "ping", "id": 1})

            for pid in ids:
                await dial(pid)
            pinger = asyncio.create_task(ping_all())
            held.callback(pinger.cancel)
            where = await nodes_of(apps)
            assert set(where.values()) == {"node-1", "node-2"}, where  # least_conn spreads

            origin = f"http://127.0.0.1:{cluster.port}"  # nginx passes Host with its port
            console_url = cluster.ws.replace("/ws/provider", "/ws/dashboard")
            token = control.hub.tokens.admin_token("console", int(time.time()))
            async with connect(console_url, additional_headers={"Origin": origin}) as panel:
                await panel.send(f'{{"type":"sign_in","token":"{token}"}}')
                await panel.send('{"type":"subscribe","topic":"dispatch"}')
                quiet_until = time.monotonic() + 5  # beyond nginx's 2 s read timeout
                kinds = set()
                while time.monotonic() < quiet_until:
                    async with asyncio.timeout(2):
                        kinds.add((await panel.recv())[:30])
                assert any("keepalive" in k for k in kinds), kinds
                tow = await scene.tow()
                async with asyncio.timeout(5):
                    while str(tow["id"]) not in await panel.recv():
                        pass

            os.kill(cluster.pids["node-1"], signal.SIGKILL)
            await cluster.until(r"node-1 exited with code -9")
            dropped = [pid for pid, node in where.items() if node == "node-1"]
            assert dropped
            for pid in dropped:
                async with asyncio.timeout(10):  # nginx drops it: no close frame
                    await apps[pid].ws.wait_closed()
                await dial(pid)  # through nginx, on the node still alive
            after = await nodes_of(apps)
            assert set(after.values()) == {"node-2"}, (where, after)

        cluster.process.send_signal(signal.SIGINT)
        await cluster.until(r"stopped", timeout=30)
        assert await cluster.process.wait() == 0
