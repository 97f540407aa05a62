"""Beneficiaries with their vehicles, and their search, one statement set for both
engines (the name search's substring index is the dialect's)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hub.operations.beneficiaries import Beneficiary, NewBeneficiary, SearchKind
from hub.state.db import IDS_AT_ONCE, Db, marks
from hub.state.rows import (
    BENEFICIARY_COLUMNS,
    VEHICLE_COLUMNS,
    beneficiaries_from,
    beneficiary_row,
    merged_names,
    vehicle_rows,
)


class Beneficiaries:
    def __init__(self, db: Db) -> None:
        self.db = db

    async def add(self, new: NewBeneficiary) -> Beneficiary:
        return (await self.add_many([new]))[0]

    async def add_many(self, news: Sequence[NewBeneficiary]) -> list[Beneficiary]:
        ids = []
        async with self.db.transaction() as tx:
            for new in news:
                (row,) = await tx.fetch(
                    "INSERT INTO beneficiaries (client_id, plan_id, name, name_folded, cpf,"
                    " phones, address, active_from_ms, active_until_ms)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                    *beneficiary_row(new),
                )
                beneficiary_id = int(row["id"])
                ids.append(beneficiary_id)
                await tx.executemany(
                    "INSERT INTO vehicles (beneficiary_id, plate, plate_twin, model, year,"
                    " colour) VALUES (?, ?, ?, ?, ?, ?)",
                    vehicle_rows(beneficiary_id, new),
                )
        found: dict[int, Beneficiary] = {}
        for start in range(0, len(ids), IDS_AT_ONCE):
            part = ids[start : start + IDS_AT_ONCE]
            for b in await self._load(f"id IN ({marks(len(part))})", *part, limit=len(part)):
                found[b.id] = b
        return [found[i] for i in ids]

    async def _load(
        self, where: str, *args: Any, limit: int = 20, order: str = "name_folded, id"
    ) -> list[Beneficiary]:
        rows = await self.db.fetch(
            f"SELECT {BENEFICIARY_COLUMNS} FROM beneficiaries WHERE {where}"
            f" ORDER BY {order} LIMIT ?",
            *args,
            limit,
        )
        if not rows:
            return []
        vehicles = await self.db.fetch(
            f"SELECT {VEHICLE_COLUMNS} FROM vehicles"
            f" WHERE beneficiary_id IN ({marks(len(rows))}) ORDER BY id",
            *(r["id"] for r in rows),
        )
        return beneficiaries_from(rows, vehicles)

    async def get(self, beneficiary_id: int) -> Beneficiary | None:
        found = await self._load("id = ?", beneficiary_id)
        return found[0] if found else None

    async def search(
        self, kind: SearchKind, term: str, *, client_id: int | None = None, limit: int = 20
    ) -> list[Beneficiary]:
        scope, args = ("", ()) if client_id is None else (" AND client_id = ?", (client_id,))
        if kind is SearchKind.CPF:
            return await self._load("cpf = ?" + scope, term, *args, limit=limit)
        if kind is SearchKind.PLATE:
            return await self._load(
                "id IN (SELECT beneficiary_id FROM vehicles WHERE plate = ? OR plate_twin = ?)"
                + scope,
                term,
                term,
                *args,
                limit=limit,
            )
        # Names starting with the piece first, in name order, from the name index; then
        # names containing it, a bounded handful from the substring index (sorting every
        # match of a common piece would read thousands of rows to show twenty).
        d = self.db.dialect
        starting = await self._load(
            f"name_folded{d.binary} >= ? AND name_folded{d.binary} < ?" + scope,
            term,
            term + "\U0010ffff",
            *args,
            limit=limit,
            order=f"name_folded{d.binary}, id",
        )
        if len(starting) >= limit:
            return starting
        inner, inner_args = (scope, args) if d.names_scoped else ("", ())
        containing = await self._load(
            f"id IN ({d.names_containing.format(scope=inner)})" + scope,
            d.piece(term),
            *inner_args,
            4 * limit,
            *args,
            limit=limit,
        )
        return merged_names(starting, containing, limit)
