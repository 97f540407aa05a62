"""A small provider-app client for the tests: JSON or MessagePack over a real websocket."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import msgspec
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

Frame = dict[str, Any]


def now_ms() -> int:
    return int(time.time() * 1000)


def fixes(
    first_seq: int, count: int, *, t0: int | None = None, lat: float = -23.55, step_s: float = 1.0
) -> list[Frame]:
    """``count`` plausible fixes moving north ~10 m per step, ``step_s`` apart, ending now."""
    t0 = t0 if t0 is not None else now_ms() - int(count * step_s * 1000)
    return [
        {
            "seq": first_seq + i,
            "t": t0 + int(i * step_s * 1000),
            "lat": lat + i * 1e-4,
            "lng": -46.63,
            "acc": 5.0,
            "spd": 8.0,
            "hdg": 0.0,
        }
        for i in range(count)
    ]


class ProviderClient:
    def __init__(self, ws: ClientConnection, binary: bool) -> None:
        self.ws = ws
        self.binary = binary
        self.seen: list[Frame] = []

    @classmethod
    @asynccontextmanager
    async def connect(
        cls,
        url: str,
        token: str | None = None,
        *,
        header: bool = True,
        binary: bool = False,
        hello: bool = True,
    ) -> AsyncIterator[ProviderClient]:
        headers = {"Authorization": f"Bearer {token}"} if token and header else None
        async with connect(url, additional_headers=headers, max_size=2**20) as ws:
            client = cls(ws, binary)
            if token and not header and hello:
                await client.send({"type": "hello", "token": token, "app": "tests"})
            yield client

    async def send(self, frame: Frame | str | bytes) -> None:
        if isinstance(frame, (str, bytes)):
            await self.ws.send(frame)
        elif self.binary:
            await self.ws.send(msgspec.msgpack.encode(frame))
        else:
            await self.ws.send(msgspec.json.encode(frame).decode())

    async def recv(self, timeout: float = 5.0) -> Frame:
        data = await asyncio.wait_for(self.ws.recv(), timeout)
        frame: Frame = (
            msgspec.msgpack.decode(data) if isinstance(data, bytes) else msgspec.json.decode(data)
        )
        self.seen.append(frame)
        return frame

    async def until(self, predicate: Callable[[Frame], bool], timeout: float = 5.0) -> Frame:
        async with asyncio.timeout(timeout):
            while True:
                frame = await self.recv(timeout)
                if predicate(frame):
                    return frame

    async def welcome(self) -> Frame:
        return await self.until(lambda f: f["type"] == "welcome")

    async def acked(self, seq: int, timeout: float = 5.0) -> Frame:
        return await self.until(lambda f: f["type"] == "ack" and f["seq"] >= seq, timeout)

    async def error(self, code: str) -> Frame:
        return await self.until(lambda f: f["type"] == "error" and f["code"] == code)

    async def notice(self, code: str) -> Frame:
        return await self.until(lambda f: f["type"] == "notice" and f["code"] == code)

    async def closed(self, timeout: float = 5.0) -> int:
        """Read until the hub closes the socket; return the close code."""
        async with asyncio.timeout(timeout):
            try:
                while True:
                    await self.recv(timeout)
            except ConnectionClosed as exc:
                assert exc.rcvd is not None, "closed without a close frame"
                return exc.rcvd.code

    async def alive(self) -> None:
        """The socket still answers a ping."""
        await self.send({"type": "ping", "id": 42})
        await self.until(lambda f: f["type"] == "pong" and f["id"] == 42)
