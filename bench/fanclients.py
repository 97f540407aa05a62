"""Dashboard subscribers for ``bench fanout``: N sockets in their own process (picows).

``python -m bench.fanclients CONFIG.json``: connects N consoles to the URL, signs each in
and subscribes it to the topic (the bare server ignores both), records when each update
arrives and for which change ``(attendance id, state)``, until the file ``stop`` names
exists; then reads the driver's send times (``sent``: a JSON map "id:state" -> epoch s)
and prints one JSON line: deliveries, latency percentiles, messages per second.
"""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path
from typing import Any

import msgspec
import uvloop
from picows import WSFrame, WSListener, WSMsgType, WSTransport, ws_connect


class Row(msgspec.Struct):
    attendance_id: int
    state: str


class Frame(msgspec.Struct):
    type: str
    row: Row | None = None


_decode = msgspec.json.Decoder(Frame).decode


class Console(WSListener):
    def __init__(self, fan: Fan) -> None:
        self.fan = fan
        self.closed_code: int | None = None

    def on_ws_connected(self, transport: WSTransport) -> None:
        transport.send(WSMsgType.TEXT, self.fan.sign_in)
        transport.send(WSMsgType.TEXT, self.fan.subscribe)

    def on_ws_frame(self, transport: WSTransport, frame: WSFrame) -> None:
        if frame.msg_type == WSMsgType.CLOSE:
            self.closed_code = int(frame.get_close_code())
            return
        if frame.msg_type != WSMsgType.TEXT:
            return
        now = time.time()
        message = _decode(frame.get_payload_as_bytes())
        if message.type == "snapshot":
            self.fan.ready += 1
        elif message.type == "update" and message.row is not None:
            self.fan.received.append((message.row.attendance_id, message.row.state, now))


class Fan:
    def __init__(self, config: dict[str, Any]) -> None:
        self.config = config
        self.sign_in = msgspec.json.encode({"type": "sign_in", "token": config["token"]})
        self.subscribe = msgspec.json.encode({"type": "subscribe", "topic": config["topic"]})
        self.received: list[tuple[int, str, float]] = []
        self.ready = 0
        self.consoles: list[Console] = []

    async def connect(self) -> None:
        async def one() -> None:
            console = Console(self)
            await ws_connect(lambda: console, self.config["url"], websocket_handshake_timeout=30)
            self.consoles.append(console)

        for start in range(0, self.config["subscribers"], 100):
            count = min(100, self.config["subscribers"] - start)
            await asyncio.gather(*(one() for _ in range(count)))
        Path(self.config["ready_file"]).write_text(str(len(self.consoles)))

    def summary(self, sent: dict[str, float]) -> dict[str, Any]:
        latencies = sorted(
            (t - sent[f"{aid}:{state}"]) * 1000
            for aid, state, t in self.received
            if f"{aid}:{state}" in sent
        )

        def pct(q: float) -> float:
            if not latencies:
                return float("nan")
            return round(latencies[min(len(latencies) - 1, int(q * len(latencies)))], 3)

        first = min(sent.values()) if sent else 0.0
        last = max((t for _, _, t in self.received), default=first)
        return {
            "subscribers": len(self.consoles),
            "deliveries": len(self.received),
            "matched": len(latencies),
            "p50_ms": pct(0.5),
            "p99_ms": pct(0.99),
            "msgs_per_s": round(len(self.received) / max(last - first, 1e-9)),
            "cut": sum(c.closed_code == 4008 for c in self.consoles),
        }


async def main(path: str) -> None:
    config = msgspec.json.decode(Path(path).read_bytes())
    fan = Fan(config)
    await fan.connect()
    stop = Path(config["stop_file"])
    while not stop.exists():
        await asyncio.sleep(0.05)
    sent = msgspec.json.decode(Path(config["sent_file"]).read_bytes())
    print(msgspec.json.encode(fan.summary(sent)).decode(), flush=True)


if __name__ == "__main__":
    uvloop.run(main(sys.argv[1]))
