"""``python -m bench cluster``: the same GPS load through nginx to one node, then to two
(`hub cluster` on Redis + PostgreSQL), with a trickle of offers made on one node for apps
whose sessions are on the other.

These machines have two cores, shared by the nodes, nginx, Redis, PostgreSQL and the load
generator, so two nodes cannot be faster than one here: the figure is efficiency, the CPU
one node spends per fix over what two spend (``efficiency_2_vs_1``: 1.0 means a second node
costs nothing extra per fix).  Every acked fix is looked up in the track store afterwards
(``lost_acked_fixes``), and every cross-node offer must reach its app.
"""

from __future__ import annotations

import asyncio
import os
import re
import socket
import subprocess
import sys
import time
from typing import Any

import httpx
import msgspec
from websockets.asyncio.client import ClientConnection, connect

from bench.common import bench_records, cpu_s, engines, free_port, providers_with_tokens, say
from bench.ingest import drive
from hub.config import load_settings
from hub.engines import token_issuer

TOW = {
    "kind": "assistance",
    "service": "light_tow",
    "requester_name": "Bench",
    "requester_phone": "11999990000",
    "origin": {
        "address": {"street": "Avenida Paulista", "city": "São Paulo"},
        "lat": -23.5614,
        "lng": -46.6559,
    },
    "destination": {
        "address": {"street": "Rua Augusta", "city": "São Paulo"},
        "lat": -23.556,
        "lng": -46.66,
    },
}


class Cluster:
    """`hub cluster` as a child: its nginx port and its nodes' pids and ports."""

    def __init__(self, env: dict[str, str], nodes: int) -> None:
        self.port = free_port()
        while any(_taken(self.port + i) for i in range(1, nodes + 1)):
            self.port = free_port()
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "hub",
                "cluster",
                "--nodes",
                str(nodes),
                "--port",
                str(self.port),
            ],
            env={**os.environ, "HUB_LOG_LEVEL": "warning", "HUB_DRAIN_S": "0", **env},
            stdout=subprocess.PIPE,
            text=True,
        )
        self.nodes: dict[str, tuple[int, int]] = {}  # name -> (pid, port)
        assert self.process.stdout is not None
        for line in self.process.stdout:
            if found := re.search(
                r"(node-\d+) ready at http://127.0.0.1:(\d+) \(pid (\d+)\)", line
            ):
                self.nodes[found[1]] = (int(found[3]), int(found[2]))
            if "nodes behind" in line:
                return
        raise RuntimeError(f"hub cluster exited with {self.process.wait()}")

    def cpu_s(self) -> float:
        return sum(cpu_s(pid) for pid, _ in self.nodes.values())

    def stop(self) -> None:
        self.process.send_signal(2)  # SIGINT: drains (0 s here) and stops every node
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()


def _taken(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


class Offers:
    """The trickle: apps connected through nginx, and offers made, one at a time, on a node
    other than the one holding the app's session (direct to that node's port) when there
    is one: with a single node, on it."""

    def __init__(self, cluster: Cluster, admin: str) -> None:
        self.cluster = cluster
        self.headers = {"Authorization": f"Bearer {admin}"}
        self.http = httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{cluster.port}", headers=self.headers, timeout=10
        )
        self.apps: dict[int, ClientConnection] = {}
        self.made = self.delivered = 0  # cross-node ones
        self.all_made = self.all_delivered = 0
        self.event_id = 0

    async def setup(self, count: int) -> None:
        http = self.http
        client = (await http.post("/clients", json={"name": "Bench"})).json()
        plan = (
            await http.post(
                "/plans",
                json={"client_id": client["id"], "name": "P", "coverage": {"light_tow": {}}},
            )
        ).json()
        person = (
            await http.post(
                "/beneficiaries",
                json={
                    "client_id": client["id"],
                    "plan_id": plan["id"],
                    "name": "Bench",
                    "cpf": "52998224725",
                },
            )
        ).json()
        event = (
            await http.post(
                "/events",
                json={"beneficiary_id": person["beneficiary"]["id"], "type": "out_of_fuel"},
            )
        ).json()
        self.event_id = event["event"]["id"]
        url = f"ws://127.0.0.1:{self.cluster.port}/ws/provider"
        for i in range(count):
            made = (
                await http.post(
                    "/admin/providers",
                    json={
                        "name": f"Offer app {i}",
                        "phone": "+5511988880000",
                        "profile": {"services": ["light_tow"], "channels": ["app"]},
                    },
                )
            ).json()
            token = (await http.post(f"/admin/providers/{made['id']}/token")).json()["token"]
            ws = await connect(url, additional_headers={"Authorization": f"Bearer {token}"})
            await ws.recv()  # welcome
            self.apps[made["id"]] = ws

    async def trickle(self, until: float) -> None:
        """An offer every 200 ms to an app on another node than the one asked."""
        nodes = self.cluster.nodes
        while time.monotonic() < until:
            for pid, ws in self.apps.items():
                if time.monotonic() >= until:
                    return
                live = (await self.http.get(f"/admin/providers/{pid}/live")).json()
                owner = (live["presence"]["owner"] or {}).get("node")
                if owner is None:
                    await asyncio.sleep(0.2)
                    continue
                others = [port for name, (_, port) in nodes.items() if name != owner]
                target = (others or [nodes[owner][1]])[0]
                tow = (
                    await self.http.post(f"/events/{self.event_id}/attendances", json=TOW)
                ).json()
                made = await self.http.post(
                    f"http://127.0.0.1:{target}/attendances/{tow['id']}/offers",
                    json={"provider_id": pid, "mode": "app"},
                )
                await asyncio.sleep(0.2)
                if made.status_code != 201:
                    continue
                got = await _received(ws, made.json()["id"])
                self.all_made += 1
                self.all_delivered += got
                if others:
                    self.made += 1
                    self.delivered += got

    async def close(self) -> None:
        for ws in self.apps.values():
            await ws.close()
        await self.http.aclose()


async def _received(ws: ClientConnection, offer_id: int) -> bool:
    try:
        async with asyncio.timeout(5):
            while True:
                frame = msgspec.json.decode(await ws.recv())
                if frame.get("type") == "offer" and frame["offer_id"] == offer_id:
                    return True
    except TimeoutError:
        return False


async def phase(
    env: dict[str, str],
    nodes: int,
    providers: list[tuple[int, str]],
    opts: dict[str, Any],
    admin: str,
) -> dict[str, Any]:
    say(f"{nodes} node(s) behind nginx: {len(providers)} sessions x {opts['seconds']} s")
    cluster = Cluster(env, nodes)
    offers = Offers(cluster, admin)
    try:
        await offers.setup(4)
        before = cluster.cpu_s()
        load = asyncio.create_task(
            drive(f"ws://127.0.0.1:{cluster.port}/ws/provider", providers, opts)
        )
        await offers.trickle(time.monotonic() + opts["seconds"])
        result = await load
        spent = cluster.cpu_s() - before
    finally:
        await offers.close()
        cluster.stop()
    fixes = result["acked_fixes"]
    say(
        f"{nodes} node(s): {fixes / result['elapsed_s']:.0f} fixes/s, "
        f"{1e6 * spent / fixes:.2f} us of CPU per fix, "
        f"offers delivered {offers.all_delivered}/{offers.all_made}"
    )
    return {"result": result, "cpu_us_per_fix": 1e6 * spent / fixes, "offers": offers}


async def run(quick: bool) -> dict[str, Any]:
    sessions, seconds = (50, 5.0) if quick else (200, 15.0)
    opts = {"seconds": seconds, "batch": 20, "window": 2, "step_ms": 1, "history_s": 100}
    async with engines("redis") as eng:
        env = {**eng.env, "HUB_MAX_FIXES_PER_S": "1000000", "HUB_FIX_BURST": "1000000"}
        say(f"registering {2 * sessions} providers (each phase its own)")
        providers = await providers_with_tokens(env, 2 * sessions)
        async with bench_records(env) as records:
            admin = (await token_issuer(load_settings(env), records)).admin_token(
                "bench", int(time.time())
            )
        one = await phase(env, 1, providers[:sessions], opts, admin)
        two = await phase(env, 2, providers[sessions:], opts, admin)
        say("checking every acked fix in the track store")
        async with bench_records(env) as records:
            stored = {pid: await records.tracks.count([pid]) for pid, _ in providers}
    acked: dict[int, int] = {}
    for p in (one, two):
        for k, v in p["result"]["acked_by_provider"].items():
            acked[int(k)] = acked.get(int(k), 0) + v
    lost = sum(max(0, n - stored.get(pid, 0)) for pid, n in acked.items())
    return {
        "scenario": "cluster",
        "sessions": sessions,
        "seconds": seconds,
        "fixes_per_s_1": round(one["result"]["acked_fixes"] / one["result"]["elapsed_s"]),
        "fixes_per_s_2": round(two["result"]["acked_fixes"] / two["result"]["elapsed_s"]),
        "hub_cpu_us_per_fix_1": round(one["cpu_us_per_fix"], 2),
        "hub_cpu_us_per_fix_2": round(two["cpu_us_per_fix"], 2),
        "efficiency_2_vs_1": round(one["cpu_us_per_fix"] / two["cpu_us_per_fix"], 3),
        "ack_p99_ms_1": one["result"]["ack_p99_ms"],
        "ack_p99_ms_2": two["result"]["ack_p99_ms"],
        "acked_fixes": sum(acked.values()),
        "lost_acked_fixes": lost,
        "offers_delivered_1": one["offers"].all_delivered,
        "offers_made_1": one["offers"].all_made,
        "cross_node_offers_made": two["offers"].made,
        "cross_node_offers_delivered": two["offers"].delivered,
        "errors": {**one["result"]["errors"], **two["result"]["errors"]},
    }


def main(quick: bool) -> dict[str, Any]:
    return asyncio.run(run(quick))
