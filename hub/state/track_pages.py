"""The beneficiary's live pages (hub/operations/track_pages.py), one statement set for both
engines."""

from __future__ import annotations

from typing import Any

from hub.operations.attendances import Place
from hub.operations.track_pages import Confirmed, Rating, TrackLink
from hub.state.db import Db, Row
from hub.state.rows import encode_json

_COLUMNS = (
    "attendance_id, secret_hash, created_ms, revoked_ms, confirmed_lat, confirmed_lng,"
    " confirmed_ms, confirmed_distance_m, accepted_ms, rating, comment"
)


def _link(row: Row) -> TrackLink:
    confirmed = None
    if row["confirmed_ms"] is not None:
        confirmed = Confirmed(
            lat=float(row["confirmed_lat"]),
            lng=float(row["confirmed_lng"]),
            at_ms=int(row["confirmed_ms"]),
            distance_m=row["confirmed_distance_m"],
        )
    return TrackLink(
        attendance_id=int(row["attendance_id"]),
        secret_hash=str(row["secret_hash"]),
        created_ms=int(row["created_ms"]),
        revoked_ms=row["revoked_ms"],
        confirmed=confirmed,
        accepted_ms=row["accepted_ms"],
        rating=row["rating"],
        comment=str(row["comment"]),
    )


class TrackPages:
    def __init__(self, db: Db) -> None:
        self.db = db

    async def get(self, attendance_id: int) -> TrackLink | None:
        rows = await self.db.fetch(
            f"SELECT {_COLUMNS} FROM track_pages WHERE attendance_id = ?", attendance_id
        )
        return _link(rows[0]) if rows else None

    async def put(self, attendance_id: int, secret_hash: str, now_ms: int) -> None:
        """A new secret for the attendance's page (the old link stops working); what the
        beneficiary said through the page is kept."""
        await self.db.execute(
            "INSERT INTO track_pages (attendance_id, secret_hash, created_ms)"
            " VALUES (?, ?, ?) ON CONFLICT (attendance_id) DO UPDATE SET"
            " secret_hash = excluded.secret_hash, created_ms = excluded.created_ms,"
            " revoked_ms = NULL",
            attendance_id,
            secret_hash,
            now_ms,
        )

    async def revoke(self, attendance_id: int, now_ms: int) -> bool:
        changed = await self.db.execute(
            "UPDATE track_pages SET revoked_ms = ? WHERE attendance_id = ? AND revoked_ms IS NULL",
            now_ms,
            attendance_id,
        )
        return changed > 0

    async def confirm(self, attendance_id: int, at: Confirmed) -> None:
        await self.db.execute(
            "UPDATE track_pages SET confirmed_lat = ?, confirmed_lng = ?, confirmed_ms = ?,"
            " confirmed_distance_m = ?, accepted_ms = NULL WHERE attendance_id = ?",
            at.lat,
            at.lng,
            at.at_ms,
            at.distance_m,
            attendance_id,
        )

    async def rate(self, attendance_id: int, rating: Rating, now_ms: int) -> bool:
        """Store the rating unless one is there already (on the attendance too, where the
        reports read it); whether it was stored."""
        async with self.db.transaction() as tx:
            changed = await tx.execute(
                "UPDATE track_pages SET rating = ?, comment = ?, rated_ms = ?"
                " WHERE attendance_id = ? AND rating IS NULL",
                rating.stars,
                rating.comment,
                now_ms,
                attendance_id,
            )
            if changed:
                await tx.execute(
                    "UPDATE attendances SET rating = ? WHERE id = ?", rating.stars, attendance_id
                )
        return changed > 0

    async def accept(
        self, attendance_id: int, origin: Place, actor: str, facts: dict[str, Any], now_ms: int
    ) -> bool:
        """The confirmed position becomes the attendance's origin, logged, in one
        transaction, while no provider has it; whether it did."""
        async with self.db.transaction() as tx:
            changed = await tx.execute(
                "UPDATE attendances SET origin = ?, version = version + 1 WHERE id = ?"
                " AND state IN ('awaiting_dispatch', 'offering')",
                encode_json(origin),
                attendance_id,
            )
            if not changed:
                return False
            await tx.execute(
                "UPDATE track_pages SET accepted_ms = ? WHERE attendance_id = ?",
                now_ms,
                attendance_id,
            )
            await tx.execute(
                "INSERT INTO attendance_log (attendance_id, at_ms, actor, action, detail, facts)"
                " VALUES (?, ?, ?, 'origin_confirmed', ?, ?)",
                attendance_id,
                now_ms,
                actor,
                "the origin moved to the position the beneficiary confirmed",
                encode_json(facts),
            )
        return True
