"""Clients (with their partner establishments) and plans, one statement set for both
engines."""

from __future__ import annotations

from typing import Any

import msgspec

from hub.operations.beneficiaries import NewPlan, Plan
from hub.operations.clients import Client, NewClient, NewPartner, Partner
from hub.state.db import Db
from hub.state.rows import (
    PARTNER_COLUMNS,
    PLAN_COLUMNS,
    client_from,
    encode_json,
    partner_from,
    plan_from,
)


class Clients:
    def __init__(self, db: Db) -> None:
        self.db = db
        d = db.dialect
        self.columns = f"id, name, script, rules, active, {d.read_ms('clients', 'created_ms')}"
        self.insert = (
            "INSERT INTO clients (name, script, rules, active,"
            f" {d.column('clients', 'created_ms')})"
            f" VALUES (?, ?, ?, ?, {d.ms_value('clients', 'created_ms')}) RETURNING id"
        )

    async def add(self, new: NewClient, now_ms: int) -> Client:
        async with self.db.transaction() as tx:
            (row,) = await tx.fetch(
                self.insert, new.name, new.script, encode_json(new.rules), new.active, now_ms
            )
        found = await self.get(int(row["id"]))
        assert found is not None
        return found

    async def _many(self, where: str, *args: Any) -> list[Client]:
        rows = await self.db.fetch(f"SELECT {self.columns} FROM clients WHERE {where}", *args)
        return [client_from(row) for row in rows]

    async def get(self, client_id: int) -> Client | None:
        found = await self._many("id = ?", client_id)
        return found[0] if found else None

    async def replace(self, client_id: int, new: NewClient) -> Client | None:
        await self.db.execute(
            "UPDATE clients SET name = ?, script = ?, rules = ?, active = ? WHERE id = ?",
            new.name,
            new.script,
            encode_json(new.rules),
            new.active,
            client_id,
        )
        return await self.get(client_id)

    async def page(self, *, after_id: int = 0, limit: int = 100) -> list[Client]:
        return await self._many("id > ? ORDER BY id LIMIT ?", after_id, limit)

    async def add_partner(self, client_id: int, new: NewPartner) -> Partner:
        async with self.db.transaction() as tx:
            (row,) = await tx.fetch(
                "INSERT INTO partners (client_id, name, address, lat, lng)"
                " VALUES (?, ?, ?, ?, ?) RETURNING id",
                client_id,
                new.name,
                encode_json(new.address),
                new.lat,
                new.lng,
            )
        return Partner(id=int(row["id"]), client_id=client_id, **msgspec.structs.asdict(new))

    async def partners(self, client_id: int) -> list[Partner]:
        rows = await self.db.fetch(
            f"SELECT {PARTNER_COLUMNS} FROM partners WHERE client_id = ? ORDER BY name, id",
            client_id,
        )
        return [partner_from(row) for row in rows]


class Plans:
    def __init__(self, db: Db) -> None:
        self.db = db

    async def add(self, new: NewPlan) -> Plan:
        async with self.db.transaction() as tx:
            (row,) = await tx.fetch(
                "INSERT INTO plans (client_id, name, coverage) VALUES (?, ?, ?) RETURNING id",
                new.client_id,
                new.name,
                encode_json(new.coverage),
            )
        found = await self.get(int(row["id"]))
        assert found is not None
        return found

    async def get(self, plan_id: int) -> Plan | None:
        rows = await self.db.fetch(f"SELECT {PLAN_COLUMNS} FROM plans WHERE id = ?", plan_id)
        return plan_from(rows[0]) if rows else None

    async def of_client(self, client_id: int) -> list[Plan]:
        rows = await self.db.fetch(
            f"SELECT {PLAN_COLUMNS} FROM plans WHERE client_id = ? ORDER BY id", client_id
        )
        return [plan_from(row) for row in rows]
