"""The supervisor's reports: what the records say of a period, as figures.

The store answers with small aggregates (hub/state/reports.py: counts per bucket, and
durations as histograms of whole minutes, read from covering indexes); this module turns
them into the figures.  Durations count in whole minutes (floored), and a distribution's
``p50``/``p90`` are nearest-rank percentiles over them.  Buckets are hours or days of
``timezone``'s clock; a period holds at most ``MAX_DAYS`` days, hour buckets at most
``MAX_HOUR_DAYS``.
"""

from __future__ import annotations

import csv
import io
import math
from collections import Counter
from collections.abc import Iterable, Mapping
from enum import StrEnum

import msgspec

from hub.errors import BadRequest
from hub.operations.provider_csv import inert

HOUR_MS, DAY_MS = 3_600_000, 86_400_000
MAX_DAYS = 366
MAX_HOUR_DAYS = 31


class Bucket(StrEnum):
    HOUR = "hour"
    DAY = "day"


class ReportQuery(msgspec.Struct, frozen=True, kw_only=True):
    from_ms: int
    to_ms: int  # exclusive
    client_id: int | None = None
    service: str | None = None
    provider_id: int | None = None
    bucket: Bucket = Bucket.DAY
    offset_ms: int = 0  # the time zone's offset from UTC, so that days start at midnight

    @property
    def bucket_ms(self) -> int:
        return HOUR_MS if self.bucket is Bucket.HOUR else DAY_MS


def checked_query(query: ReportQuery) -> ReportQuery:
    if query.to_ms <= query.from_ms:
        raise BadRequest("the period ends before it starts", field="to", problem="invalid")
    days = (query.to_ms - query.from_ms) / DAY_MS
    if days > MAX_DAYS:
        raise BadRequest(f"a period holds at most {MAX_DAYS} days", field="to", problem="invalid")
    if query.bucket is Bucket.HOUR and days > MAX_HOUR_DAYS:
        raise BadRequest(
            f"hour buckets need a period of at most {MAX_HOUR_DAYS} days",
            field="bucket",
            problem="invalid",
        )
    return query


class Dist(msgspec.Struct, frozen=True, kw_only=True):
    """A duration's distribution in whole minutes."""

    count: int
    p50_min: int | None
    p90_min: int | None
    mean_min: float | None


def percentile(histogram: Mapping[int, int], q: float) -> int | None:
    """Nearest-rank percentile ``q`` (0-100) of the values a histogram counts."""
    total = sum(histogram.values())
    if not total:
        return None
    rank = max(1, math.ceil(q / 100 * total))
    seen = 0
    for value in sorted(histogram):
        seen += histogram[value]
        if seen >= rank:
            return value
    return max(histogram)  # not reached: seen ends at total >= rank


def dist(histogram: Mapping[int, int]) -> Dist:
    total = sum(histogram.values())
    mean = sum(v * n for v, n in histogram.items()) / total if total else None
    return Dist(
        count=total,
        p50_min=percentile(histogram, 50),
        p90_min=percentile(histogram, 90),
        mean_min=None if mean is None else round(mean, 1),
    )


def pct(part: int, whole: int) -> float | None:
    return None if not whole else round(100 * part / whole, 1)


# --- what the store answers ---------------------------------------------------------------


class VolumeRow(msgspec.Struct, frozen=True, array_like=True):
    """Attendances of one bucket (its number: (time + offset) // bucket_ms), kind and
    service."""

    bucket: int
    kind: str
    service: str | None
    count: int
    avulso: int
    avulso_value_cents: int
    cancelled: int
    arrived: int  # with a promise and an arrival
    on_time: int  # of those, arrived by the promise


class HistRow(msgspec.Struct, frozen=True, array_like=True):
    bucket: int
    minutes: int
    count: int


class EventRow(msgspec.Struct, frozen=True, array_like=True):
    bucket: int
    count: int


class OfferRow(msgspec.Struct, frozen=True, array_like=True):
    provider_id: int
    state: str
    count: int


class ProviderFacts(msgspec.Struct, frozen=True, array_like=True):
    provider_id: int
    jobs: int
    arrived: int
    on_time: int
    arrival_ms_total: int
    value_cents: int
    ratings: int
    rating_total: int


class ClientFacts(msgspec.Struct, frozen=True, array_like=True):
    client_id: int
    attendances: int
    avulso: int
    arrived: int
    on_time: int
    cancelled: int


class Facts(msgspec.Struct, frozen=True, kw_only=True):
    """Everything the store answers for a summary."""

    volumes: list[VolumeRow]
    to_dispatch: list[HistRow]
    to_arrival: list[HistRow]
    events: list[EventRow]
    tma: list[HistRow]
    offers: list[OfferRow]
    cancellations: dict[str, int]
    ratings: dict[int, int]


# --- the figures --------------------------------------------------------------------------


class BucketFigures(msgspec.Struct, frozen=True, kw_only=True):
    """One bucket of the period: volumes and the medians of its durations."""

    start_ms: int
    events: int
    attendances: int
    by_kind: dict[str, int]
    by_service: dict[str, int]
    tma_p50_min: int | None
    to_dispatch_p50_min: int | None
    to_arrival_p50_min: int | None


class Ratings(msgspec.Struct, frozen=True, kw_only=True):
    count: int
    mean: float | None
    by_stars: dict[int, int]


class Summary(msgspec.Struct, frozen=True, kw_only=True):
    query: ReportQuery
    events: int
    attendances: int
    by_kind: dict[str, int]
    by_service: dict[str, int]
    avulso: int
    avulso_value_cents: int
    tma: Dist  # intake: the event opened -> the call finished
    to_dispatch: Dist  # registered -> a provider has it
    to_arrival: Dist  # a provider has it -> arrived
    on_time_pct: float | None  # arrivals by the promise, of arrivals with one
    acceptance_pct: float | None  # offers accepted, of offers answered or lapsed
    offers_per_assignment: float | None  # the cascade's depth
    cancelled: int
    cancellations: dict[str, int]  # reason -> count
    ratings: Ratings
    over_time: list[BucketFigures]


class ProviderLine(msgspec.Struct, frozen=True, kw_only=True):
    provider_id: int
    name: str
    jobs: int
    offers: int
    acceptance_pct: float | None
    on_time_pct: float | None
    arrival_mean_min: float | None
    rating_mean: float | None
    ratings: int
    value_cents: int


class ClientLine(msgspec.Struct, frozen=True, kw_only=True):
    client_id: int
    name: str
    attendances: int
    covered: int  # by the plan
    avulso: int
    cancelled: int
    on_time_pct: float | None  # the SLA: arrivals by the promise


class ProviderTable(msgspec.Struct, frozen=True, kw_only=True):
    query: ReportQuery
    providers: list[ProviderLine]


class ClientTable(msgspec.Struct, frozen=True, kw_only=True):
    query: ReportQuery
    clients: list[ClientLine]


DECIDED = ("accepted", "refused", "expired")  # an offer that got an answer, or lapsed


def _hist(rows: Iterable[HistRow]) -> Counter[int]:
    found: Counter[int] = Counter()
    for row in rows:
        found[row.minutes] += row.count
    return found


def summary(query: ReportQuery, facts: Facts) -> Summary:
    by_kind: Counter[str] = Counter()
    by_service: Counter[str] = Counter()
    avulso = value = cancelled = arrived = on_time = 0
    for v in facts.volumes:
        by_kind[v.kind] += v.count
        if v.service:
            by_service[v.service] += v.count
        avulso += v.avulso
        value += v.avulso_value_cents
        cancelled += v.cancelled
        arrived += v.arrived
        on_time += v.on_time
    offers: Counter[str] = Counter()
    for o in facts.offers:
        offers[o.state] += o.count
    answered = sum(offers[s] for s in DECIDED)
    rated = sum(facts.ratings.values())
    stars = sum(s * n for s, n in facts.ratings.items())
    return Summary(
        query=query,
        events=sum(e.count for e in facts.events),
        attendances=sum(by_kind.values()),
        by_kind=dict(by_kind),
        by_service=dict(by_service),
        avulso=avulso,
        avulso_value_cents=value,
        tma=dist(_hist(facts.tma)),
        to_dispatch=dist(_hist(facts.to_dispatch)),
        to_arrival=dist(_hist(facts.to_arrival)),
        on_time_pct=pct(on_time, arrived),
        acceptance_pct=pct(offers["accepted"], answered),
        offers_per_assignment=(
            round(sum(offers.values()) / offers["accepted"], 2) if offers["accepted"] else None
        ),
        cancelled=cancelled,
        cancellations=facts.cancellations,
        ratings=Ratings(
            count=rated,
            mean=round(stars / rated, 2) if rated else None,
            by_stars=dict(sorted(facts.ratings.items())),
        ),
        over_time=_over_time(query, facts),
    )


def _over_time(query: ReportQuery, facts: Facts) -> list[BucketFigures]:
    """Every bucket of the period, empty ones included, so a chart has no gaps."""
    kinds: dict[int, Counter[str]] = {}
    services: dict[int, Counter[str]] = {}
    for v in facts.volumes:
        kinds.setdefault(v.bucket, Counter())[v.kind] += v.count
        if v.service:
            services.setdefault(v.bucket, Counter())[v.service] += v.count
    events: Counter[int] = Counter()
    for e in facts.events:
        events[e.bucket] += e.count
    hists = {
        name: _by_bucket(rows)
        for name, rows in (
            ("tma", facts.tma),
            ("dispatch", facts.to_dispatch),
            ("arrival", facts.to_arrival),
        )
    }
    step = query.bucket_ms
    first = (query.from_ms + query.offset_ms) // step
    last = (query.to_ms - 1 + query.offset_ms) // step
    points = []
    for key in range(first, last + 1):
        counted = kinds.get(key, Counter())
        points.append(
            BucketFigures(
                start_ms=key * step - query.offset_ms,
                events=events[key],
                attendances=sum(counted.values()),
                by_kind=dict(counted),
                by_service=dict(services.get(key, Counter())),
                tma_p50_min=percentile(hists["tma"].get(key, {}), 50),
                to_dispatch_p50_min=percentile(hists["dispatch"].get(key, {}), 50),
                to_arrival_p50_min=percentile(hists["arrival"].get(key, {}), 50),
            )
        )
    return points


def _by_bucket(rows: Iterable[HistRow]) -> dict[int, Counter[int]]:
    found: dict[int, Counter[int]] = {}
    for row in rows:
        found.setdefault(row.bucket, Counter())[row.minutes] += row.count
    return found


def provider_table(
    query: ReportQuery,
    facts: list[ProviderFacts],
    offers: list[OfferRow],
    names: Mapping[int, str],
) -> ProviderTable:
    made: Counter[int] = Counter()
    answered: Counter[int] = Counter()
    accepted: Counter[int] = Counter()
    for o in offers:
        made[o.provider_id] += o.count
        if o.state in DECIDED:
            answered[o.provider_id] += o.count
        if o.state == "accepted":
            accepted[o.provider_id] += o.count
    by_id = {f.provider_id: f for f in facts}
    lines = []
    for pid in sorted(set(by_id) | set(made)):
        f = by_id.get(pid) or ProviderFacts(pid, 0, 0, 0, 0, 0, 0, 0)
        lines.append(
            ProviderLine(
                provider_id=pid,
                name=names.get(pid, ""),
                jobs=f.jobs,
                offers=made[pid],
                acceptance_pct=pct(accepted[pid], answered[pid]),
                on_time_pct=pct(f.on_time, f.arrived),
                arrival_mean_min=(
                    round(f.arrival_ms_total / f.arrived / 60_000, 1) if f.arrived else None
                ),
                rating_mean=round(f.rating_total / f.ratings, 2) if f.ratings else None,
                ratings=f.ratings,
                value_cents=f.value_cents,
            )
        )
    lines.sort(key=lambda line: (-line.jobs, line.name, line.provider_id))
    return ProviderTable(query=query, providers=lines)


def client_table(
    query: ReportQuery, facts: list[ClientFacts], names: Mapping[int, str]
) -> ClientTable:
    lines = [
        ClientLine(
            client_id=f.client_id,
            name=names.get(f.client_id, ""),
            attendances=f.attendances,
            covered=f.attendances - f.avulso,
            avulso=f.avulso,
            cancelled=f.cancelled,
            on_time_pct=pct(f.on_time, f.arrived),
        )
        for f in facts
    ]
    lines.sort(key=lambda line: (-line.attendances, line.name, line.client_id))
    return ClientTable(query=query, clients=lines)


# --- CSV: every table as the page shows it (names made inert for spreadsheets) ------------


def _csv(header: list[str], rows: Iterable[list[object]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow(["" if v is None else inert(v) if isinstance(v, str) else v for v in row])
    return out.getvalue()


def providers_csv(table: ProviderTable) -> str:
    return _csv(
        [
            "provider_id",
            "name",
            "jobs",
            "offers",
            "acceptance_pct",
            "on_time_pct",
            "arrival_mean_min",
            "rating_mean",
            "ratings",
            "value_cents",
        ],
        (
            [
                p.provider_id,
                p.name,
                p.jobs,
                p.offers,
                p.acceptance_pct,
                p.on_time_pct,
                p.arrival_mean_min,
                p.rating_mean,
                p.ratings,
                p.value_cents,
            ]
            for p in table.providers
        ),
    )


def clients_csv(table: ClientTable) -> str:
    return _csv(
        ["client_id", "name", "attendances", "covered", "avulso", "cancelled", "on_time_pct"],
        (
            [c.client_id, c.name, c.attendances, c.covered, c.avulso, c.cancelled, c.on_time_pct]
            for c in table.clients
        ),
    )


def over_time_csv(report: Summary) -> str:
    return _csv(
        [
            "start_ms",
            "events",
            "attendances",
            "tma_p50_min",
            "to_dispatch_p50_min",
            "to_arrival_p50_min",
        ],
        (
            [
                p.start_ms,
                p.events,
                p.attendances,
                p.tma_p50_min,
                p.to_dispatch_p50_min,
                p.to_arrival_p50_min,
            ]
            for p in report.over_time
        ),
    )
