"""The reports' aggregates (hub/operations/reports.py), one statement set for both engines.

Every query reads one period of one table through its covering index (migration 0019:
``attendances_report``, ``offers_report``, ``events_report``) and answers a few hundred
rows at most: counts per bucket, and durations as histograms of whole minutes.
"""

from __future__ import annotations

from typing import Any

from hub.operations.reports import (
    ClientFacts,
    EventRow,
    Facts,
    HistRow,
    OfferRow,
    ProviderFacts,
    ReportQuery,
    VolumeRow,
)
from hub.state.db import Db

_ON_TIME = (
    "SUM(CASE WHEN arrived_ms IS NOT NULL AND promised_ms IS NOT NULL THEN 1 ELSE 0 END),"
    " SUM(CASE WHEN arrived_ms <= promised_ms THEN 1 ELSE 0 END)"
)


def _where(
    q: ReportQuery, time: str, *, service: bool = True, provider: bool = True, alias: str = ""
) -> tuple[str, list[Any]]:
    """The period and the filters a query of ``time``'s table takes (its columns named
    through ``alias`` in a join)."""
    at = f"{alias}." if alias else ""
    clauses = [f"{at}{time} >= ?", f"{at}{time} < ?"]
    args: list[Any] = [q.from_ms, q.to_ms]
    for column, value, applies in (
        ("client_id", q.client_id, True),
        ("service", q.service, service),
        ("provider_id", q.provider_id, provider),
    ):
        if applies and value is not None:
            clauses.append(f"{at}{column} = ?")
            args.append(value)
    return " AND ".join(clauses), args


class Reports:
    def __init__(self, db: Db) -> None:
        self.db = db

    async def facts(self, q: ReportQuery) -> Facts:
        where, args = _where(q, "at_ms")
        bucket = "(at_ms + ?) / ?"
        edges = [q.offset_ms, q.bucket_ms]
        volumes = await self.db.fetch(
            f"SELECT {bucket} AS b, kind, service, COUNT(*) AS n,"
            " SUM(CASE WHEN avulso THEN 1 ELSE 0 END),"
            " SUM(CASE WHEN avulso THEN COALESCE(price_cents, 0) ELSE 0 END),"
            f" SUM(CASE WHEN state = 'cancelled' THEN 1 ELSE 0 END), {_ON_TIME}"
            f" FROM attendances WHERE {where} GROUP BY b, kind, service",
            *edges,
            *args,
        )
        to_dispatch = await self._hist(
            "attendances", bucket, "assigned_ms - at_ms", "assigned_ms", where, [*edges, *args]
        )
        to_arrival = await self._hist(
            "attendances", bucket, "arrived_ms - assigned_ms", "arrived_ms", where, [*edges, *args]
        )
        ev_where, ev_args = _where(q, "opened_ms", service=False, provider=False)
        ev_bucket = "(opened_ms + ?) / ?"
        events = await self.db.fetch(
            f"SELECT {ev_bucket} AS b, COUNT(*) FROM events WHERE {ev_where} GROUP BY b",
            *edges,
            *ev_args,
        )
        tma = await self._hist(
            "events",
            ev_bucket,
            "intake_done_ms - opened_ms",
            "intake_done_ms",
            ev_where,
            [*edges, *ev_args],
        )
        joined, _ = _where(q, "at_ms", alias="a")
        cancellations = await self.db.fetch(
            "SELECT l.detail, COUNT(*) FROM attendances a JOIN attendance_log l"
            " ON l.attendance_id = a.id AND l.action = 'cancel'"
            f" WHERE {joined} AND a.state = 'cancelled' GROUP BY l.detail",
            *args,
        )
        ratings = await self.db.fetch(
            f"SELECT rating, COUNT(*) FROM attendances WHERE {where} AND rating IS NOT NULL"
            " GROUP BY rating",
            *args,
        )
        return Facts(
            volumes=[VolumeRow(*_numbers(r, 2)) for r in volumes],
            to_dispatch=to_dispatch,
            to_arrival=to_arrival,
            events=[EventRow(int(r[0]), int(r[1])) for r in events],
            tma=tma,
            offers=await self.offers(q),
            cancellations={str(r[0]): int(r[1]) for r in cancellations},
            ratings={int(r[0]): int(r[1]) for r in ratings},
        )

    async def _hist(
        self, table: str, bucket: str, duration: str, needed: str, where: str, args: list[Any]
    ) -> list[HistRow]:
        rows = await self.db.fetch(
            f"SELECT {bucket} AS b, ({duration}) / 60000 AS m, COUNT(*) FROM {table}"
            f" WHERE {where} AND {needed} IS NOT NULL GROUP BY b, m",
            *args,
        )
        return [HistRow(int(r[0]), int(r[1]), int(r[2])) for r in rows]

    async def offers(self, q: ReportQuery) -> list[OfferRow]:
        where, args = _where(q, "created_ms")
        rows = await self.db.fetch(
            f"SELECT provider_id, state, COUNT(*) FROM offers WHERE {where}"
            " GROUP BY provider_id, state",
            *args,
        )
        return [OfferRow(int(r[0]), str(r[1]), int(r[2])) for r in rows]

    async def providers(self, q: ReportQuery) -> list[ProviderFacts]:
        where, args = _where(q, "at_ms")
        rows = await self.db.fetch(
            f"SELECT provider_id, COUNT(*), {_ON_TIME},"
            " SUM(CASE WHEN arrived_ms IS NOT NULL AND promised_ms IS NOT NULL"
            " THEN arrived_ms - assigned_ms ELSE 0 END),"
            " SUM(COALESCE(price_cents, 0)), COUNT(rating), SUM(COALESCE(rating, 0))"
            f" FROM attendances WHERE {where} AND provider_id IS NOT NULL GROUP BY provider_id",
            *args,
        )
        return [ProviderFacts(*_numbers(r, 0)) for r in rows]

    async def clients(self, q: ReportQuery) -> list[ClientFacts]:
        where, args = _where(q, "at_ms")
        rows = await self.db.fetch(
            "SELECT client_id, COUNT(*), SUM(CASE WHEN avulso THEN 1 ELSE 0 END),"
            f" {_ON_TIME}, SUM(CASE WHEN state = 'cancelled' THEN 1 ELSE 0 END)"
            f" FROM attendances WHERE {where} AND client_id IS NOT NULL GROUP BY client_id",
            *args,
        )
        return [ClientFacts(*_numbers(r, 0)) for r in rows]


def _numbers(row: Any, texts: int) -> list[Any]:
    """A row's values: the ``texts`` after the first as they are, the others as ints (SQL
    sums come back as Decimal, or None from an empty group)."""
    values = list(row)
    return [int(v or 0) if i == 0 or i > texts else v for i, v in enumerate(values)]
