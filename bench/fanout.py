"""``python -m bench fanout``: status changes fanned out to many console subscribers.

Two phases against the hub: saturation (every change as fast as the hub takes it: its
throughput against the bare baseline's, the latency then being queueing time), and paced
(50 changes a second for 20 s, GPS streaming meanwhile: the latency an operator sees,
``paced_update_p99_ms``).

N consoles (default 1,000, their own process, picows) subscribe to the tracking panel of a
hub process while GPS positions stream in; the driver assigns attendances by phone as fast
as the hub takes them, and each assignment is one tracking update for every subscriber.
``update`` latency: the driver's call -> the update's arrival at a subscriber.  In the
same run the baseline: the fastest bare broadcast server (bench/fanbare.py) sending the
same encoded bytes to the same number of subscribers, as fast as it can.
"""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import msgspec
from picows import WSFrame, WSListener, WSMsgType, WSTransport, ws_connect

from bench.common import (
    Child,
    engines,
    free_port,
    hub_process,
    providers_with_tokens,
    say,
    start_child,
)
from bench.ingest import drive
from bench.offer import DESTINATION, ORIGIN, admin_headers
from bench.offer import intake as offer_intake
from hub import wire

PACE_PER_S = 50.0  # the paced phase: a busy call centre's changes a second, GPS streaming


async def fan_clients(config: dict[str, Any], folder: Path) -> Child:
    """Start the subscriber process; returns once every console is in."""
    consoles = await start_child(
        "bench.fanclients", {**config, "sent_file": str(folder / "sent.json")}, folder, 120
    )
    await asyncio.sleep(1.0)  # the last snapshots are out
    return consoles


async def finish(consoles: Child, folder: Path, sent: dict[str, float]) -> dict[str, Any]:
    (folder / "sent.json").write_bytes(msgspec.json.encode(sent))
    return await consoles.stop()


async def hub_run(
    subscribers: int, changes: int, seconds: float, folder: Path, pace_per_s: float | None = None
) -> dict[str, Any]:
    """The hub's fan-out: ``changes`` assignments, as fast as the hub takes them or, with
    ``pace_per_s``, at that steady pace (what an operator's panel sees in a busy hour)."""
    async with engines("memory") as eng:
        env = {**eng.env, "HUB_DASHBOARD_QUEUE_BYTES": str(64 * 1024 * 1024)}
        streams = await providers_with_tokens(env, 200)
        port = free_port()
        with hub_process(env, port):
            base = f"http://127.0.0.1:{port}"
            async with httpx.AsyncClient(
                base_url=base, headers=await admin_headers(env), timeout=60
            ) as http:
                event_id, provider_id = await intake(http)
                say(f"registering {changes} attendances")
                ids = await register(http, event_id, changes)
                token = http.headers["authorization"].split()[1]
                say(f"{subscribers} consoles subscribing to the tracking panel")
                consoles = await fan_clients(
                    {
                        "url": f"ws://127.0.0.1:{port}/ws/dashboard",
                        "token": token,
                        "topic": "tracking",
                        "subscribers": subscribers,
                    },
                    folder,
                )
                how = f"{pace_per_s:g} a second" if pace_per_s else "as fast as the hub takes it"
                say(f"positions streaming; assigning by phone, {how}")
                gps = asyncio.create_task(
                    drive(
                        f"ws://127.0.0.1:{port}/ws/provider",
                        streams,
                        {"mode": "hold", "seconds": seconds, "interval_s": 1.0},
                    )
                )
                sent: dict[str, float] = {}
                gate = asyncio.Semaphore(8)

                async def assign(aid: int) -> None:
                    async with gate:
                        sent[f"{aid}:assigned"] = time.time()
                        done = await http.post(
                            f"/attendances/{aid}/verbal",
                            json={"provider_id": provider_id, "eta_min": 15},
                        )
                        done.raise_for_status()

                if pace_per_s is None:
                    await asyncio.gather(*(assign(aid) for aid in ids))
                else:
                    await paced(ids, pace_per_s, assign)
                await asyncio.sleep(2.0)  # the last updates arrive
                summary = await finish(consoles, folder, sent)
                gps.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await gps
    return summary


async def paced(ids: list[int], per_s: float, assign: Any) -> None:
    """One assignment every 1/per_s seconds on a fixed schedule (a slow answer does not
    delay the next)."""
    start, calls = time.monotonic(), []
    for i, aid in enumerate(ids):
        await asyncio.sleep(max(0.0, start + i / per_s - time.monotonic()))
        calls.append(asyncio.create_task(assign(aid)))
    await asyncio.gather(*calls)


async def intake(http: httpx.AsyncClient) -> tuple[int, int]:
    """bench offer's client, beneficiary and event, and a provider taken by phone."""
    event_id = await offer_intake(http, rules={})  # dispatch by hand
    provider = await http.post(
        "/admin/providers",
        json={
            "name": "Guincho",
            "phone": "+5511988880000",
            "profile": {"services": ["light_tow"], "channels": ["verbal"]},
        },
    )
    return event_id, int(provider.json()["id"])


async def register(http: httpx.AsyncClient, event_id: int, count: int) -> list[int]:
    body = {
        "kind": "assistance",
        "service": "light_tow",
        "requester_name": "Fan",
        "requester_phone": "11999990000",
        "origin": ORIGIN,
        "destination": DESTINATION,
    }
    gate = asyncio.Semaphore(8)

    async def one() -> int:
        async with gate:
            made = await http.post(f"/events/{event_id}/attendances", json=body)
            made.raise_for_status()
            return int(made.json()["id"])

    return list(await asyncio.gather(*(one() for _ in range(count))))


class Control(WSListener):
    def __init__(self) -> None:
        self.transport: WSTransport | None = None

    def on_ws_connected(self, transport: WSTransport) -> None:
        self.transport = transport

    def on_ws_frame(self, transport: WSTransport, frame: WSFrame) -> None:
        return


async def bare_run(subscribers: int, changes: int, folder: Path) -> dict[str, Any]:
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "bench.fanbare", str(port)], stdout=subprocess.PIPE
    )
    try:
        assert server.stdout is not None
        server.stdout.readline()
        url = f"ws://127.0.0.1:{port}/"
        consoles = await fan_clients(
            {"url": url, "token": "-", "topic": "tracking", "subscribers": subscribers}, folder
        )
        control = Control()
        transport, _ = await ws_connect(lambda: control, url)
        transport.send(WSMsgType.TEXT, b'{"type":"control"}')
        sent: dict[str, float] = {}
        for aid in range(1, changes + 1):
            sent[f"{aid}:assigned"] = time.time()
            transport.send(WSMsgType.TEXT, msgspec.json.encode(sample_update(aid)))
            if aid % 8 == 0:
                await asyncio.sleep(0)  # let the loop write
        await asyncio.sleep(2.0)
        summary = await finish(consoles, folder, sent)
        transport.disconnect()
        return summary
    finally:
        server.terminate()
        server.wait(10)


def sample_update(aid: int) -> wire.Update:
    """A tracking update the size of the hub's own."""
    now = int(time.time() * 1000)
    row = wire.PanelRow(
        attendance_id=aid,
        event_id=1,
        client_id=1,
        state="assigned",
        service="light_tow",
        district="Bela Vista",
        city="São Paulo",
        at_ms=now,
        scheduled_ms=None,
        attempts=1,
        automatic=False,
        dispatch_note="",
        provider_id=1,
        provider_name="Guincho",
        promised_ms=now + 900_000,
        current_eta_ms=None,
        late_risk=False,
    )
    return wire.Update(topic="tracking", offset=f"0-{aid}", row=row)


async def run(quick: bool, subscribers: int) -> dict[str, Any]:
    subscribers = min(subscribers, 200) if quick else subscribers
    changes = 200 if quick else 1000
    with tempfile.TemporaryDirectory(prefix="hub-fanout-") as tmp:
        folder = Path(tmp)
        say(f"baseline: bare broadcast to {subscribers} subscribers, {changes} updates")
        bare = await bare_run(subscribers, changes, folder)
        say(f"bare: {bare['msgs_per_s']} msgs/s")
        hub = await hub_run(subscribers, changes, 10.0 if quick else 30.0, folder)
        say(f"hub: {hub['msgs_per_s']} msgs/s")
        pace_s = 5.0 if quick else 20.0
        say(f"paced: {PACE_PER_S} changes a second for {pace_s:g} s")
        paced_hub = await hub_run(
            subscribers, int(PACE_PER_S * pace_s), pace_s + 5, folder, PACE_PER_S
        )
        say(f"paced: update p99 {paced_hub['p99_ms']} ms")
    return {
        "scenario": "fanout",
        "subscribers": hub["subscribers"],
        "changes": changes,
        "deliveries": hub["deliveries"],
        "expected_deliveries": changes * hub["subscribers"],
        "update_p50_ms": hub["p50_ms"],
        "update_p99_ms": hub["p99_ms"],
        "msgs_per_s": hub["msgs_per_s"],
        "bare_msgs_per_s": bare["msgs_per_s"],
        "ratio_vs_bare": round(hub["msgs_per_s"] / bare["msgs_per_s"], 3),
        "bare_update_p99_ms": bare["p99_ms"],
        "slow_consumers_cut": hub["cut"] + paced_hub["cut"],
        "paced_changes_per_s": PACE_PER_S,
        "paced_deliveries": paced_hub["deliveries"],
        "paced_expected_deliveries": int(PACE_PER_S * pace_s) * paced_hub["subscribers"],
        "paced_update_p50_ms": paced_hub["p50_ms"],
        "paced_update_p99_ms": paced_hub["p99_ms"],
    }


def main(quick: bool, subscribers: int) -> dict[str, Any]:
    return asyncio.run(run(quick, subscribers))
