"""The websocket protocols (provider apps, console dashboards) as one AsyncAPI 3 document,
generated from the wire Structs.

``hub asyncapi`` prints it; docs/asyncapi.json is its committed copy and a test keeps the
two equal, so the document cannot drift from the code.
"""

from __future__ import annotations

import inspect
from typing import Any

import msgspec

from hub import wire
from hub.errors import CODES, RECONNECT
from hub.schemas import components

CLIENT_FRAMES: tuple[type[wire.Base] | type[wire.FixData], ...] = (
    wire.Hello,
    wire.Fix,
    wire.Fixes,
    wire.Duty,
    wire.Ping,
    wire.Accept,
    wire.Refuse,
    wire.StepFrame,
)
HUB_FRAMES: tuple[type[wire.Base], ...] = (
    wire.Welcome,
    wire.Ack,
    wire.Notice,
    wire.Error,
    wire.Pong,
    wire.Duty,
    wire.OfferFrame,
    wire.OfferClosed,
    wire.Assignment,
    wire.Status,
)
CONSOLE_FRAMES: tuple[type[wire.Base], ...] = (
    wire.SignIn,
    wire.Subscribe,
    wire.Unsubscribe,
    wire.Ping,
)
DASHBOARD_FRAMES: tuple[type[wire.Base], ...] = (
    wire.SignedIn,
    wire.SnapshotFrame,
    wire.Update,
    wire.Error,
    wire.Pong,
)


def _tag(frame: type) -> str:
    info = msgspec.inspect.type_info(frame)
    assert isinstance(info, msgspec.inspect.StructType)
    return str(info.tag)


def message_name(frame: type) -> str:
    """A frame's message name: its type tag in TitleCase (``offer_closed`` -> OfferClosed),
    whatever the class is called in the code (``wire.OfferFrame`` beside the domain's
    ``Offer``)."""
    return "".join(part.capitalize() for part in _tag(frame).split("_"))


def document(version: str = "1") -> dict[str, Any]:
    frames = list(dict.fromkeys(CLIENT_FRAMES + HUB_FRAMES + CONSOLE_FRAMES + DASHBOARD_FRAMES))
    schemas = components(frames)
    messages = {
        message_name(frame): {
            "name": _tag(frame),
            "title": message_name(frame),
            "summary": inspect.cleandoc(frame.__doc__ or frame.__name__).splitlines()[0],
            "contentType": "application/json",
            "payload": {"$ref": f"#/components/schemas/{frame.__name__}"},
        }
        for frame in frames
    }

    def refs(channel: str, group: tuple[type, ...]) -> list[dict[str, str]]:
        return [{"$ref": f"#/channels/{channel}/messages/{message_name(f)}"} for f in group]

    def channel(address: str, *groups: tuple[type, ...]) -> dict[str, Any]:
        names = dict.fromkeys(message_name(f) for group in groups for f in group)
        return {
            "address": address,
            "messages": {name: {"$ref": f"#/components/messages/{name}"} for name in names},
        }

    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Dispatch hub websocket protocols",
            "version": version,
            "description": (
                "Two websocket protocols. `/ws/provider`: provider apps and the hub; frames are "
                "JSON objects in text messages or MessagePack maps in binary messages, tagged by "
                "`type`; the hub answers in the encoding the app used last "
                "(docs/provider-protocol.md walks through it). `/ws/dashboard`: the operator "
                "console's live topics, JSON only (docs/dashboard-protocol.md)."
            ),
        },
        "channels": {
            "provider": channel("/ws/provider", CLIENT_FRAMES, HUB_FRAMES),
            "dashboard": channel("/ws/dashboard", CONSOLE_FRAMES, DASHBOARD_FRAMES),
        },
        "operations": {
            "receiveFromProvider": {
                "action": "receive",
                "channel": {"$ref": "#/channels/provider"},
                "messages": refs("provider", CLIENT_FRAMES),
            },
            "sendToProvider": {
                "action": "send",
                "channel": {"$ref": "#/channels/provider"},
                "messages": refs("provider", HUB_FRAMES),
            },
            "receiveFromConsole": {
                "action": "receive",
                "channel": {"$ref": "#/channels/dashboard"},
                "messages": refs("dashboard", CONSOLE_FRAMES),
            },
            "sendToConsole": {
                "action": "send",
                "channel": {"$ref": "#/channels/dashboard"},
                "messages": refs("dashboard", DASHBOARD_FRAMES),
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
