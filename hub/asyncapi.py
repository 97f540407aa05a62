"""The provider protocol as an AsyncAPI 3 document, generated from the wire Structs.

``hub asyncapi`` prints it; docs/asyncapi.json is its committed copy and a test keeps the
two equal, so the document cannot drift from the code.
"""

from __future__ import annotations

import inspect
from typing import Any

import msgspec

from hub import wire
from hub.errors import CODES, RECONNECT

CLIENT_FRAMES: tuple[type[wire.Base] | type[wire.FixData], ...] = (
    wire.Hello,
    wire.Fix,
    wire.Fixes,
    wire.Duty,
    wire.Ping,
)
HUB_FRAMES: tuple[type[wire.Base], ...] = (
    wire.Welcome,
    wire.Ack,
    wire.Notice,
    wire.Error,
    wire.Pong,
    wire.Duty,
)


def _tag(frame: type) -> str:
    info = msgspec.inspect.type_info(frame)
    assert isinstance(info, msgspec.inspect.StructType)
    return str(info.tag)


def document(version: str = "1") -> dict[str, Any]:
    frames = list(dict.fromkeys(CLIENT_FRAMES + HUB_FRAMES))
    _, schemas = msgspec.json.schema_components(frames, ref_template="#/components/schemas/{name}")
    messages = {
        frame.__name__: {
            "name": _tag(frame),
            "title": frame.__name__,
            "summary": inspect.cleandoc(frame.__doc__ or frame.__name__).splitlines()[0],
            "contentType": "application/json",
            "payload": {"$ref": f"#/components/schemas/{frame.__name__}"},
        }
        for frame in frames
    }

    def refs(group: tuple[type, ...]) -> list[dict[str, str]]:
        return [{"$ref": f"#/channels/provider/messages/{f.__name__}"} for f in group]

    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Dispatch hub provider protocol",
            "version": version,
            "description": (
                "Websocket protocol between provider apps and the hub. Frames are JSON objects "
                "in text messages or MessagePack maps in binary messages, tagged by `type`; "
                "the hub answers in the encoding the app used last. See "
                "docs/provider-protocol.md for a walk-through."
            ),
        },
        "channels": {
            "provider": {
                "address": "/ws/provider",
                "messages": {name: {"$ref": f"#/components/messages/{name}"} for name in messages},
            }
        },
        "operations": {
            "receiveFromProvider": {
                "action": "receive",
                "channel": {"$ref": "#/channels/provider"},
                "messages": refs(CLIENT_FRAMES),
            },
            "sendToProvider": {
                "action": "send",
                "channel": {"$ref": "#/channels/provider"},
                "messages": refs(HUB_FRAMES),
            },
        },
        "components": {"schemas": schemas, "messages": messages},
        "x-error-codes": {
            code: {"severity": info.severity, "meaning": info.meaning}
            for code, info in CODES.items()
        },
        "x-close-codes": {
            str(int(code)): {"name": code.name.lower(), "reconnect": RECONNECT[code]}
            for code in RECONNECT
        },
    }


def render() -> str:
    return msgspec.json.format(msgspec.json.encode(document()), indent=2).decode() + "\n"
