"""Simulated provider apps for ``bench offer``, in their own process.

``python -m bench.apps CONFIG.json``; the config names the hub's websocket URL, the apps
(provider id and token, nearest the origin first), the origin, a ready file and a stop
file.  Each app goes on duty near the origin and streams a fix every 10 s (online, never
idle).  It answers an offer at once by its temper: mostly accepts, sometimes refuses,
sometimes lets it expire.  When assigned it reports arrival and completion at once, so it
is free again.  When the stop file appears it prints one JSON line: the round trips (the
app sends its accept -> its assignment arrives) by attendance, the lags of the expiry
notices by offer, the offers seen and the error codes received.

The apps are phones: they share no event loop with the operator's side of the bench.
Each of its HTTP requests holds the driver's loop for a millisecond or so, which an app
waiting for its assignment in the same loop would wait out too.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec
import uvloop
import websockets

from hub.clock import now_ms

FIX_EVERY_S = 10


@dataclass
class Tally:
    offers_seen: list[int] = field(default_factory=list)
    rtt_ms: list[tuple[int, float]] = field(default_factory=list)  # (attendance, ms)
    notice_lag_ms: list[tuple[int, int]] = field(default_factory=list)  # (offer, ms)
    errors: dict[str, int] = field(default_factory=dict)


class App:
    """One simulated provider app."""

    def __init__(
        self,
        provider_id: int,
        token: str,
        here: tuple[float, float],
        temper: Callable[[], str],
        tally: Tally,
    ) -> None:
        self.provider_id, self.token, self.here = provider_id, token, here
        self.temper, self.tally = temper, tally
        self.sent_accept: dict[int, float] = {}
        self.deadlines: dict[int, int] = {}
        self.ready = asyncio.Event()

    async def run(self, url: str, stop: asyncio.Event) -> None:
        headers = {"Authorization": f"Bearer {self.token}"}
        async with websockets.connect(url, additional_headers=headers) as ws:
            await self.send(ws, {"type": "duty", "on": True})
            seq = 1
            await self.send(ws, {"type": "fixes", "fixes": [self.fix(seq)]})
            reader = asyncio.create_task(self.read(ws))
            while not stop.is_set():  # a real app streams GPS: online, never idle
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), FIX_EVERY_S)
                seq += 1
                await self.send(ws, {"type": "fixes", "fixes": [self.fix(seq)]})
            reader.cancel()

    def fix(self, seq: int) -> dict[str, Any]:
        lat, lng = self.here
        return {"seq": seq, "t": now_ms() - 100, "lat": lat, "lng": lng, "acc": 5.0}

    @staticmethod
    async def send(ws: Any, frame: dict[str, Any]) -> None:
        await ws.send(msgspec.json.encode(frame).decode())

    async def read(self, ws: Any) -> None:
        async for raw in ws:
            frame = msgspec.json.decode(raw)
            kind = frame["type"]
            if kind == "ack":
                self.ready.set()
            elif kind == "offer":
                await self.on_offer(ws, frame)
            elif kind == "assignment":
                sent = self.sent_accept.pop(frame["offer_id"], None)
                if sent is not None:
                    rtt = (time.perf_counter() - sent) * 1000
                    self.tally.rtt_ms.append((frame["attendance_id"], rtt))
                for step in ("arrive", "complete"):
                    await self.send(
                        ws, {"type": "step", "attendance_id": frame["attendance_id"], "step": step}
                    )
            elif kind == "offer_closed" and frame["state"] == "expired":
                deadline = self.deadlines.get(frame["offer_id"])
                if deadline is not None:
                    lag = max(0, now_ms() - deadline)
                    self.tally.notice_lag_ms.append((frame["offer_id"], lag))
            elif kind == "error":
                code = frame["code"]
                self.tally.errors[code] = self.tally.errors.get(code, 0) + 1

    async def on_offer(self, ws: Any, frame: dict[str, Any]) -> None:
        offer_id = frame["offer_id"]
        self.tally.offers_seen.append(offer_id)
        self.deadlines[offer_id] = frame["deadline"]
        temper = self.temper()
        if temper == "ignore":
            return
        if temper == "refuse":
            await self.send(ws, {"type": "refuse", "offer_id": offer_id, "reason": "busy"})
            return
        self.sent_accept[offer_id] = time.perf_counter()
        await self.send(ws, {"type": "accept", "offer_id": offer_id, "eta_min": 10})


def tempers(seed: int) -> Callable[[], str]:
    """How the apps answer offers, drawn from one seeded sequence (the same every run)."""
    chance = random.Random(seed)

    def temper() -> str:
        roll = chance.random()
        return "ignore" if roll < 0.15 else "refuse" if roll < 0.25 else "accept"

    return temper


async def main(path: str) -> None:
    config = msgspec.json.decode(Path(path).read_bytes())
    lat, lng = config["origin"]
    temper, tally, stop = tempers(7), Tally(), asyncio.Event()
    apps = [
        # nearest the origin first, a hundred metres apart
        App(pid, token, (lat + 0.001 * (i + 1), lng + random.uniform(-5e-4, 5e-4)), temper, tally)
        for i, (pid, token) in enumerate(config["apps"])
    ]
    running = [asyncio.create_task(app.run(config["url"], stop)) for app in apps]
    await asyncio.wait_for(asyncio.gather(*(app.ready.wait() for app in apps)), 30)
    Path(config["ready_file"]).write_text("")
    stop_file = Path(config["stop_file"])
    while not stop_file.exists():
        await asyncio.sleep(0.1)
    stop.set()
    await asyncio.gather(*running, return_exceptions=True)
    print(msgspec.json.encode(tally).decode(), flush=True)


if __name__ == "__main__":
    uvloop.run(main(sys.argv[1]))
