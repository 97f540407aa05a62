"""The supervisor's reports over REST (supervisor and admin): a period's summary, the
provider and client tables, and each table as CSV (hub/operations/reports.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import Response

from hub.api.openapi import Operation, Param
from hub.api.responses import JSON, int_param
from hub.errors import BadRequest
from hub.operations import reports
from hub.operations.reports import Bucket, ReportQuery, checked_query
from hub.operations.services import CATALOGUE
from hub.operations.users import Role
from hub.services import Services, services_of

MAX_INSTANT = 2**53


def query_of(request: Request, hub: Services) -> ReportQuery:
    params = request.query_params
    start = int_param(request, "from", -1, 0, MAX_INSTANT)
    end = int_param(request, "to", -1, 0, MAX_INSTANT)
    if start < 0 or end < 0:
        missing = "from" if start < 0 else "to"
        raise BadRequest(
            f"{missing} is required (ms since the epoch)", field=missing, problem="required"
        )
    client = int_param(request, "client_id", 0, 0, MAX_INSTANT)
    provider = int_param(request, "provider_id", 0, 0, MAX_INSTANT)
    service = params.get("service") or None
    if service is not None and service not in CATALOGUE:
        raise BadRequest(f"no service {service[:40]!r}", code="unknown_service")
    raw_bucket = params.get("bucket", "day")
    if raw_bucket not in {b.value for b in Bucket}:
        raise BadRequest("bucket is hour or day", field="bucket", problem="invalid")
    offset = datetime.fromtimestamp(start / 1000, UTC).astimezone(ZoneInfo(hub.settings.timezone))
    delta = offset.utcoffset()
    return checked_query(
        ReportQuery(
            from_ms=start,
            to_ms=end,
            client_id=client or None,
            service=service,
            provider_id=provider or None,
            bucket=Bucket(raw_bucket),
            offset_ms=0 if delta is None else int(delta.total_seconds() * 1000),
        )
    )


async def _summary(request: Request) -> reports.Summary:
    hub = services_of(request)
    query = query_of(request, hub)
    return reports.summary(query, await hub.records.reports.facts(query))


async def _providers(request: Request) -> reports.ProviderTable:
    hub = services_of(request)
    query = query_of(request, hub)
    records = hub.records.reports
    facts, offers = await records.providers(query), await records.offers(query)
    ids = {f.provider_id for f in facts} | {o.provider_id for o in offers}
    names = {}
    for pid in ids:
        known = hub.matching.known.get(pid)
        found = known.provider if known else await hub.records.providers.get(pid)
        names[pid] = found.name if found else ""
    return reports.provider_table(query, facts, offers, names)


async def _clients(request: Request) -> reports.ClientTable:
    hub = services_of(request)
    query = query_of(request, hub)
    facts = await hub.records.reports.clients(query)
    names = {}
    for f in facts:  # matching keeps every client; the store only for one it lacks
        found = hub.matching.clients.get(f.client_id) or await hub.records.clients.get(f.client_id)
        names[f.client_id] = found.name if found else ""
    return reports.client_table(query, facts, names)


async def summary(request: Request) -> Response:
    return JSON(await _summary(request))


async def providers(request: Request) -> Response:
    return JSON(await _providers(request))


async def clients(request: Request) -> Response:
    return JSON(await _clients(request))


def _csv(text: str, name: str) -> Response:
    return Response(
        text,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
    )


async def over_time_csv(request: Request) -> Response:
    return _csv(reports.over_time_csv(await _summary(request)), "over-time")


async def providers_csv(request: Request) -> Response:
    return _csv(reports.providers_csv(await _providers(request)), "providers")


async def clients_csv(request: Request) -> Response:
    return _csv(reports.clients_csv(await _clients(request)), "clients")


PERIOD = (
    Param("from", "the period's start, ms since the epoch"),
    Param("to", "its end (exclusive); at most 366 days after from"),
    Param("client_id", "only this client's", 1),
    Param("service", "only this service (a code of GET /services)", kind="string"),
    Param("provider_id", "only this provider's", 1),
    Param("bucket", "hour (periods up to 31 days) or day (default)", kind="string"),
)
ERRORS = (400,)

operations = [
    Operation(
        "GET",
        "/reports/summary",
        "A period's volumes, times (TMA, to dispatch, to arrival: p50, p90, mean) and quality"
        " (on time, acceptance, offers per assignment, cancellations, ratings), and the same"
        " per hour or day",
        reports.Summary,
        query=PERIOD,
        errors=ERRORS,
        endpoint=summary,
        role=Role.SUPERVISOR,
    ),
    Operation(
        "GET",
        "/reports/providers",
        "Per provider: jobs, offers, acceptance, on time, mean arrival, rating, value",
        reports.ProviderTable,
        query=PERIOD,
        errors=ERRORS,
        endpoint=providers,
        role=Role.SUPERVISOR,
    ),
    Operation(
        "GET",
        "/reports/clients",
        "Per client: attendances, covered by the plan, avulso, cancelled, SLA (on time)",
        reports.ClientTable,
        query=PERIOD,
        errors=ERRORS,
        endpoint=clients,
        role=Role.SUPERVISOR,
    ),
    Operation(
        "GET",
        "/reports/over-time.csv",
        "The summary's buckets as CSV",
        query=PERIOD,
        errors=ERRORS,
        media_type="text/csv",
        endpoint=over_time_csv,
        role=Role.SUPERVISOR,
    ),
    Operation(
        "GET",
        "/reports/providers.csv",
        "The provider table as CSV (names that a spreadsheet would run start with ')",
        query=PERIOD,
        errors=ERRORS,
        media_type="text/csv",
        endpoint=providers_csv,
        role=Role.SUPERVISOR,
    ),
    Operation(
        "GET",
        "/reports/clients.csv",
        "The client table as CSV (names that a spreadsheet would run start with ')",
        query=PERIOD,
        errors=ERRORS,
        media_type="text/csv",
        endpoint=clients_csv,
        role=Role.SUPERVISOR,
    ),
]
