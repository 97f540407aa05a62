"""Load generator: N provider sessions over picows, in their own process.

``python -m bench.loadgen CONFIG.json``; the config names the URL, the tokens and the mode:
``stream`` (batched fixes, a window of frames in flight per session, for a fixed time) or
``hold`` (one fix every few seconds per session, for a fixed time).  Prints one JSON line.
"""

from __future__ import annotations

import asyncio
import random
import sys
import time
from collections import deque
from pathlib import Path
from typing import Any

import msgspec
import uvloop
from picows import WSFrame, WSListener, WSMsgType, WSTransport, ws_connect

BASE_LAT, BASE_LNG = -23.55, -46.63


class Session(WSListener):
    def __init__(self, gen: Generator, provider_id: int) -> None:
        self.gen = gen
        self.provider_id = provider_id
        self.transport: WSTransport | None = None
        self.next_seq = 1
        self.acked = 0
        self.inflight: deque[tuple[int, float]] = deque()
        self.welcomed = False
        self.closed = False
        self.lat = BASE_LAT + random.uniform(-0.3, 0.3)
        self.lng = BASE_LNG + random.uniform(-0.3, 0.3)

    def on_ws_connected(self, transport: WSTransport) -> None:
        self.transport = transport

    def on_ws_disconnected(self, transport: WSTransport) -> None:
        self.closed = True

    def on_ws_frame(self, transport: WSTransport, frame: WSFrame) -> None:
        if frame.msg_type == WSMsgType.CLOSE:
            self.gen.close_codes.append(int(frame.get_close_code()))
            return
        if frame.msg_type != WSMsgType.TEXT:
            return
        message = msgspec.json.decode(frame.get_payload_as_bytes())
        kind = message.get("type")
        if kind == "ack":
            self.on_ack(message["seq"])
        elif kind == "welcome":
            self.welcomed = True
        elif kind == "error":
            self.gen.errors[message["code"]] = self.gen.errors.get(message["code"], 0) + 1

    def on_ack(self, seq: int) -> None:
        now = time.perf_counter()
        self.acked = max(self.acked, seq)
        self.gen.last_ack = now
        while self.inflight and self.inflight[0][0] <= seq:
            _, sent = self.inflight.popleft()
            self.gen.latencies.append(now - sent)
        if self.gen.mode == "stream":
            self.pump()

    def pump(self) -> None:
        while self.gen.running and len(self.inflight) < self.gen.window:
            self.send(self.gen.batch)

    def send(self, count: int) -> None:
        if self.transport is None or self.closed:
            return
        first = self.next_seq
        base = self.gen.t0_ms
        fixes = [
            {
                "seq": s,
                "t": base + s * self.gen.step_ms,
                "lat": self.lat + s * 1e-7,
                "lng": self.lng,
                "acc": 5.0,
                "spd": 3.0,
                "hdg": 10.0,
            }
            for s in range(first, first + count)
        ]
        self.next_seq += count
        frame = {"type": "fixes", "fixes": fixes}
        self.transport.send(WSMsgType.TEXT, msgspec.json.encode(frame))
        self.inflight.append((self.next_seq - 1, time.perf_counter()))
        self.gen.sent += count


class Generator:
    def __init__(self, config: dict[str, Any]) -> None:
        self.config = config
        self.mode: str = config["mode"]
        self.batch: int = config.get("batch", 1)
        self.window: int = config.get("window", 1)
        self.step_ms: int = config.get("step_ms", 1)
        self.t0_ms = int(time.time() * 1000) - config.get("history_s", 60) * 1000
        self.running = False
        self.sessions: list[Session] = []
        self.latencies: list[float] = []
        self.errors: dict[str, int] = {}
        self.close_codes: list[int] = []
        self.sent = 0
        self.last_ack = 0.0

    async def connect_all(self) -> None:
        url = self.config["url"]
        pending = list(self.config["providers"])
        concurrency = self.config.get("connect_concurrency", 200)

        async def one(provider_id: int, token: str) -> None:
            session = Session(self, provider_id)
            await ws_connect(
                lambda: session,
                url,
                extra_headers={"Authorization": f"Bearer {token}"},
                websocket_handshake_timeout=30,
            )
            self.sessions.append(session)

        for start in range(0, len(pending), concurrency):
            await asyncio.gather(*(one(p, t) for p, t in pending[start : start + concurrency]))
            if start and start % 2000 == 0:
                sys.stderr.write(f"[loadgen] {start} sessions connected\n")
        deadline = time.monotonic() + 30
        while not all(s.welcomed for s in self.sessions) and time.monotonic() < deadline:
            await asyncio.sleep(0.05)

    async def stream(self, seconds: float) -> float:
        self.running = True
        start = time.perf_counter()
        for session in self.sessions:
            session.pump()
        await asyncio.sleep(seconds)
        self.running = False
        drain_until = time.monotonic() + 10
        while any(s.inflight for s in self.sessions) and time.monotonic() < drain_until:
            await asyncio.sleep(0.01)
        return max(self.last_ack - start, 1e-9)

    async def hold(self, seconds: float, interval_s: float) -> float:
        loop = asyncio.get_running_loop()
        self.running = True

        def tick(session: Session) -> None:
            if self.running and not session.closed:
                session.send(1)
                loop.call_later(interval_s, tick, session)

        for session in self.sessions:
            loop.call_later(random.uniform(0, interval_s), tick, session)
        start = time.perf_counter()
        await asyncio.sleep(seconds)
        report = self.config.get("report_file")
        if report:  # the orchestrator measures the hub while every session is still open
            Path(report).write_text(msgspec.json.encode(self.summary(1.0)).decode())
            while not Path(report + ".done").exists():
                await asyncio.sleep(0.1)
        self.running = False
        return time.perf_counter() - start

    def summary(self, elapsed: float) -> dict[str, Any]:
        ms = sorted(x * 1000 for x in self.latencies)

        def pct(q: float) -> float:
            return round(ms[min(len(ms) - 1, int(q * len(ms)))], 3) if ms else float("nan")

        return {
            "sessions": len(self.sessions),
            "welcomed": sum(s.welcomed for s in self.sessions),
            "open": sum(not s.closed for s in self.sessions),
            "sent_fixes": self.sent,
            "acked_fixes": sum(s.acked for s in self.sessions),
            "acked_by_provider": {s.provider_id: s.acked for s in self.sessions},
            "elapsed_s": round(elapsed, 3),
            "ack_p50_ms": pct(0.5),
            "ack_p99_ms": pct(0.99),
            "errors": self.errors,
            "close_codes": sorted(set(self.close_codes)),
        }

    async def close_all(self) -> None:
        for session in self.sessions:
            if session.transport is not None and not session.closed:
                session.transport.send_close()
                session.transport.disconnect()


async def main(path: str) -> None:
    config = msgspec.json.decode(Path(path).read_bytes())
    gen = Generator(config)
    await gen.connect_all()
    if config["mode"] == "stream":
        elapsed = await gen.stream(config["seconds"])
    else:
        elapsed = await gen.hold(config["seconds"], config.get("interval_s", 4.0))
    summary = gen.summary(elapsed)
    await gen.close_all()
    print(msgspec.json.encode(summary).decode(), flush=True)


if __name__ == "__main__":
    uvloop.run(main(sys.argv[1]))
