"""The provider websocket protocol: every frame, both directions, as msgspec Structs.

Frames are JSON in text messages or MessagePack in binary messages; the hub answers in the
encoding the client used last. Each frame is an object tagged by ``type``.  New fields only
ever arrive with defaults and field types never change, so old apps keep working.

Fix coordinates are deliberately *not* range-checked in the schema: one bad fix in a batch
must be refused on its own (with its own code) without losing the others, so the fix filter
(hub/ingest/filter.py) checks them.  Everything else is range-checked here.
"""

from __future__ import annotations

from typing import Annotated

import msgspec

from hub.errors import FrameError
from hub.operations.attendances import Place

Seq = Annotated[int, msgspec.Meta(ge=1, le=2**53, description="Per-session sequence number.")]
EpochMs = Annotated[int, msgspec.Meta(ge=0, le=2**53, description="Unix time in milliseconds.")]
Text = Annotated[str, msgspec.Meta(max_length=200)]
Id = Annotated[int, msgspec.Meta(ge=1, le=2**53)]


class Base(msgspec.Struct, tag_field="type", forbid_unknown_fields=True, omit_defaults=True):
    pass


# --- provider -> hub -------------------------------------------------------------------------


# gc=False: numbers only, so never part of a cycle; ingest makes hundreds of thousands a
# second and the collector no longer walks them.
class FixData(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True, gc=False):
    """One GPS fix as the device measured it."""

    seq: Seq
    t: EpochMs  # device timestamp
    lat: float  # degrees, WGS84
    lng: float  # degrees, WGS84
    acc: float | None = None  # horizontal accuracy, metres
    spd: float | None = None  # speed, metres per second
    hdg: float | None = None  # heading, degrees clockwise from north


class Hello(Base, tag="hello"):
    """First frame: authenticates (unless the Authorization header did) and names the app."""

    token: Annotated[str, msgspec.Meta(max_length=4096)] | None = None
    app: Text = ""
    version: Text = ""


class Fix(FixData, tag="fix", tag_field="type"):
    """A single fix."""


class Fixes(Base, tag="fixes"):
    """A batch of fixes, oldest first (what an app sends after a dead zone)."""

    fixes: Annotated[list[FixData], msgspec.Meta(min_length=1)]


class Duty(Base, tag="duty"):
    """Provider goes on or off duty. The hub echoes it once stored."""

    on: bool


class Ping(Base, tag="ping"):
    """Application-level keepalive; the hub answers with pong."""

    id: Annotated[int, msgspec.Meta(ge=0, le=2**53)] = 0


class Accept(Base, tag="accept"):
    """Take an offer, promising to arrive within ``eta_min`` minutes."""

    offer_id: Id
    eta_min: Annotated[int, msgspec.Meta(ge=1, le=1440, description="Minutes to arrive.")]


class Refuse(Base, tag="refuse"):
    """Decline an offer; ``reason`` is a code of the refusal catalogue (see the guide)."""

    offer_id: Id
    reason: Annotated[str, msgspec.Meta(max_length=40)] = "other"


class StepFrame(Base, tag="step"):
    """Report progress on an assigned attendance: depart, arrive, start, complete, gone
    (nobody at the origin) or fail; gone and fail need a reason."""

    attendance_id: Id
    step: Annotated[str, msgspec.Meta(max_length=20)]
    reason: Text = ""


ClientFrame = Hello | Fix | Fixes | Duty | Ping | Accept | Refuse | StepFrame


# --- hub -> provider -------------------------------------------------------------------------


class Limits(msgspec.Struct, omit_defaults=False):
    max_frame_bytes: int
    max_fixes_per_s: float
    fix_burst: int
    seq_window: int
    idle_timeout_s: float


class Welcome(Base, tag="welcome"):
    session_id: str
    provider_id: int
    server_time: EpochMs
    limits: Limits


class Ack(Base, tag="ack"):
    """Every fix with a sequence number up to ``seq`` is durably stored (or was refused)."""

    seq: Annotated[int, msgspec.Meta(ge=0)]


class Notice(Base, tag="notice"):
    """Input accepted with a remark (a code of severity notice)."""

    code: str
    message: str
    seq: int | None = None


class Error(Base, tag="error"):
    """Input refused (a code of severity error). The socket stays open unless a close follows."""

    code: str
    message: str
    seq: int | None = None
    retry_after_s: float | None = None
    ref: int | None = None  # the offer or attendance the refused frame named


class Pong(Base, tag="pong"):
    id: int
    server_time: EpochMs


class OfferFrame(Base, tag="offer"):
    """A job offered to this provider until ``deadline``.  Only where and what: who the
    beneficiary is comes with the assignment."""

    offer_id: int
    attendance_id: int
    service: str
    district: str
    city: str
    distance_m: float | None  # from the provider's last known position
    deadline: EpochMs
    server_time: EpochMs


class OfferClosed(Base, tag="offer_closed"):
    """An offer that can no longer be accepted: ``state`` is expired, withdrawn or taken."""

    offer_id: int
    state: str
    reason: str = ""


class Assignment(Base, tag="assignment"):
    """The job is this provider's: every detail needed to do it."""

    attendance_id: int
    offer_id: int
    service: str
    requester_name: str
    requester_phone: str
    origin: Place
    destination: Place | None
    notes: str
    eta_min: int
    promised: EpochMs  # arrival promised at acceptance
    state: str


class Status(Base, tag="status"):
    """The attendance moved (the provider's own step, or an operator's, e.g. a cancel)."""

    attendance_id: int
    state: str
    reason: str = ""


HubFrame = (
    Welcome | Ack | Notice | Error | Pong | Duty | OfferFrame | OfferClosed | Assignment | Status
)


# --- the dashboard stream (/ws/dashboard) -----------------------------------------------------
#
# Console -> hub: sign in with the session token, then subscribe to topics: "dispatch"
# (attendances without a provider), "tracking" (attendances in progress), "map" (provider
# positions, at most once a second each) and "attendance:<id>" (one attendance's log).


class SignIn(Base, tag="sign_in"):
    """First frame: the console user's session token (browsers cannot set headers)."""

    token: Annotated[str, msgspec.Meta(max_length=4096)]


Topic = Annotated[str, msgspec.Meta(max_length=40, pattern=r"^[a-z_]+(:[0-9]{1,15})?$")]


class Subscribe(Base, tag="subscribe"):
    """Start a topic: a snapshot, then updates.  With ``since`` (the last offset seen) the
    hub sends only what was missed, or a snapshot marked ``resync`` when that is gone."""

    topic: Topic
    since: Annotated[str, msgspec.Meta(max_length=40)] | None = None


class Unsubscribe(Base, tag="unsubscribe"):
    topic: Topic


DashboardClientFrame = SignIn | Subscribe | Unsubscribe | Ping


class PanelRow(msgspec.Struct, kw_only=True):
    """One attendance as the dispatch and tracking panels show it."""

    attendance_id: int
    event_id: int
    client_id: int  # the event's client (the panels' client filter)
    state: str
    service: str | None
    district: str
    city: str
    at_ms: int  # when it was registered (minutes waiting count from here)
    scheduled_ms: int | None
    attempts: int  # offers made so far
    automatic: bool
    dispatch_note: str
    provider_id: int | None
    provider_name: str
    promised_ms: int | None
    current_eta_ms: int | None
    late_risk: bool
    assigned_ms: int | None = None
    arrived_ms: int | None = None
    lat: float | None = None  # the origin, for the map
    lng: float | None = None


class MapPoint(msgspec.Struct, array_like=True):
    """[provider id, lat, lng, connectivity, on duty, engaged, name]."""

    provider_id: int
    lat: float
    lng: float
    connectivity: str
    on_duty: bool
    engaged: bool
    name: str


class LogLine(msgspec.Struct, kw_only=True):
    action: str
    actor: str
    detail: str
    at_ms: int
    state: str


class SignedIn(Base, tag="signed_in"):
    user: str
    role: str
    server_time: EpochMs


class Keepalive(Base, tag="keepalive"):
    """Sent to every console every ``HUB_CONSOLE_KEEPALIVE_S``, so that a quiet socket is
    not cut by a proxy's read timeout; needs no answer."""

    server_time: EpochMs


class SnapshotFrame(Base, tag="snapshot"):
    """A topic's whole current state, valid as of ``offset``."""

    topic: str
    offset: str
    resync: bool = False  # the offset asked for was too old: start over from here
    rows: list[PanelRow] | None = None
    points: list[MapPoint] | None = None
    log: list[LogLine] | None = None


class Update(Base, tag="update"):
    """A change after ``offset``'s predecessor: a row to upsert, a row id to drop, moved
    providers, or a log line."""

    topic: str
    offset: str
    row: PanelRow | None = None
    removed: int | None = None
    points: list[MapPoint] | None = None
    line: LogLine | None = None


DashboardFrame = SignedIn | SnapshotFrame | Update | Error | Pong | Keepalive


# --- codecs, built once ------------------------------------------------------------------------

_json_decoder = msgspec.json.Decoder(ClientFrame)
_msgpack_decoder = msgspec.msgpack.Decoder(ClientFrame)
_json_encoder = msgspec.json.Encoder()
_msgpack_encoder = msgspec.msgpack.Encoder()


def decode(data: str | bytes) -> ClientFrame:
    """Decode a text (JSON) or binary (MessagePack) message, mapping failures to FrameError."""
    try:
        frame: ClientFrame = (
            _json_decoder.decode(data) if isinstance(data, str) else _msgpack_decoder.decode(data)
        )
        return frame
    except msgspec.ValidationError as exc:  # a subclass of DecodeError: catch it first
        raise FrameError(str(exc), code=_validation_code(str(exc))) from None
    except msgspec.DecodeError:
        encoding = "JSON" if isinstance(data, str) else "MessagePack"
        raise FrameError(f"not valid {encoding}", code="malformed_frame") from None


_dashboard_decoder = msgspec.json.Decoder(DashboardClientFrame)


def decode_dashboard(data: str | bytes) -> DashboardClientFrame:
    """A console frame (JSON, text or binary), failures mapped to FrameError."""
    try:
        frame: DashboardClientFrame = _dashboard_decoder.decode(data)
        return frame
    except msgspec.ValidationError as exc:
        raise FrameError(str(exc), code=_validation_code(str(exc))) from None
    except msgspec.DecodeError:
        raise FrameError("not valid JSON", code="malformed_frame") from None


def _validation_code(message: str) -> str:
    if message.startswith("Object contains unknown field"):
        return "unknown_field"
    if message.endswith("at `$.type`") or message == "Object missing required field `type`":
        return "unknown_frame_type"
    return "invalid_frame"


def encode_json(frame: HubFrame | DashboardFrame) -> bytes:
    return _json_encoder.encode(frame)


def encode_msgpack(frame: HubFrame) -> bytes:
    return _msgpack_encoder.encode(frame)
