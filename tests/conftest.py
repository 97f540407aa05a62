"""Shared fixtures: real engines (isolated per test) and a real uvicorn hub on port 0.

Redis and PostgreSQL are the real services at TEST_REDIS_URL / TEST_DATABASE_URL.  When one
does not answer, its tests are skipped with a loud reason, except under CI=true, where a
missing service fails the run.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import socket
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import asyncpg
import pytest
import redis.asyncio as aioredis
import uvicorn

from hub.cli import uvicorn_config
from hub.config import Settings
from hub.matching.index import COMPILED
from hub.state.memory import MemoryLive
from hub.state.postgres import PostgresRecords
from hub.state.redis import RedisLive
from hub.state.sqlite import SqliteRecords

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
IN_CI = os.environ.get("CI", "").lower() == "true"

_missing: dict[str, str] = {}


def _answers(url: str, default_port: int) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname, parsed.port or default_port), 1.0):
            return True
    except OSError:
        return False


def need(service: str) -> str:
    """The URL of a real service, or skip (fail under CI=true) with a loud reason."""
    url, port = {"redis": (REDIS_URL, 6379), "postgres": (DATABASE_URL, 5432)}[service]
    if not _answers(url, port):
        reason = f"{service} is not answering at {url}: start it, or these tests do not run"
        _lacking(service, reason)
    return url


def need_program(name: str, what: str) -> None:
    """Skip (fail under CI=true) when a program is not installed."""
    if not (shutil.which(name) or os.access(f"/usr/sbin/{name}", os.X_OK)):
        _lacking(name, f"{what} is not installed: its tests do not run")


def need_compiled(built: bool, source: str) -> None:
    """Skip (fail under CI=true) when a compiled module (``source``) was not built."""
    if not built:
        _lacking(
            f"compiled {source}",
            f"{source} was not compiled (no C compiler at install?): its tests do not run",
        )


def need_compiled_index() -> None:
    need_compiled(COMPILED, "hub/matching/ctree.pyx")


def _lacking(what: str, reason: str) -> None:
    _missing[what] = reason
    if IN_CI:
        pytest.fail(f"CI=true and {reason}")
    pytest.skip(f"SKIPPED, MISSING {what.upper()}: {reason}")


def pytest_terminal_summary(terminalreporter: Any) -> None:
    for reason in _missing.values():
        terminalreporter.write_line(f"WARNING: tests skipped because {reason}", red=True, bold=True)


# --- engines -----------------------------------------------------------------------------


@asynccontextmanager
async def postgres_schema() -> AsyncIterator[str]:
    """A fresh schema in the test database, dropped afterwards."""
    url = need("postgres")
    schema = f"t_{secrets.token_hex(6)}"
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(f'CREATE SCHEMA "{schema}"')
        yield schema
    finally:
        await conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
        await conn.close()


@asynccontextmanager
async def redis_prefix(private_url: str | None = None) -> AsyncIterator[str]:
    """A fresh key prefix in the test Redis; its keys are deleted afterwards (not in a
    private Redis, which goes with its test or session)."""
    prefix = f"t{secrets.token_hex(6)}"
    if private_url is not None:
        yield prefix
        return
    url = need("redis")
    yield prefix
    client = aioredis.from_url(url)
    try:
        keys = [key async for key in client.scan_iter(match=f"{prefix}:*", count=1000)]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()


@pytest.fixture(params=["sqlite", "postgres"])
async def records(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Any]:
    if request.param == "sqlite":
        store: Any = await SqliteRecords(str(tmp_path / "records.sqlite3")).open()
        await store.migrate()
        yield store
        await store.close()
        return
    async with postgres_schema() as schema:
        store = await PostgresRecords(need("postgres"), schema=schema, pool_size=4).open()
        await store.migrate()
        yield store
        await store.close()


@pytest.fixture(scope="session")
def redis_cluster_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real 3-primary Redis Cluster (tests/faults.py), started once for the session."""
    from tests.faults import RedisCluster

    cluster = RedisCluster(tmp_path_factory.mktemp("redis-cluster"))
    try:
        cluster.start()
        yield cluster.url
    finally:
        cluster.stop()


@pytest.fixture(params=["memory", "redis", "redis-cluster"])
async def live(request: pytest.FixtureRequest) -> AsyncIterator[Any]:
    if request.param == "memory":
        engine: Any = MemoryLive(stale_after_ms=1000)
        await engine.start()
        yield engine
        await engine.close()
        return
    url = request.getfixturevalue("redis_cluster_url") if request.param == "redis-cluster" else None
    async with redis_prefix(url) as prefix:
        engine = redis_live(prefix, "test-node", url=url)
        await engine.start()
        yield engine
        await engine.close()


def redis_live(prefix: str, node: str, url: str | None = None, **overrides: Any) -> RedisLive:
    """A Redis live-state engine with the tests' timings, as node ``node`` (not started), on
    the shared Redis or the one at ``url``."""
    settings: dict[str, Any] = {
        "stale_after_ms": 1000,
        "flush_interval_s": 0.02,
        "resolution": 9,
        "region_resolution": 3,
    }
    return RedisLive(url or need("redis"), prefix=prefix, node=node, **{**settings, **overrides})


# --- a real hub --------------------------------------------------------------------------


@dataclass
class RunningHub:
    settings: Settings
    port: int
    server: uvicorn.Server

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws/provider"

    @property
    def hub(self) -> Any:
        """The Services the lifespan built (engines, sessions, metrics)."""
        return self.server.lifespan.state["services"]


@asynccontextmanager
async def serve(settings: Settings, ws: str | None = None) -> AsyncIterator[RunningHub]:
    """Run the hub under real uvicorn on a free loopback port until the block ends (on
    another of uvicorn's websocket implementations than the hub's own, if ``ws`` names one)."""
    config = uvicorn_config(settings)
    if ws is not None:
        config.ws = ws
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    async with asyncio.timeout(15):
        while not server.started:
            if task.done():
                task.result()
                raise RuntimeError("uvicorn stopped before starting")
            await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield RunningHub(settings, port, server)
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 15)


@asynccontextmanager
async def engine_settings(kind: str, tmp_path: Path, **overrides: Any) -> AsyncIterator[Settings]:
    """Settings for an embedded (memory+sqlite) or distributed (redis+postgres) hub."""
    base: dict[str, Any] = {"host": "127.0.0.1", "port": 0, "log_level": "warning"}
    base.update(overrides)
    if kind == "embedded":
        base.setdefault("sqlite_path", str(tmp_path / "hub.sqlite3"))
        yield Settings(**base)
        return
    # a test's private instances (tests/faults.py), or the shared ones
    redis_url = base.pop("redis_url", None) or need("redis")
    database_url = base.pop("database_url", None) or need("postgres")
    async with postgres_schema() as schema, redis_prefix() as prefix:
        yield Settings(
            database_url=database_url,
            postgres_schema=schema,
            redis_url=redis_url,
            redis_prefix=prefix,
            live_flush_ms=20,
            **base,
        )


@pytest.fixture(params=["embedded", "distributed"])
def engine_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)
