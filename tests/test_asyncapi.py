"""The AsyncAPI document is generated from the wire Structs and matches docs/."""

from pathlib import Path

import jsonschema
import msgspec
import pytest

from hub import wire
from hub.asyncapi import document, render
from hub.errors import CODES, DASHBOARD_ONLY, RECONNECT, REST_ONLY

DOCS = Path(__file__).parent.parent / "docs"


def test_committed_document_is_the_generated_one():
    committed = (DOCS / "asyncapi.json").read_text()
    assert committed == render(), "run `hub asyncapi > docs/asyncapi.json`"


def test_document_shape():
    doc = document()
    assert doc["asyncapi"] == "3.0.0"
    assert doc["channels"]["provider"]["address"] == "/ws/provider"
    assert set(doc["x-error-codes"]) == set(CODES)
    assert {int(c) for c in doc["x-close-codes"]} == {int(c) for c in RECONNECT}


@pytest.mark.parametrize(
    "frame",
    [
        wire.Hello(token="t", app="a"),
        wire.Fix(seq=1, t=2, lat=3.0, lng=4.0, acc=5.0),
        wire.Fixes(fixes=[wire.FixData(seq=1, t=2, lat=3.0, lng=4.0)]),
        wire.Duty(on=True),
        wire.Ping(id=3),
        wire.Welcome(
            session_id="s", provider_id=1, server_time=5, limits=wire.Limits(1, 2.0, 3, 4, 5.0)
        ),
        wire.Ack(seq=2),
        wire.Notice(code="speed_jump", message="m", seq=1),
        wire.Error(code="rate_limited", message="m", retry_after_s=1.5),
        wire.Pong(id=1, server_time=2),
    ],
)
def test_real_frames_validate_against_the_documented_schemas(frame):
    doc = document()
    schema = {
        "$ref": f"#/components/schemas/{type(frame).__name__}",
        "components": doc["components"],
    }
    jsonschema.validate(msgspec.to_builtins(frame), schema)


def test_documented_schema_refuses_what_the_decoder_refuses():
    doc = document()
    schema = {"$ref": "#/components/schemas/Fix", "components": doc["components"]}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"type": "fix", "seq": 0, "t": 1, "lat": 0, "lng": 0}, schema)


def test_protocol_guide_lists_every_code_and_close_code():
    guide = (DOCS / "provider-protocol.md").read_text()
    for code in set(CODES) - REST_ONLY - DASHBOARD_ONLY:
        assert f"`{code}`" in guide, code
    for close in RECONNECT:
        assert f"| {int(close)} | {close.name.lower()} |" in guide


def test_dashboard_guide_names_every_frame_and_its_own_codes():
    guide = (DOCS / "dashboard-protocol.md").read_text()
    for code in DASHBOARD_ONLY | {"slow_consumer", "not_authenticated", "forbidden"}:
        assert f"`{code}`" in guide, code
    channel = document()["channels"]["dashboard"]
    assert channel["address"] == "/ws/dashboard"
    for name in channel["messages"]:
        tag = document()["components"]["messages"][name]["name"]
        assert f'"type":"{tag}"' in guide or tag in ("error", "pong", "ping", "unsubscribe"), tag
