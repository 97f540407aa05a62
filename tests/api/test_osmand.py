"""OsmAnd / Traccar Client HTTP ingest: same filter and storage as the socket."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import httpx
import pytest

from hub.api.osmand import KNOT_MPS, parse_timestamp_ms
from hub.errors import BadRequest
from hub.operations import registry
from hub.operations.providers import NewProvider
from tests.conftest import engine_settings, serve


@pytest.fixture
async def device(engine_kind, tmp_path):
    async with engine_settings(engine_kind, tmp_path) as settings, serve(settings) as running:
        provider = await registry.register(
            running.hub.records, NewProvider(name="Chaveiro", phone="+5511988887777")
        )
        async with httpx.AsyncClient(base_url=running.http) as client:
            yield client, running, provider


async def test_query_and_form_reports_are_stored_and_move_live(device):
    client, running, provider = device
    now = int(time.time())
    first = await client.get(
        "/ingest/osmand",
        params={
            "id": provider.device_key,
            "lat": "-23.55",
            "lon": "-46.63",
            "timestamp": now - 10,
            "speed": "10",
            "bearing": "90",
            "accuracy": "4",
        },
    )
    assert first.status_code == 200, first.text
    assert first.json() == {"stored": True, "verdict": "live"}
    second = await client.post(
        "/ingest/osmand",
        data={
            "id": provider.device_key,
            "lat": "-23.5501",
            "lon": "-46.63",
            "timestamp": str((now - 5) * 1000),
        },
    )
    assert second.json()["verdict"] == "live"
    history = await running.hub.records.tracks.history(provider.id)
    assert [p.lat for p in history] == [-23.55, -23.5501]
    assert history[0].speed == pytest.approx(10 * KNOT_MPS, rel=1e-6)
    assert (history[0].heading, history[0].accuracy) == (90.0, 4.0)
    await running.hub.live.positions.flush()
    assert (await running.hub.live.positions.get(provider.id)).lat == -23.5501


async def test_iso_timestamp_and_late_report(device):
    client, running, provider = device
    base = {"id": provider.device_key, "lon": "-46.63"}
    await client.get("/ingest/osmand", params={**base, "lat": "-23.55"})  # now
    iso = datetime.fromtimestamp(time.time() - 60, UTC).isoformat().replace("+00:00", "Z")
    late = await client.get("/ingest/osmand", params={**base, "lat": "-23.56", "timestamp": iso})
    assert late.json()["verdict"] == "late"
    assert await running.hub.records.tracks.count([provider.id]) == 2


@pytest.mark.parametrize(
    ("params", "status", "code"),
    [
        ({"lat": "1", "lon": "1"}, 401, "device_key_unknown"),
        ({"id": "wrong-key", "lat": "1", "lon": "1"}, 401, "device_key_unknown"),
        ({"lon": "1"}, 400, "bad_request"),
        ({"lat": "north", "lon": "1"}, 400, "bad_request"),
        ({"lat": "91", "lon": "1"}, 400, "lat_out_of_range"),
        ({"lat": "1", "lon": "181"}, 400, "lng_out_of_range"),
        ({"lat": "nan", "lon": "1"}, 400, "fix_not_finite"),
        (
            {"lat": "1", "lon": "1", "timestamp": str(int(time.time()) + 3600)},
            400,
            "fix_from_future",
        ),
        ({"lat": "1", "lon": "1", "timestamp": "yesterday"}, 400, "bad_request"),
        ({"lat": "1", "lon": "1", "speed": "9999"}, 400, "speed_out_of_range"),
    ],
)
async def test_bad_reports_are_refused_with_codes_and_not_stored(device, params, status, code):
    client, running, provider = device
    if "id" not in params and code != "device_key_unknown":
        params = {**params, "id": provider.device_key}
    response = await client.get("/ingest/osmand", params=params)
    assert response.status_code == status
    assert response.json()["error"]["code"] == code
    assert await running.hub.records.tracks.count() == 0


async def test_inactive_provider_is_refused(device):
    client, running, provider = device
    await registry.set_active(running.hub.records, provider.id, False)
    response = await client.get(
        "/ingest/osmand", params={"id": provider.device_key, "lat": "1", "lon": "1"}
    )
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "provider_inactive"


def test_timestamp_forms():
    assert parse_timestamp_ms("1700000000", 0) == 1_700_000_000_000
    assert parse_timestamp_ms("1700000000123", 0) == 1_700_000_000_123
    assert parse_timestamp_ms("2023-11-14T22:13:20Z", 0) == 1_700_000_000_000
    assert parse_timestamp_ms(None, 5) == 5
    for bad in ("2023-11-14T22:13:20", "-5", "inf", "soon"):
        with pytest.raises(BadRequest):
            parse_timestamp_ms(bad, 0)


async def test_a_replayed_report_is_stored_once(device):
    client, running, provider = device
    report = {
        "id": provider.device_key,
        "lat": "-23.55",
        "lon": "-46.63",
        "timestamp": str(int(time.time()) - 5),
    }
    first = await client.get("/ingest/osmand", params=report)
    again = await client.get("/ingest/osmand", params=report)
    assert (first.json()["verdict"], again.json()["verdict"]) == ("live", "late")
    assert await running.hub.records.tracks.count([provider.id]) == 1
