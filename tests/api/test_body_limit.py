"""Bodies are bounded while they are read, per route, before any other work: a declared
length over the limit is refused unread, a streamed body is cut off past it, and the hub
holds no more than the limit (nothing stored, no token checked first)."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from tests.dispatch.scene import scene_on


@pytest.fixture
async def scene(tmp_path):
    async with scene_on("embedded", tmp_path) as s:
        yield s


async def raw_post(port: int, path: str, declared: int, sent: bytes) -> tuple[int, bytes]:
    """A POST that declares ``declared`` bytes and sends only ``sent``: the status line and
    body of the answer the hub gives without waiting for the rest."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Content-Length: {declared}\r\n\r\n".encode()
            + sent
        )
        await writer.drain()
        async with asyncio.timeout(5):
            head = await reader.readuntil(b"\r\n\r\n")
            length = int(
                next(
                    line.split(b":")[1]
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length")
                )
            )
            body = await reader.readexactly(length)
        return int(head.split()[1]), body
    finally:
        writer.close()


@pytest.mark.parametrize(
    ("path", "declared"),
    [
        ("/auth/login", 48 << 20),
        ("/portal/login", 5000),
        ("/ingest/osmand", 9000),
        ("/events", 2 << 20),
        ("/admin/providers/import", 11 << 20),
    ],
)
async def test_a_declared_length_over_the_limit_is_refused_unread(scene, path, declared):
    status, body = await raw_post(scene.running.port, path, declared, b'{"login":')
    assert status == 413
    assert b'"code":"body_too_large"' in body


async def test_a_streamed_body_is_cut_off_past_the_limit(scene):
    async def chunks():
        for _ in range(40):
            yield b" " * 1024  # 40 KiB, no declared length (chunked)

    async with httpx.AsyncClient(base_url=scene.running.http) as anonymous:
        answer = await anonymous.post("/auth/login", content=chunks())
    assert answer.status_code == 413
    assert answer.json()["error"]["code"] == "body_too_large"
    keyed = await scene.http.post(  # through the idempotency layer too
        f"/events/{scene.event_id}/attendances",
        content=chunks_of(2 << 20),
        headers={"Idempotency-Key": "big-one", "Content-Type": "application/json"},
    )
    assert keyed.status_code == 413


def chunks_of(total: int):
    async def gen():
        for _ in range(total // 65536 + 1):
            yield b" " * 65536

    return gen()


async def test_bodies_within_the_limit_still_work(scene):
    login = await scene.http.post("/auth/login", json={"login": "nobody", "password": "x" * 12})
    assert login.status_code == 401  # read and judged, not refused for size


async def test_an_unknown_service_is_not_echoed_back_whole(scene):
    query = {"origin": {"lat": -23.5, "lng": -46.6}, "service": "x" * 500_000}
    answer = await scene.http.post("/match", json=query)
    assert answer.status_code == 400
    assert len(answer.content) < 2000
