"""HTTP ingest for off-the-shelf tracking apps: the OsmAnd / Traccar Client format.

``GET`` or ``POST /ingest/osmand?id=<device key>&lat=..&lon=..&timestamp=..`` (query string or
form body).  Optional: ``speed`` (knots, as the format defines), ``bearing`` or ``heading``
(degrees), ``accuracy`` (metres).  ``timestamp`` is Unix seconds, Unix milliseconds or ISO
8601; absent means now.  Same filter and storage as the websocket; the 200 comes after the
commit, so a 200 means stored.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from hub.api.openapi import Operation
from hub.api.responses import JSON
from hub.clock import now_ms
from hub.errors import BadRequest, FixRejected, Unauthorized
from hub.ingest import filter_in_use
from hub.ingest.filter import FixFilter, Verdict, track_point
from hub.ingest.intake import live_position
from hub.ingest.tracks import chunk_of
from hub.operations.bounds import MAX_EXACT
from hub.services import services_of
from hub.wire import FixData

if TYPE_CHECKING:
    from hub.services import Services


class Stored(msgspec.Struct):
    stored: bool
    verdict: str  # live, late (history only) or jump (history only, flagged)


KNOT_MPS = 0.514444
MAX_BODY_BYTES = 8192
FILTERS_MAX = 100_000


def _required(params: Mapping[str, str], name: str) -> float:
    value = _number(params, name)
    if value is None:
        raise BadRequest(f"missing parameter {name}")
    return value


def _number(params: Mapping[str, str], name: str) -> float | None:
    raw = params.get(name)
    if raw is None or raw == "":
        return None
    try:
        return float(raw)
    except ValueError:
        raise BadRequest(f"parameter {name} is not a number: {raw!r}") from None


def parse_timestamp_ms(raw: str | None, now_ms: int) -> int:
    if raw is None or raw == "":
        return now_ms
    try:
        value = float(raw)
    except ValueError:
        try:
            parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        except ValueError:
            raise BadRequest(f"timestamp is neither Unix time nor ISO 8601: {raw!r}") from None
        if parsed.tzinfo is None:
            raise BadRequest("an ISO 8601 timestamp needs a time zone") from None
        return int(parsed.timestamp() * 1000)
    ms = value if value > 1e12 else value * 1000
    if not math.isfinite(value) or value < 0 or ms > MAX_EXACT:
        raise BadRequest(f"timestamp out of range: {raw!r}")
    return int(ms)


def fix_from(params: Mapping[str, str], now_ms: int) -> FixData:
    lat, lng = _required(params, "lat"), _required(params, "lon")
    speed = _number(params, "speed")
    heading = _number(params, "bearing")
    return FixData(
        seq=1,
        t=parse_timestamp_ms(params.get("timestamp"), now_ms),
        lat=lat,
        lng=lng,
        acc=_number(params, "accuracy"),
        spd=None if speed is None else speed * KNOT_MPS,
        hdg=_number(params, "heading") if heading is None else heading,
    )


async def _form(request: Request) -> dict[str, str]:
    """A url-encoded body (what these apps send); small, so parsed without a library."""
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        raise BadRequest(f"body larger than {MAX_BODY_BYTES} bytes")
    try:
        return dict(parse_qsl(body.decode(), keep_blank_values=True))
    except UnicodeDecodeError:
        raise BadRequest("body is not UTF-8") from None


async def osmand(request: Request) -> Response:
    hub: Services = services_of(request)
    params: dict[str, str] = dict(request.query_params)
    if request.method == "POST":
        params.update(await _form(request))
    key = params.get("id") or params.get("deviceid")
    if not key:
        raise Unauthorized("missing parameter id (the device key)", code="device_key_unknown")
    provider = await hub.records.providers.by_device_key(key)
    if provider is None:
        raise Unauthorized("no provider has this device key", code="device_key_unknown")
    if not provider.active:
        raise Unauthorized("provider is deactivated", code="provider_inactive")
    now = now_ms()
    fix = fix_from(params, now)
    fix_filter = await _filter_for(hub, provider.id)
    verdict = fix_filter.judge(fix, now)
    if isinstance(verdict, str):
        hub.metrics.rejected(verdict)
        raise FixRejected(f"fix refused: {verdict}", code=verdict)
    tally = [0, 0, 0]
    tally[verdict] = 1
    hub.metrics.accepted(tally)
    if verdict is Verdict.LIVE:
        if provider.id not in hub.matching.known:
            hub.matching.provider_changed(provider)  # registered by the CLI, say
        hub.positions.changed(live_position(provider.id, fix, now))
    future = await hub.writer.submit(chunk_of([track_point(provider.id, fix, verdict, now)]))
    await future  # StoreUnavailable (503) if the hub stops before the commit
    return JSON(Stored(True, verdict.name.lower()))


async def _filter_for(hub: Services, provider_id: int) -> FixFilter:
    """The provider's filter, seeded from its live position; bounded, oldest evicted."""
    filters = hub.http_filters
    found = filters.get(provider_id)
    if found is None:
        position = await hub.live.positions.get(provider_id)
        anchor = (position.t_ms, position.lat, position.lng) if position else None
        found = filter_in_use.FixFilter(hub.filter_rules, anchor)
        if len(filters) >= FILTERS_MAX:
            del filters[next(iter(filters))]
        filters[provider_id] = found
    return found


_SUMMARY = "OsmAnd / Traccar Client position report (query string or url-encoded form)"
operations = [
    Operation(
        method, "/ingest/osmand", _SUMMARY, Stored, errors=(400, 401, 403, 503), endpoint=osmand
    )
    for method in ("GET", "POST")
]
