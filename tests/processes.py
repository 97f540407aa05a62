"""Hub nodes as real `hub serve` processes, for tests that need more than one or a kill -9."""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import socket
import sys
from typing import Any

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def free_ports_in_a_row(count: int) -> int:
    """The first of ``count`` consecutive free ports."""
    while True:
        first = random.randrange(20000, 60000)
        with contextlib.ExitStack() as held:
            try:
                for port in range(first, first + count):
                    held.enter_context(socket.create_server(("127.0.0.1", port)))
            except OSError:
                continue
        return first


def environment(settings: Any, **extra: str) -> dict[str, str]:
    """The HUB_* variables that put a process on the same engines as ``settings``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
    for name in ("sqlite_path", "database_url", "postgres_schema", "redis_url", "redis_prefix"):
        value = getattr(settings, name)
        if value:
            env[f"HUB_{name.upper()}"] = str(value)
    env["HUB_LOG_LEVEL"] = "warning"
    env["HUB_DRAIN_S"] = "0"  # stopped at once unless a test drains on purpose
    env.update(extra)
    return env


async def start(env: dict[str, str], port: int) -> asyncio.subprocess.Process:
    """Start a hub process and wait until /readyz answers 200."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "hub", "serve", "--port", str(port), env=env
    )
    async with asyncio.timeout(20), httpx.AsyncClient() as http:
        while True:
            try:
                if (await http.get(f"http://127.0.0.1:{port}/readyz")).status_code == 200:
                    return process
            except httpx.HTTPError:
                await asyncio.sleep(0.05)


async def stop(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        process.terminate()
        await process.wait()
