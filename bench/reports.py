"""``python -m bench reports``: the Relatórios page over a large centre's 90 days.

Loads 1,000,000 attendances (100,000 with ``--quick``) with their events, offers and logs,
spread over 90 days, 20 clients and 300 providers, into SQLite and into PostgreSQL through
the hub's own migrations, then times every query the report page makes
(hub/state/reports.py: the summary's, the provider table's, the client table's) for
30-day periods, with no filter and with each filter, by day and by hour.
``report_p99_ms`` is the p99 over those queries, per store; ``page_p99_ms`` the p99 of the
whole page (summary, providers and clients one after the other), for the record.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Iterator, Sequence
from typing import Any

from bench.common import each_store, percentile, say
from hub.demo import demo_providers
from hub.operations import registry
from hub.operations.beneficiaries import NewPlan
from hub.operations.clients import NewClient
from hub.operations.reports import Bucket, ReportQuery
from hub.state.postgres import PostgresRecords
from hub.state.records import Records
from hub.state.reports import Reports
from hub.state.sqlite import SqliteRecords

DAY = 86_400_000
MIN = 60_000
SERVICES = ("light_tow", "heavy_tow", "taxi", "locksmith", "tyre_change", "battery_jump")
CLIENTS, BENEFICIARIES, PROVIDERS = 20, 20_000, 300
CHUNK = 50_000
ORIGIN = (
    '{"address":{"street":"Avenida Paulista","number":"1000","city":"São Paulo"},'
    '"lat":-23.56,"lng":-46.65}'
)


class Timed:
    """The records' Db, timing each query the reports make."""

    def __init__(self, db: Any) -> None:
        self.db = db
        self.dialect = db.dialect
        self.spent: list[float] = []

    async def fetch(self, sql: str, *args: Any) -> Any:
        t0 = time.perf_counter()
        rows = await self.db.fetch(sql, *args)
        self.spent.append((time.perf_counter() - t0) * 1000)
        return rows


def chunks(
    count: int, end_ms: int, clients: list[int], providers: list[int]
) -> Iterator[dict[str, list[tuple[Any, ...]]]]:
    """The rows of ``count`` attendances, ``CHUNK`` at a time: each with its event, 1-3
    offers (the last accepted unless cancelled), and its log; ids are the fresh tables'."""
    rng = random.Random(11)
    offer_id = 0
    for first in range(1, count + 1, CHUNK):
        rows: dict[str, list[tuple[Any, ...]]] = {
            "events": [],
            "attendances": [],
            "offers": [],
            "log": [],
        }
        for aid in range(first, min(first + CHUNK, count + 1)):
            client = rng.choice(clients)
            beneficiary = rng.randrange(1, BENEFICIARIES + 1)
            at = end_ms - rng.randrange(90 * DAY)
            service = rng.choice(SERVICES)
            cancelled = rng.random() < 0.06
            avulso = rng.random() < 0.05
            intake = at - rng.randrange(2 * MIN, 12 * MIN)
            rows["events"].append(
                (
                    client,
                    beneficiary,
                    "out_of_fuel",
                    "",
                    "closed",
                    intake - 5 * MIN,
                    intake,
                    "user:1",
                )
            )
            refusals = rng.choice((0, 0, 0, 1, 2))
            provider = assigned = promised = arrived = finished = rating = price = None
            log = [
                (aid, at, "user:1", "create", "awaiting_dispatch", '{"state":"awaiting_dispatch"}')
            ]
            t = at + rng.randrange(MIN, 4 * MIN)
            for _ in range(refusals):
                offer_id += 1
                pid = rng.choice(providers)
                rows["offers"].append(
                    (
                        aid,
                        pid,
                        "app",
                        "refused",
                        t,
                        t + MIN,
                        t + 30_000,
                        None,
                        "busy",
                        10.0,
                        "system",
                        f"provider:{pid}",
                        client,
                        service,
                    )
                )
                log.append((aid, t + 30_000, f"provider:{pid}", "refused", "", "{}"))
                t += MIN
            state = "cancelled"
            if not cancelled:
                provider = rng.choice(providers)
                eta = rng.randrange(15, 60)
                assigned = t + rng.randrange(10_000, 50_000)
                promised = assigned + eta * MIN
                arrived = assigned + rng.randrange(10 * MIN, 75 * MIN)
                finished = arrived + rng.randrange(15 * MIN, 60 * MIN)
                rating = rng.choice((None, None, 3, 4, 5, 5))
                price = rng.randrange(8_000, 40_000) if avulso else None
                rows["offers"].append(
                    (
                        aid,
                        provider,
                        "app",
                        "accepted",
                        t,
                        t + MIN,
                        assigned,
                        eta,
                        "",
                        10.0,
                        "system",
                        f"provider:{provider}",
                        client,
                        service,
                    )
                )
                log += [
                    (aid, assigned, f"provider:{provider}", "assign", "", "{}"),
                    (aid, assigned + MIN, f"provider:{provider}", "depart", "", "{}"),
                    (aid, arrived, f"provider:{provider}", "arrive", "", "{}"),
                    (aid, finished, f"provider:{provider}", "complete", "", "{}"),
                ]
                state = "completed"
            else:
                log.append(
                    (
                        aid,
                        t + 5 * MIN,
                        "user:1",
                        "cancel",
                        rng.choice(("desistiu", "resolveu sozinho", "demora")),
                        "{}",
                    )
                )
            rows["attendances"].append(
                (
                    aid,
                    beneficiary,
                    "assistance",
                    service,
                    avulso,
                    "",
                    "Bench",
                    "11999990000",
                    "",
                    at,
                    None,
                    ORIGIN,
                    None,
                    "",
                    None,
                    state,
                    "user:1",
                    client,
                    provider,
                    assigned,
                    promised,
                    arrived,
                    finished,
                    False,
                    None,
                    "",
                    price,
                    rating,
                )
            )
            rows["log"] += log
        yield rows


COLUMNS = {
    "events": (
        "client_id",
        "beneficiary_id",
        "type",
        "notes",
        "state",
        "opened_ms",
        "intake_done_ms",
        "opened_by",
    ),
    "attendances": (
        "event_id",
        "beneficiary_id",
        "kind",
        "service",
        "avulso",
        "avulso_reason",
        "requester_name",
        "requester_phone",
        "notes",
        "at_ms",
        "scheduled_ms",
        "origin",
        "destination",
        "police_report",
        "last_seen",
        "state",
        "created_by",
        "client_id",
        "provider_id",
        "assigned_ms",
        "promised_ms",
        "arrived_ms",
        "finished_ms",
        "automatic",
        "due_ms",
        "dispatch_note",
        "price_cents",
        "rating",
    ),
    "offers": (
        "attendance_id",
        "provider_id",
        "mode",
        "state",
        "created_ms",
        "deadline_ms",
        "decided_ms",
        "eta_min",
        "reason",
        "radius_km",
        "created_by",
        "decided_by",
        "client_id",
        "service",
    ),
    "log": ("attendance_id", "at_ms", "actor", "action", "detail", "facts"),
}
TABLES = {
    "events": "events",
    "attendances": "attendances",
    "offers": "offers",
    "log": "attendance_log",
}


async def bulk(records: Records, name: str, rows: Sequence[tuple[Any, ...]]) -> None:
    table, columns = TABLES[name], COLUMNS[name]
    if isinstance(records, SqliteRecords):
        marks = ", ".join("?" * len(columns))
        async with records.transaction() as tx:
            await tx.executemany(
                f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows
            )
        return
    assert isinstance(records, PostgresRecords)
    async with records.connection() as conn:
        await conn.copy_records_to_table(table, records=rows, columns=list(columns))


async def load(records: Records, count: int, end_ms: int) -> None:
    """Bulk insert straight into the tables the migrations made (through the hub, a
    million attendances would take hours of decisions)."""
    clients = [
        (await records.clients.add(NewClient(name=f"Cliente {i:02}"), 0)).id for i in range(CLIENTS)
    ]
    plan = await records.plans.add(NewPlan(client_id=clients[0], name="Bench", coverage={}))
    people = [
        (clients[i % CLIENTS], plan.id, f"B{i}", f"b{i}", f"{i:011d}", "[]", "{}")
        for i in range(BENEFICIARIES)
    ]
    cols = "client_id, plan_id, name, name_folded, cpf, phones, address"
    if isinstance(records, SqliteRecords):
        async with records.transaction() as tx:
            await tx.executemany(
                f"INSERT INTO beneficiaries ({cols}) VALUES (?, ?, ?, ?, ?, ?, ?)", people
            )
    else:
        assert isinstance(records, PostgresRecords)
        async with records.connection() as conn:
            await conn.copy_records_to_table(
                "beneficiaries", records=people, columns=cols.split(", ")
            )
    providers = [
        p.id
        for p in await registry.register_many(records, demo_providers(random.Random(5), PROVIDERS))
    ]
    done = 0
    for rows in chunks(count, end_ms, clients, providers):
        for name in ("events", "attendances", "offers", "log"):
            await bulk(records, name, rows[name])
        done += len(rows["attendances"])
        say(f"  {done:,} attendances loaded")
    if isinstance(records, PostgresRecords):
        async with records.connection() as conn:
            await conn.execute("VACUUM ANALYZE")  # index-only scans need the visibility map
    else:
        await records.execute("ANALYZE")


def queries(end_ms: int, clients: int) -> list[ReportQuery]:
    """30-day periods ending at different days, with each filter, by day and by hour."""
    rng = random.Random(17)
    made = []
    for i in range(12):
        to_ms = end_ms - rng.randrange(0, 55) * DAY
        base = ReportQuery(from_ms=to_ms - 30 * DAY, to_ms=to_ms, offset_ms=-3 * 3_600_000)
        kind = i % 6
        if kind == 1:
            base = ReportQuery(**{**_fields(base), "client_id": rng.randrange(1, clients + 1)})
        elif kind == 2:
            base = ReportQuery(**{**_fields(base), "service": rng.choice(SERVICES)})
        elif kind == 3:
            base = ReportQuery(**{**_fields(base), "provider_id": rng.randrange(1, PROVIDERS + 1)})
        elif kind == 4:
            base = ReportQuery(**{**_fields(base), "bucket": Bucket.HOUR})
        made.append(base)
    return made


def _fields(q: ReportQuery) -> dict[str, Any]:
    return {f: getattr(q, f) for f in q.__struct_fields__}


async def measure(records: Records, end_ms: int) -> dict[str, Any]:
    timed = Timed(records)
    reports = Reports(timed)  # type: ignore[arg-type]  # a Db as far as fetch goes
    pages: list[float] = []
    plan = queries(end_ms, CLIENTS)
    for warm in plan[:2]:
        await reports.facts(warm)
    timed.spent.clear()
    for q in plan:
        t0 = time.perf_counter()
        await reports.facts(q)
        await reports.providers(q)
        await reports.clients(q)
        pages.append((time.perf_counter() - t0) * 1000)
    kpis = await kpi_refreshes(records, end_ms)
    return {
        "queries": len(timed.spent),
        "kpi_refresh_p50_ms": round(percentile(kpis, 0.5), 2),
        "kpi_refresh_p99_ms": round(percentile(kpis, 0.99), 2),
        "report_p50_ms": round(percentile(timed.spent, 0.5), 1),
        "report_p99_ms": round(percentile(timed.spent, 0.99), 1),
        "page_p50_ms": round(percentile(pages, 0.5), 1),
        "page_p99_ms": round(percentile(pages, 0.99), 1),
    }


async def kpi_refreshes(records: Records, end_ms: int, count: int = 200) -> list[float]:
    """What dispatch reads after each decision that changes a provider's figures (its
    answered offers, arrivals and ratings of 90 days), timed for random providers."""
    providers = [p.id for p in await records.providers.page(after_id=0, limit=PROVIDERS)]
    pick = random.Random(7)
    spent = []
    for _ in range(count):
        t0 = time.perf_counter()
        await records.dispatch.kpis(end_ms, pick.choice(providers))
        spent.append((time.perf_counter() - t0) * 1000)
    return spent


async def run(quick: bool) -> dict[str, Any]:
    count = 100_000 if quick else 1_000_000
    end_ms = int(time.time() * 1000)
    results: dict[str, Any] = {}
    async for engine, records in each_store("reports"):
        t0 = time.perf_counter()
        say(f"{engine}: loading {count:,} attendances over 90 days")
        await load(records, count, end_ms)
        say(f"{engine}: loaded in {time.perf_counter() - t0:.0f} s; timing the report queries")
        results[engine] = await measure(records, end_ms)
    worst = {
        key: max(results[store][key] for store in results)
        for key in ("report_p99_ms", "page_p99_ms", "kpi_refresh_p99_ms")
    }
    return {
        "scenario": "reports",
        "attendances": count,
        "days": 90,
        "period_days": 30,
        **worst,
        **results,
    }


def main(quick: bool) -> dict[str, Any]:
    return asyncio.run(run(quick))
