"""``python -m bench search``: the new-event search box over a million beneficiaries.

Loads N fictional beneficiaries (valid CPFs, one vehicle each, old and Mercosul plates)
into SQLite and into PostgreSQL through the hub's own migrations, then times searches by
CPF, by plate (either format) and by a piece of a name through the records engines.
"""

from __future__ import annotations

import asyncio
import random
import time
from typing import Any

from bench.common import each_store, percentile, say
from hub.demo import cpf
from hub.operations.beneficiaries import NewPlan, search_kind
from hub.operations.clients import NewClient
from hub.operations.documents import folded, format_cpf
from hub.state.postgres import PostgresRecords
from hub.state.records import Records
from hub.state.rows import twin
from hub.state.sqlite import SqliteRecords

FIRST = (
    "Ana",
    "João",
    "Maria",
    "José",
    "Antônio",
    "Francisca",
    "Carlos",
    "Paulo",
    "Lúcia",
    "Pedro",
    "Luiz",
    "Marcos",
    "Gabriel",
    "Juliana",
    "Fernanda",
    "Rafael",
    "Beatriz",
    "Márcia",
    "Sérgio",
    "Patrícia",
    "Rodrigo",
    "Camila",
    "Thiago",
    "Aline",
    "Bruno",
)
LAST = (
    "Silva",
    "Santos",
    "Oliveira",
    "Souza",
    "Rodrigues",
    "Ferreira",
    "Alves",
    "Pereira",
    "Lima",
    "Gomes",
    "Costa",
    "Ribeiro",
    "Martins",
    "Carvalho",
    "Almeida",
    "Lopes",
    "Soares",
    "Fernandes",
    "Vieira",
    "Barbosa",
    "Rocha",
    "Dias",
    "Nascimento",
    "Andrade",
    "Moreira",
    "Nunes",
    "Marques",
    "Machado",
    "Mendes",
    "Freitas",
    "Conceição",
    "Araújo",
)


def plate(rng: random.Random) -> str:
    letters = "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ") for _ in range(3))
    middle = str(rng.randrange(10)) if rng.random() < 0.5 else rng.choice("ABCDEFGHIJ")
    return f"{letters}{rng.randrange(10)}{middle}{rng.randrange(10)}{rng.randrange(10)}"


def people(count: int) -> list[tuple[str, str, str]]:
    rng = random.Random(7)
    made, cpfs, plates = [], set(), set()
    while len(made) < count:
        c, p = cpf(rng), plate(rng)
        if c in cpfs or p in plates:
            continue
        cpfs.add(c)
        plates.add(p)
        name = f"{rng.choice(FIRST)} {rng.choice(LAST)} {rng.choice(LAST)}"
        made.append((name, c, p))
    return made


async def load(records: Records, rows: list[tuple[str, str, str]]) -> None:
    """Bulk insert straight into the tables the migrations made (the hub's add() goes
    one beneficiary per transaction)."""
    client = await records.clients.add(NewClient(name="Bench"), 0)
    plan = await records.plans.add(NewPlan(client_id=client.id, name="Bench", coverage={}))
    beneficiaries = [(client.id, plan.id, n, folded(n), c, "[]", "{}") for n, c, _ in rows]
    if isinstance(records, SqliteRecords):
        async with records.transaction() as db:
            await db.executemany(
                "INSERT INTO beneficiaries (client_id, plan_id, name, name_folded, cpf, phones,"
                " address) VALUES (?, ?, ?, ?, ?, ?, ?)",
                beneficiaries,
            )
            ids = [
                r[0]
                for r in await (
                    await db.execute("SELECT id FROM beneficiaries ORDER BY id")
                ).fetchall()
            ]
            await db.executemany(
                "INSERT INTO vehicles (beneficiary_id, plate, plate_twin, model, colour)"
                " VALUES (?, ?, ?, '', '')",
                [(i, p, twin(p)) for i, (_, _, p) in zip(ids, rows, strict=True)],
            )
        return
    assert isinstance(records, PostgresRecords)
    async with records.connection() as conn:
        await conn.copy_records_to_table(
            "beneficiaries",
            records=[(cid, pid, n, f, c, "[]", "{}") for cid, pid, n, f, c, _, _ in beneficiaries],
            columns=["client_id", "plan_id", "name", "name_folded", "cpf", "phones", "address"],
        )
        ids = [r[0] for r in await conn.fetch("SELECT id FROM beneficiaries ORDER BY id")]
        await conn.copy_records_to_table(
            "vehicles",
            records=[(i, p, twin(p), "", "") for i, (_, _, p) in zip(ids, rows, strict=True)],
            columns=["beneficiary_id", "plate", "plate_twin", "model", "colour"],
        )
        await conn.execute("ANALYZE")


async def timed(records: Records, terms: list[str]) -> list[float]:
    spent = []
    for term in terms:
        kind, canonical = search_kind(term)
        t0 = time.perf_counter()
        await records.beneficiaries.search(kind, canonical, limit=20)
        spent.append((time.perf_counter() - t0) * 1000)
    return spent


async def measure(records: Records, rows: list[tuple[str, str, str]]) -> dict[str, Any]:
    rng = random.Random(3)
    sample = rng.sample(rows, 300)
    cpfs = [format_cpf(c) if i % 2 else c for i, (_, c, _) in enumerate(sample)]
    plates = [p if i % 2 else twin(p) for i, (_, _, p) in enumerate(sample)]
    pieces = [rng.choice(n.split())[: rng.randint(3, 6)] for n, _, _ in sample]
    figures: dict[str, Any] = {}
    for name, terms in (("cpf", cpfs), ("plate", plates), ("name", pieces)):
        await timed(records, terms[:20])  # warm caches
        spent = await timed(records, terms)
        figures[f"{name}_p50_ms"] = round(percentile(spent, 0.5), 3)
        figures[f"{name}_p99_ms"] = round(percentile(spent, 0.99), 3)
    return figures


async def run(quick: bool) -> dict[str, Any]:
    count = 100_000 if quick else 1_000_000
    say(f"generating {count} beneficiaries")
    rows = people(count)
    results: dict[str, Any] = {}
    async for engine, records in each_store("search"):
        t0 = time.perf_counter()
        await load(records, rows)
        say(f"{engine}: loaded in {time.perf_counter() - t0:.0f} s; searching")
        results[engine] = await measure(records, rows)
    worst = {
        key: max(results[store][key] for store in results)
        for key in ("cpf_p99_ms", "plate_p99_ms", "name_p99_ms")
    }
    return {"scenario": "search", "beneficiaries": count, **worst, **results}


def main(quick: bool) -> dict[str, Any]:
    return asyncio.run(run(quick))
