"""``python -m bench offer``: the offer round trip under automatic dispatch, and deadlines.

A hub process on the chosen engines; simulated provider apps in their own process
(bench/apps.py: websocket sessions, on duty, near the origin) that accept most offers,
refuse some and ignore a few (those expire and the cascade moves on).  Attendances are
registered concurrently for a client with automatic dispatch, from this process; each
assigned app reports arrival and completion at once, so it is free again.

- ``offer_rtt``: the app sends its accept -> the app receives its assignment.  The hub
  sends the assignment after the accept is committed and its log entry published on the
  status stream, so this is "accept processed and visible on the status stream".
- the baseline, in the same run: a bare websocket echo round trip (the picows server of
  bench/bare.py) plus one single-row conditional UPDATE committed in the same records
  store (``AcceptWork``), before the hub starts, one at a time at the pace the quiet
  phase's accepts come (``ratio_p99_vs_baseline``).  The same work is timed back to back
  too (``baseline_back_to_back``), for the record: accepts never come that way, and on
  these VMs an fdatasync right after another costs a fraction of one after a gap
  (``python -m bench fsync``).
- ``deadline_lag``: an offer's deadline -> its expiry decided in the store (the offer's
  ``decided_ms``), while a load generator streams GPS fixes into the same hub as fast as it
  acks them.  ``expiry_notice_lag`` adds the trip of ``offer_closed`` to the ignoring app.

``lost_offers``: offers the store holds for an app that the app never received, plus offers
still pending long after their deadline.  ``double_assignments``: attendances with more
than one accepted offer.
"""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import msgspec
import uvloop
import websockets

from bench.common import (
    DATABASE_URL,
    bench_records,
    engines,
    free_port,
    hub_process,
    percentile,
    providers_with_tokens,
    say,
    start_child,
)
from bench.ingest import drive
from hub.clock import now_ms
from hub.config import load_settings
from hub.engines import token_issuer
from hub.operations import registry
from hub.operations.providers import Channel, DispatchProfile, NewProvider

ORIGIN = {
    "address": {"street": "Avenida Paulista", "district": "Bela Vista", "city": "São Paulo"},
    "lat": -23.5614,
    "lng": -46.6559,
}
DESTINATION = {"address": {"street": "Rua Augusta"}, "lat": -23.556, "lng": -46.66}
DEADLINE_S = 2
OFFER_SQL = "UPDATE bench_accept SET state = 'pending' WHERE id = ? AND state = 'new'"
ACCEPT_SQL = "UPDATE bench_accept SET state = 'accepted' WHERE id = ? AND state = 'pending'"


async def register_apps(env: dict[str, str], count: int) -> list[tuple[int, str]]:
    profile = DispatchProfile(services=frozenset({"light_tow"}), channels=frozenset({Channel.APP}))
    async with bench_records(env) as records:
        tokens = await token_issuer(load_settings(env), records)
        news = [
            NewProvider(name=f"App {i}", phone="+5511900000000", profile=profile)
            for i in range(count)
        ]
        made = await registry.register_many(records, news)
        return [
            (p.id, tokens.provider_token(p.id, p.token_version, int(time.time()))) for p in made
        ]


async def admin_headers(env: dict[str, str]) -> dict[str, str]:
    async with bench_records(env) as records:
        tokens = await token_issuer(load_settings(env), records)
        return {"Authorization": f"Bearer {tokens.admin_token('bench', int(time.time()))}"}


AUTOMATIC = {"automatic": True, "offer_deadline_s": DEADLINE_S, "max_attempts": 10}


async def intake(http: httpx.AsyncClient, rules: dict[str, Any] = AUTOMATIC) -> int:
    """A client with these dispatch rules, a beneficiary, an open event: the event's id."""
    client = (await http.post("/clients", json={"name": "Bench", "rules": rules})).json()
    plan = await http.post(
        "/plans", json={"client_id": client["id"], "name": "P", "coverage": {"light_tow": {}}}
    )
    ben = await http.post(
        "/beneficiaries",
        json={
            "client_id": client["id"],
            "plan_id": plan.json()["id"],
            "name": "Bench",
            "cpf": "52998224725",
        },
    )
    event = await http.post(
        "/events", json={"beneficiary_id": ben.json()["beneficiary"]["id"], "type": "other"}
    )
    return int(event.json()["event"]["id"])


# --- the baseline ------------------------------------------------------------------------


class AcceptWork:
    """The irreducible work of an accept: a bare websocket echo round trip (the picows
    server of bench/bare.py) plus one conditional single-row UPDATE committed in the same
    records store (a table in the hub's SQLite file or PostgreSQL schema), timed as one.

    Before each, untimed, the offer it answers is committed (another conditional UPDATE
    of the row), as the hub commits an offer just before the app's accept comes.  SQLite
    is driven straight from this loop's thread (``sqlite3``, no thread trips), PostgreSQL
    in one round trip per statement."""

    def __init__(self, env: dict[str, str], rows: int) -> None:
        self.settings = load_settings(env)
        self.rows = rows
        self.done = 0

    async def __aenter__(self) -> AcceptWork:
        port = free_port()
        self.echo = subprocess.Popen(
            [sys.executable, "-m", "bench.bare", str(port)], stdout=subprocess.PIPE
        )
        assert self.echo.stdout is not None
        self.echo.stdout.readline()
        self.ws = await websockets.connect(f"ws://127.0.0.1:{port}/")
        new_rows = [(i,) for i in range(self.rows)]
        if self.settings.database_url:
            self.pg = await asyncpg.connect(
                DATABASE_URL, server_settings={"search_path": self.settings.postgres_schema}
            )
            await self.pg.execute("CREATE TABLE bench_accept (id bigint PRIMARY KEY, state text)")
            await self.pg.executemany("INSERT INTO bench_accept VALUES ($1, 'new')", new_rows)
        else:
            self.db = sqlite3.connect(self.settings.sqlite_path, isolation_level=None)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=FULL")
            self.db.execute("CREATE TABLE bench_accept (id INTEGER PRIMARY KEY, state TEXT)")
            self.db.executemany("INSERT INTO bench_accept VALUES (?, 'new')", new_rows)
        return self

    async def _commit(self, sql: str, row: int) -> None:
        if self.settings.database_url:
            await self.pg.execute(sql.replace("?", "$1"), row)
        else:
            self.db.execute("BEGIN IMMEDIATE")
            self.db.execute(sql, (row,))
            self.db.execute("COMMIT")

    async def once(self) -> float:
        """The offer committed, then one echo and one committed UPDATE, in milliseconds."""
        row, self.done = self.done, self.done + 1
        await self._commit(OFFER_SQL, row)
        start = time.perf_counter()
        await self.ws.send(msgspec.json.encode({"type": "ping", "id": row}).decode())
        await self.ws.recv()
        await self._commit(ACCEPT_SQL, row)
        return (time.perf_counter() - start) * 1000

    async def __aexit__(self, *exc: object) -> None:
        await self.ws.close()
        if self.settings.database_url:
            await self.pg.execute("DROP TABLE bench_accept")
            await self.pg.close()
        else:
            self.db.execute("DROP TABLE bench_accept")
            self.db.close()
        self.echo.terminate()
        self.echo.wait(10)


# --- the run ----------------------------------------------------------------------------------


async def run(engine: str, quick: bool) -> dict[str, Any]:
    # The quiet phase times the round trip: its p99 and the baseline's are taken over
    # hundreds of samples (over 200, a p99 is the second-largest and jumps run to run).
    apps_n, quiet_n, loaded_n, per_s = (30, 40, 40, 10.0) if quick else (100, 600, 200, 20.0)
    back_to_back_n, baseline_n = (200, 100) if quick else (1000, 400)
    ingest_sessions = 20 if quick else 50
    async with engines(engine) as eng:
        env = {**eng.env, "HUB_MAX_FIXES_PER_S": "1000000", "HUB_FIX_BURST": "1000000"}
        say(f"engine {engine}: registering {apps_n} provider apps, {ingest_sessions} GPS streams")
        registered = await register_apps(env, apps_n)
        streams = await providers_with_tokens(env, ingest_sessions)
        say("baseline: bare websocket echo + one conditional UPDATE committed, back to back")
        async with AcceptWork(env, back_to_back_n + baseline_n) as work:
            back_to_back = [await work.once() for _ in range(back_to_back_n)]
            say(f"the same, one every {1000 / per_s:g} ms, as the quiet phase's accepts come")
            baseline = []
            for _ in range(baseline_n):
                await asyncio.sleep(1 / per_s)
                baseline.append(await work.once())
        port = free_port()
        with hub_process(env, port), tempfile.TemporaryDirectory() as folder:
            ws_url = f"ws://127.0.0.1:{port}/ws/provider"
            say(f"{apps_n} provider apps going on duty, in their own process")
            apps = await start_child(
                "bench.apps",
                {"url": ws_url, "apps": registered, "origin": (ORIGIN["lat"], ORIGIN["lng"])},
                Path(folder),
            )
            async with httpx.AsyncClient(
                base_url=f"http://127.0.0.1:{port}", headers=await admin_headers(env), timeout=30
            ) as http:
                event_id = await intake(http)
                say(f"quiet phase: {quiet_n} attendances, {per_s:g} per second")
                quiet_ids = set(await register_many(http, event_id, quiet_n, per_s))
                offers = await settle(http, event_id, quiet_ids)
                say(f"loaded phase: the same while {ingest_sessions} sessions stream GPS")
                seconds = 10.0 if quick else 25.0
                ingest = asyncio.create_task(
                    drive(
                        ws_url,
                        streams,
                        {
                            "seconds": seconds,
                            "batch": 20,
                            "window": 2,
                            "step_ms": 1,
                            "history_s": 100,
                        },
                    )
                )
                await asyncio.sleep(1.5)  # the streams are connected and pumping
                loaded_ids = set(await register_many(http, event_id, loaded_n, per_s))
                offers += await settle(http, event_id, loaded_ids)
                ingested = await ingest
            tally = await apps.stop()
    rtt: dict[str, list[float]] = {"quiet": [], "loaded": []}
    for attendance_id, ms in tally["rtt_ms"]:
        rtt["quiet" if attendance_id in quiet_ids else "loaded"].append(ms)
    loaded_offers = {o["id"] for o in offers if o["attendance_id"] in loaded_ids}
    notice_lags = [float(ms) for o, ms in tally["notice_lag_ms"] if o in loaded_offers]
    seen = set(tally["offers_seen"])
    late = now_ms() - 5_000
    lost = sum(o["mode"] == "app" and o["id"] not in seen for o in offers) + sum(
        o["state"] == "pending" and o["deadline_ms"] < late for o in offers
    )
    accepted: dict[int, int] = {}
    for o in offers:
        if o["state"] == "accepted":
            accepted[o["attendance_id"]] = accepted.get(o["attendance_id"], 0) + 1
    # deadline -> the expiry decided in the store, in each phase
    lags = [
        (o["attendance_id"], o["decided_ms"] - o["deadline_ms"])
        for o in offers
        if o["state"] == "expired"
    ]
    quiet_lags = [float(lag) for aid, lag in lags if aid in quiet_ids]
    loaded_lags = [float(lag) for aid, lag in lags if aid in loaded_ids]
    rtt_p99 = percentile(rtt["quiet"], 0.99)
    say(f"slowest offer round trips (ms): {[round(x, 2) for x in sorted(rtt['quiet'])[-5:]]}")
    say(f"slowest baseline round trips (ms): {[round(x, 2) for x in sorted(baseline)[-5:]]}")
    base_p99, back_to_back_p99 = percentile(baseline, 0.99), percentile(back_to_back, 0.99)
    return {
        "scenario": "offer",
        "engine": engine,
        "apps": apps_n,
        "attendances": quiet_n + loaded_n,
        "offers": len(offers),
        "offer_rtt_p50_ms": round(percentile(rtt["quiet"], 0.5), 3),
        "offer_rtt_p99_ms": round(rtt_p99, 3),
        "baseline_rtt_p50_ms": round(percentile(baseline, 0.5), 3),
        "baseline_rtt_p99_ms": round(base_p99, 3),
        "ratio_p99_vs_baseline": round(rtt_p99 / base_p99, 3),
        "baseline_back_to_back_rtt_p50_ms": round(percentile(back_to_back, 0.5), 3),
        "baseline_back_to_back_rtt_p99_ms": round(back_to_back_p99, 3),
        "ratio_p99_vs_back_to_back_baseline": round(rtt_p99 / back_to_back_p99, 3),
        "offer_rtt_loaded_p99_ms": round(percentile(rtt["loaded"], 0.99), 3),
        "assignments": len(accepted),
        "double_assignments": sum(n > 1 for n in accepted.values()),
        "lost_offers": lost,
        "expired_offers": sum(o["state"] == "expired" for o in offers),
        "deadline_lag_p50_ms": round(percentile(loaded_lags, 0.5), 3),
        "deadline_lag_p99_ms": round(percentile(loaded_lags, 0.99), 3),
        "deadline_lag_quiet_p99_ms": round(percentile(quiet_lags, 0.99), 3),
        "expiry_notice_lag_p99_ms": round(percentile(notice_lags, 0.99), 3),
        "ingest_fixes_per_s_during": round(ingested["acked_fixes"] / ingested["elapsed_s"]),
        "errors": tally["errors"],
    }


async def register_many(
    http: httpx.AsyncClient, event_id: int, count: int, per_s: float
) -> list[int]:
    """Register ``count`` attendances at a steady ``per_s`` (a busy call centre's pace,
    sped up), each dispatched at once: many cascades run at the same time."""
    body = {
        "kind": "assistance",
        "service": "light_tow",
        "requester_name": "Bench",
        "requester_phone": "11999990000",
        "origin": ORIGIN,
        "destination": DESTINATION,
    }
    ids: list[int] = []

    async def one() -> None:
        made = await http.post(f"/events/{event_id}/attendances", json=body)
        made.raise_for_status()
        ids.append(made.json()["id"])

    tasks = []
    for _ in range(count):
        tasks.append(asyncio.create_task(one()))
        await asyncio.sleep(1 / per_s)
    await asyncio.gather(*tasks)
    return ids


async def settle(http: httpx.AsyncClient, event_id: int, ids: set[int]) -> list[dict[str, Any]]:
    """Wait until no attendance is still offering; every offer, for the checks.  One
    request a second for the whole event: a request per attendance would load the hub
    while the last accepts are timed."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        listed = (await http.get(f"/events/{event_id}/attendances")).json()["attendances"]
        mine = [a["state"] for a in listed if a["id"] in ids]
        done, waiting = mine.count("completed"), mine.count("offering")
        say(f"{done} attendances completed; {waiting} still offering")
        if not waiting:
            break
        await asyncio.sleep(1.0)
    offers: list[dict[str, Any]] = []
    for i in ids:
        offers += (await http.get(f"/attendances/{i}/offers")).json()["offers"]
    return offers


def main(engine: str, quick: bool) -> dict[str, Any]:
    return uvloop.run(run(engine, quick))  # the apps' side as lean as the hub's
