"""The fault kit: services of the tests' own that a test may kill (never the shared ones)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import shutil
import socket
import subprocess
import time
from collections.abc import AsyncIterator
from pathlib import Path

import redis.asyncio as aioredis

from tests.conftest import _lacking
from tests.processes import free_port

OUTAGE_S = float(os.environ.get("TEST_OUTAGE_S", "0"))  # 0: as short as proves the point


async def rest_of_outage(down_since: float) -> None:
    """Hold an outage that started at ``down_since`` (monotonic) for TEST_OUTAGE_S."""
    await asyncio.sleep(max(0.0, down_since + OUTAGE_S - time.monotonic()))


class PrivateRedis:
    """A redis-server of this test's own, on its own port, without persistence (what a
    Redis restarted comes back with: nothing)."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        self.process = await asyncio.create_subprocess_exec(
            "redis-server",
            *("--port", str(self.port), "--bind", "127.0.0.1", "--save", ""),
            *("--appendonly", "no"),
            stdout=asyncio.subprocess.DEVNULL,
        )
        await _answering(self.url)

    async def kill(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.kill()
            await self.process.wait()


@contextlib.asynccontextmanager
async def private_redis() -> AsyncIterator[PrivateRedis]:
    if shutil.which("redis-server") is None:
        _lacking("redis-server", "redis-server is not installed: these fault tests do not run")
    instance = PrivateRedis()
    await instance.start()
    try:
        yield instance
    finally:
        await instance.kill()


class RedisCluster:
    """A real Redis Cluster of the tests' own: ``size`` primaries (no replicas), each a
    redis-server with --cluster-enabled on its own port and directory, joined by
    ``redis-cli --cluster create``; ``url`` names one of them, as a hub is configured.
    Started and stopped without an event loop, so one cluster can serve a whole session."""

    def __init__(self, workdir: Path, size: int = 3) -> None:
        self.workdir = workdir
        self.ports = [cluster_port() for _ in range(size)]
        self.url = f"redis://127.0.0.1:{self.ports[0]}/0"
        self.processes: list[subprocess.Popen[bytes]] = []

    def start(self) -> None:
        if shutil.which("redis-server") is None or shutil.which("redis-cli") is None:
            _lacking("redis-server", "redis-server and redis-cli are not installed")
        for port in self.ports:
            home = self.workdir / f"redis-{port}"
            home.mkdir(parents=True, exist_ok=True)
            self.processes.append(
                subprocess.Popen(
                    [
                        "redis-server",
                        *("--port", str(port), "--bind", "127.0.0.1", "--save", ""),
                        *("--appendonly", "no", "--cluster-enabled", "yes"),
                        *("--cluster-config-file", str(home / "nodes.conf"), "--dir", str(home)),
                    ],
                    stdout=subprocess.DEVNULL,
                )
            )
        for port in self.ports:
            self._until(port, "ping", "PONG")
        nodes = [f"127.0.0.1:{port}" for port in self.ports]
        subprocess.run(
            ["redis-cli", "--cluster", "create", *nodes, "--cluster-replicas", "0"],
            input=b"yes\n",
            capture_output=True,
            check=True,
            timeout=30,
        )
        for port in self.ports:
            self._until(port, "cluster info", "cluster_state:ok")

    @staticmethod
    def _until(port: int, command: str, answer: str, timeout_s: float = 20) -> None:
        deadline = time.monotonic() + timeout_s
        while True:
            said = subprocess.run(
                ["redis-cli", "-p", str(port), *command.split()], capture_output=True, check=False
            )
            if answer in said.stdout.decode():
                return
            assert time.monotonic() < deadline, f"redis {port}: no {answer!r} to {command!r}"
            time.sleep(0.05)

    def stop(self) -> None:
        for process in self.processes:
            process.kill()
            process.wait()


def cluster_port() -> int:
    """A free port whose cluster bus port (+10000) is free too (and below 65536)."""
    while True:
        port = random.randrange(20000, 40000)
        with contextlib.ExitStack() as held:
            try:
                for p in (port, port + 10000):
                    held.enter_context(socket.create_server(("127.0.0.1", p)))
            except OSError:
                continue
        return port


async def _answering(url: str) -> None:
    client = aioredis.from_url(url)
    try:
        async with asyncio.timeout(10):
            while True:
                with contextlib.suppress(OSError, aioredis.ConnectionError):
                    if await client.ping():
                        return
                await asyncio.sleep(0.02)
    finally:
        await client.aclose()


class TcpProxy:
    """A TCP proxy of the tests' own between a hub and a service (this kernel has no netem):
    ``mode`` "pass" forwards, "silent" keeps every connection open and forwards nothing
    either way (a link gone quiet), "reset" drops every connection, "refuse" closes new
    ones at once.  ``delay_s`` adds latency to every chunk forwarded."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.mode = "pass"
        self.delay_s = 0.0
        self.port = 0
        self._server: asyncio.Server | None = None
        self._links: set[asyncio.StreamWriter] = set()

    async def __aenter__(self) -> TcpProxy:
        self._server = await asyncio.start_server(self._link, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.reset()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    def reset(self) -> None:
        for writer in list(self._links):
            writer.transport.abort()
        self._links.clear()

    async def _link(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.mode in ("refuse", "reset"):
            writer.transport.abort()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.transport.abort()
            return
        self._links.update((writer, up_writer))
        await asyncio.gather(
            self._pipe(reader, up_writer), self._pipe(up_reader, writer), return_exceptions=True
        )

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                while self.mode == "silent":
                    await asyncio.sleep(0.05)
                if self.mode == "reset":
                    break
                if self.delay_s:
                    await asyncio.sleep(self.delay_s)
                writer.write(data)
                await writer.drain()
        finally:
            writer.transport.abort()
            self._links.discard(writer)


POSTGRESQL_ETC = Path("/etc/postgresql")  # Debian's clusters, one folder per version


class PrivatePostgres:
    """A PostgreSQL cluster of this test's own (pg_createcluster, trust on loopback), on
    its own port, that a test may stop and start again; dropped at the end."""

    def __init__(self) -> None:
        self.port = free_port()
        self.name = f"hubfault{self.port}"
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        self.version = sorted(p.name for p in POSTGRESQL_ETC.iterdir())[-1]

    async def _run(self, *command: str) -> None:
        done = await asyncio.to_thread(
            subprocess.run, list(command), capture_output=True, text=True, check=False
        )
        assert done.returncode == 0, f"{' '.join(command)}: {done.stderr}"

    async def create(self) -> None:
        await self._run(
            "pg_createcluster", self.version, self.name, "-p", str(self.port),
            "--", "--auth=trust",
        )  # fmt: skip
        await self.start()

    async def start(self) -> None:
        await self._run("pg_ctlcluster", self.version, self.name, "start")

    async def stop(self) -> None:
        await self._run("pg_ctlcluster", self.version, self.name, "stop", "-m", "fast")

    async def drop(self) -> None:
        await self._run("pg_dropcluster", "--stop", self.version, self.name)


@contextlib.asynccontextmanager
async def private_postgres() -> AsyncIterator[PrivatePostgres]:
    if shutil.which("pg_createcluster") is None:
        _lacking("pg_createcluster", "Debian's postgresql-common is not installed")
    instance = PrivatePostgres()
    await instance.create()
    try:
        yield instance
    finally:
        await instance.drop()
