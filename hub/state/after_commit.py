"""The after-commit journal (hub/dispatch/after_commit.py): steps committed decisions still
have to tell, kept by node while a store is down; one statement set for both engines."""

from __future__ import annotations

from collections.abc import Sequence

from hub.dispatch.records import Journaled
from hub.state.db import IDS_AT_ONCE, Db, marks


class AfterCommitSteps:
    def __init__(self, db: Db) -> None:
        self.db = db

    async def keep(self, node: str, lane: str, body: bytes, now_ms: int) -> int:
        async with self.db.transaction() as tx:
            (row,) = await tx.fetch(
                "INSERT INTO after_commit (node, lane, body, kept_ms) VALUES (?, ?, ?, ?)"
                " RETURNING id",
                node,
                lane,
                body,
                now_ms,
            )
        return int(row["id"])

    async def forget(self, ids: Sequence[int]) -> None:
        for at in range(0, len(ids), IDS_AT_ONCE):
            chunk = ids[at : at + IDS_AT_ONCE]
            await self.db.execute(
                f"DELETE FROM after_commit WHERE id IN ({marks(len(chunk))})", *chunk
            )

    async def holders(self) -> set[str]:
        rows = await self.db.fetch("SELECT DISTINCT node FROM after_commit")
        return {str(row["node"]) for row in rows}

    async def claim(self, node: str, by: str) -> list[Journaled]:
        async with self.db.transaction() as tx:
            rows = await tx.fetch(
                "UPDATE after_commit SET node = ? WHERE node = ? RETURNING id, lane, body",
                by,
                node,
            )
        found = [Journaled(int(r["id"]), str(r["lane"]), bytes(r["body"])) for r in rows]
        return sorted(found)
