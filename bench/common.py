"""What the scenarios share: engines to run against, a hub subprocess, percentiles."""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import msgspec
import redis.asyncio as aioredis

from hub.config import load_settings
from hub.engines import open_records, token_issuer
from hub.operations import registry
from hub.operations.providers import NewProvider
from hub.state.records import Records

REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")


def say(message: str) -> None:
    """Progress goes to stderr; stdout is kept for the final JSON line."""
    sys.stderr.write(f"[bench] {message}\n")
    sys.stderr.flush()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


@dataclass
class Engines:
    """HUB_* variables for one engine pair, isolated from anything else on the services."""

    kind: str
    env: dict[str, str] = field(default_factory=dict)


@asynccontextmanager
async def engines(kind: str) -> AsyncIterator[Engines]:
    if kind == "memory":
        with tempfile.TemporaryDirectory(prefix="hub-bench-") as folder:
            yield Engines(kind, {"HUB_SQLITE_PATH": str(Path(folder) / "bench.sqlite3")})
        return
    schema, prefix = f"bench_{secrets.token_hex(4)}", f"bench{secrets.token_hex(4)}"
    conn = await asyncpg.connect(DATABASE_URL)
    try:
        await conn.execute(f'CREATE SCHEMA "{schema}"')
        yield Engines(
            kind,
            {
                "HUB_DATABASE_URL": DATABASE_URL,
                "HUB_POSTGRES_SCHEMA": schema,
                "HUB_REDIS_URL": REDIS_URL,
                "HUB_REDIS_PREFIX": prefix,
            },
        )
    finally:
        await conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
        await conn.close()
        client = aioredis.from_url(REDIS_URL)
        keys = [k async for k in client.scan_iter(match=f"{prefix}:*", count=1000)]
        for start in range(0, len(keys), 1000):
            await client.delete(*keys[start : start + 1000])
        await client.aclose()


@asynccontextmanager
async def bench_records(env: dict[str, str]) -> AsyncIterator[Records]:
    records = await open_records(load_settings(env))
    try:
        yield records
    finally:
        await records.close()


async def each_store(name: str) -> AsyncIterator[tuple[str, Records]]:
    """A fresh, migrated records store of each engine, one after the other: SQLite in a
    temporary folder, then PostgreSQL in a schema of its own, dropped afterwards."""
    from hub.state.postgres import PostgresRecords
    from hub.state.sqlite import SqliteRecords

    with tempfile.TemporaryDirectory(prefix="hub-bench-") as folder:
        sqlite = await SqliteRecords(str(Path(folder) / f"{name}.sqlite3")).open()
        try:
            await sqlite.migrate()
            yield "sqlite", sqlite
        finally:
            await sqlite.close()
    schema = f"bench_{name}_{secrets.token_hex(4)}"
    conn = await asyncpg.connect(DATABASE_URL)
    try:
        postgres = await PostgresRecords(DATABASE_URL, schema=schema).open()
        try:
            await postgres.migrate()
            yield "postgres", postgres
        finally:
            await postgres.close()
    finally:
        await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        await conn.close()


async def providers_with_tokens(env: dict[str, str], count: int) -> list[tuple[int, str]]:
    """Register ``count`` providers (one transaction per thousand) and issue their tokens."""
    async with bench_records(env) as records:
        tokens = await token_issuer(load_settings(env), records)
        made: list[tuple[int, str]] = []
        for start in range(0, count, 1000):
            news = [
                NewProvider(name=f"Bench {i}", phone="+5511900000000")
                for i in range(start, min(count, start + 1000))
            ]
            for p in await registry.register_many(records, news):
                made.append((p.id, tokens.provider_token(p.id, p.token_version, int(time.time()))))
        return made


@contextlib.contextmanager
def hub_process(env: dict[str, str], port: int) -> Iterator[subprocess.Popen[bytes]]:
    """`hub serve` as a child process on loopback, stopped at the end."""
    process = subprocess.Popen(
        [sys.executable, "-m", "hub", "serve", "--host", "127.0.0.1", "--port", str(port)],
        env={**os.environ, "HUB_LOG_LEVEL": "warning", "HUB_DRAIN_S": "0", **env},
        stdout=subprocess.DEVNULL,
    )
    try:
        wait_ready(f"http://127.0.0.1:{port}/readyz", process)
        yield process
    finally:
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def wait_ready(url: str, process: subprocess.Popen[bytes], timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"hub exited with {process.returncode} before it was ready")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, timeout=1).status_code == 200:
                return
        time.sleep(0.1)
    raise RuntimeError(f"hub not ready at {url} after {timeout_s} s")


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for pid {pid}")


def cpu_s(pid: int, tid: int | None = None) -> float:
    """CPU time (user + system) a process, or one of its threads, has used so far."""
    path = f"/proc/{pid}/task/{tid}/stat" if tid is not None else f"/proc/{pid}/stat"
    fields = Path(path).read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Child:
    """A helper process started by ``start_child``: stopped through its stop file."""

    def __init__(self, result: asyncio.Task[str], stop_file: Path) -> None:
        self.result, self.stop_file = result, stop_file

    async def stop(self) -> dict[str, Any]:
        """Ask it to stop; the JSON line it printed."""
        self.stop_file.write_text("")
        return dict(msgspec.json.decode(await self.result))


async def start_child(
    module: str, config: dict[str, Any], folder: Path, timeout_s: float = 60
) -> Child:
    """Run ``python -m module CONFIG.json`` (the provider apps, the consoles) with the
    ready-file and stop-file handshake: the config gets ``ready_file`` and ``stop_file``;
    the child writes the ready file once it is set up, and prints one JSON line and exits
    once the stop file appears.  Returns once it is ready; if it dies first, says why."""
    ready, stop = folder / "ready", folder / "stop"
    for f in (ready, stop):
        f.unlink(missing_ok=True)
    path = folder / f"{module}.json"
    path.write_bytes(
        msgspec.json.encode({**config, "ready_file": str(ready), "stop_file": str(stop)})
    )
    result = asyncio.create_task(run_child(module, str(path)))
    async with asyncio.timeout(timeout_s):
        while not ready.exists():
            if result.done():
                await result  # raises its failure
                raise RuntimeError(f"{module} exited before it was ready")
            await asyncio.sleep(0.1)
    return Child(result, stop)


async def run_child(module: str, *args: str) -> str:
    """Run ``python -m module args`` and return its last stdout line."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", module, *args, stdout=asyncio.subprocess.PIPE
    )
    try:
        out, _ = await process.communicate()
    except asyncio.CancelledError:  # the scenario is done with it: stop it quietly
        process.kill()
        await process.wait()
        raise
    if process.returncode != 0:
        raise RuntimeError(f"{module} failed with exit code {process.returncode}")
    return out.decode().strip().splitlines()[-1]
