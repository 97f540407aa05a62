"""One error tree, one registry of wire codes, one registry of close codes.

    HubError                      code + message; never carries a library exception outward
    ├── BadRequest                REST input that cannot be used (400)
    ├── Unauthorized              missing or invalid credentials (401)
    │   └── TokenError            a token that is forged, expired, for another audience, revoked
    ├── Forbidden                 valid credentials, not allowed (403)
    ├── NotFound                  (404)
    ├── Conflict                  (409)
    ├── FrameError                a websocket frame that cannot be used (socket stays open)
    ├── FixRejected               one GPS fix refused by the filter (socket stays open)
    └── StoreUnavailable          Redis, PostgreSQL or SQLite failed, mapped at the edge (503)

Every ``code`` a client can see is in ``CODES`` below, with its meaning; the protocol
guide and the AsyncAPI document are generated from this table.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum


@dataclass(frozen=True, slots=True)
class CodeInfo:
    severity: str  # "error": input refused; "notice": input accepted with a remark
    http_status: int
    meaning: str
    details: tuple[str, ...] = ()  # the keys of the REST answer's error.details


CODES: dict[str, CodeInfo] = {
    # frames
    "malformed_frame": CodeInfo("error", 400, "Not valid JSON or MessagePack."),
    "unknown_frame_type": CodeInfo("error", 400, "The `type` tag names no frame of this protocol."),
    "unknown_field": CodeInfo(
        "error", 400, "The frame carries a field the protocol does not know."
    ),
    "invalid_frame": CodeInfo(
        "error", 400, "A field is missing, of the wrong type or out of range."
    ),
    "not_authenticated": CodeInfo("error", 401, "Send hello with a token before anything else."),
    "already_authenticated": CodeInfo("error", 400, "A second hello on an authenticated socket."),
    # authentication
    "token_missing": CodeInfo("error", 401, "No token in the Authorization header or hello."),
    "token_invalid": CodeInfo("error", 401, "The token's signature or format is wrong."),
    "token_expired": CodeInfo("error", 401, "The token is past its expiry; get a new one."),
    "token_audience": CodeInfo("error", 401, "The token was issued for another audience."),
    "token_revoked": CodeInfo("error", 401, "The token's version was revoked; get a new one."),
    "provider_inactive": CodeInfo("error", 403, "The provider is deactivated."),
    "device_key_unknown": CodeInfo("error", 401, "No provider has this device key."),
    "forbidden": CodeInfo("error", 403, "These credentials may not do this."),
    "login_failed": CodeInfo("error", 401, "Login or password is wrong."),
    "too_many_attempts": CodeInfo(
        "error", 429, "Too many failed logins: wait the Retry-After seconds."
    ),
    # session lifecycle (sent just before the matching close code)
    "session_replaced": CodeInfo("error", 409, "A newer session of this provider took over."),
    "idle_timeout": CodeInfo("error", 408, "Nothing received for idle_timeout_s."),
    # fixes
    "fix_not_finite": CodeInfo("error", 400, "lat, lng, accuracy, speed or heading is NaN or inf."),
    "lat_out_of_range": CodeInfo("error", 400, "Latitude outside [-90, 90]."),
    "lat_beyond_geo_limit": CodeInfo(
        "error", 400, "Latitude beyond +-85.05112878, the limit of Redis GEO."
    ),
    "lng_out_of_range": CodeInfo("error", 400, "Longitude outside [-180, 180]."),
    "fix_from_future": CodeInfo("error", 400, "Device timestamp too far ahead of the hub clock."),
    "fix_too_old": CodeInfo("error", 400, "Device timestamp older than the history kept."),
    "accuracy_out_of_range": CodeInfo("error", 400, "Accuracy negative or above 100 km."),
    "speed_out_of_range": CodeInfo("error", 400, "Speed negative or above 200 m/s."),
    "heading_out_of_range": CodeInfo("error", 400, "Heading outside [0, 360]."),
    "seq_out_of_window": CodeInfo("error", 400, "Sequence number too far ahead of the last ack."),
    "rate_limited": CodeInfo(
        "error", 429, "Too many fixes; the frame was dropped, resend after retry_after_s."
    ),
    "duplicate_seq": CodeInfo(
        "notice", 200, "Sequence number seen before; acked, not stored twice."
    ),
    "fix_out_of_order": CodeInfo(
        "notice",
        200,
        "Not newer than the live position: live position kept; stored in history unless a"
        " fix of the same device time is (the first stored wins).",
    ),
    "speed_jump": CodeInfo(
        "notice", 200, "Implies an impossible speed: stored flagged, live position kept."
    ),
    # offers and the attendance lifecycle (socket, portal, links, operator)
    "offer_taken": CodeInfo("error", 409, "Another provider already has this attendance."),
    "offer_expired": CodeInfo("error", 410, "The offer's deadline passed."),
    "offer_refused": CodeInfo("error", 409, "The offer was already refused."),
    "offer_withdrawn": CodeInfo("error", 410, "The offer was withdrawn (the job was cancelled)."),
    "offer_unknown": CodeInfo("error", 404, "No offer with this id was made to this provider."),
    "unknown_refusal_reason": CodeInfo("error", 400, "The refusal reason is not in the catalogue."),
    "illegal_transition": CodeInfo(
        "error",
        409,
        "The attendance's (or the event's) state does not allow this step.",
        ("step", "state"),
    ),
    "not_your_attendance": CodeInfo(
        "error",
        403,
        "The attendance is not assigned to this provider (someone else has it, or there is no"
        " such attendance).",
    ),
    "link_invalid": CodeInfo("error", 404, "The link is malformed, tampered with or for no offer."),
    "provider_unreachable": CodeInfo(
        "error", 409, "The provider cannot receive an offer by this mode now.", ("mode",)
    ),
    # the dashboard stream
    "unknown_topic": CodeInfo("error", 400, "No topic has this name."),
    "over_km_limit": CodeInfo(
        "error",
        409,
        "The tow is longer than the plan covers; open it as avulso.",
        ("service", "km", "limit_km"),
    ),
    "over_value_cap": CodeInfo(
        "error",
        409,
        "The provider's price is over the plan's value cap; avulso, or another.",
        ("price_cents", "cap_cents"),
    ),
    "service_not_covered": CodeInfo(
        "error", 409, "The plan does not cover this service; open it as avulso.", ("service",)
    ),
    "service_used_up": CodeInfo(
        "error",
        409,
        "The plan's uses of this service are used up for the period; open it as avulso.",
        ("service",),
    ),
    "event_closed": CodeInfo("error", 409, "The event is closed: reopen it first."),
    # address search
    "invalid_cep": CodeInfo("error", 400, "A CEP has 8 digits (01310-100)."),
    "geocoder_unavailable": CodeInfo(
        "error", 503, "The geocoder or the CEP lookup did not answer; use another source."
    ),
    # REST and engines
    "bad_request": CodeInfo(
        "error",
        400,
        "The request cannot be used as sent.  When one field is at fault, ``field`` names it"
        " (its path, as ``origin.street``) and ``problem`` says what is wrong: ``invalid``,"
        " ``required``, ``has_number`` (a street holding its number), ``too_short`` (with"
        " ``min_length``), ``in_past``, ``not_dispatched`` (with ``kind``), ``weak`` (a"
        " password; with ``min_length``).",
        ("field", "problem", "min_length", "kind"),
    ),
    "body_too_large": CodeInfo("error", 413, "The request body is over the route's limit."),
    "unknown_service": CodeInfo("error", 400, "No service in the catalogue has this code."),
    "unknown_client": CodeInfo("error", 400, "No active client has this id."),
    "csv_rows_invalid": CodeInfo(
        "error", 422, "Some CSV rows are wrong; nothing was imported.", ("rows",)
    ),
    "not_found": CodeInfo("error", 404, "No such resource."),
    "conflict": CodeInfo("error", 409, "The resource changed or already exists."),
    "idempotency_key_reused": CodeInfo(
        "error", 422, "This Idempotency-Key was first sent with another request."
    ),
    "idempotency_key_in_flight": CodeInfo(
        "error", 409, "The request first sent with this Idempotency-Key is still running."
    ),
    "store_unavailable": CodeInfo("error", 503, "A backing store failed; retry later."),
}


# Codes only the console's dashboard socket sends.
DASHBOARD_ONLY = frozenset({"unknown_topic"})

# Codes only the REST API answers with; the provider socket never sends them.
REST_ONLY = frozenset(
    {
        "bad_request",
        "body_too_large",
        "not_found",
        "conflict",
        "idempotency_key_reused",
        "idempotency_key_in_flight",
        "forbidden",
        "device_key_unknown",
        "unknown_service",
        "csv_rows_invalid",
        "login_failed",
        "too_many_attempts",
        "unknown_client",
        "link_invalid",
        "provider_unreachable",
        "invalid_cep",
        "over_km_limit",
        "over_value_cap",
        "geocoder_unavailable",
        "service_not_covered",
        "service_used_up",
        "event_closed",
    }
)


class Close(IntEnum):
    """Websocket close codes; ``RECONNECT`` says whether the app should dial again."""

    NORMAL = 1000
    GOING_AWAY = 1001  # hub shutting down
    INVALID_PAYLOAD = 1007  # a text message that is not UTF-8 (the websocket layer)
    FRAME_TOO_LARGE = 1009  # set by the server before the app sees the frame
    INTERNAL_ERROR = 1011
    AUTH_TIMEOUT = 4000
    AUTH_FAILED = 4001  # token missing, forged, expired, wrong audience
    TOKEN_REVOKED = 4002
    PROVIDER_INACTIVE = 4003
    SESSION_REPLACED = 4004  # another session of the same provider took over
    IDLE_TIMEOUT = 4005
    RATE_LIMITED = 4006
    SLOW_CONSUMER = 4008  # the send queue filled: the client is not reading
    FORBIDDEN = 4009  # valid credentials that may not use this socket (a provider's token)


RECONNECT: dict[Close, bool] = {
    Close.NORMAL: False,
    Close.GOING_AWAY: True,
    Close.INVALID_PAYLOAD: True,
    Close.FRAME_TOO_LARGE: True,
    Close.INTERNAL_ERROR: True,
    Close.AUTH_TIMEOUT: True,
    Close.AUTH_FAILED: False,
    Close.TOKEN_REVOKED: False,
    Close.PROVIDER_INACTIVE: False,
    Close.SESSION_REPLACED: False,
    Close.IDLE_TIMEOUT: True,
    Close.RATE_LIMITED: True,
    Close.SLOW_CONSUMER: True,
    Close.FORBIDDEN: False,
}


class HubError(Exception):
    code = "bad_request"

    def __init__(self, message: str, *, code: str | None = None, **details: object) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code
        assert self.code in CODES, f"unregistered error code {self.code}"
        self._details = details

    @property
    def message(self) -> str:
        return str(self.args[0])

    @property
    def http_status(self) -> int:
        return CODES[self.code].http_status

    def details(self) -> dict[str, object]:
        """What the code's message is about, for a client to word it in its own language
        (``error.details`` of a REST answer; the keys each code carries are in ``CODES``)."""
        return self._details

    def headers(self) -> dict[str, str]:
        """Headers a REST error answer carries (none by default)."""
        return {}


class BadRequest(HubError):
    code = "bad_request"


class Unauthorized(HubError):
    code = "token_invalid"


class TokenError(Unauthorized):
    @property
    def close_code(self) -> Close:
        if self.code == "token_revoked":
            return Close.TOKEN_REVOKED
        if self.code == "provider_inactive":
            return Close.PROVIDER_INACTIVE
        return Close.AUTH_FAILED


class Forbidden(HubError):
    code = "forbidden"


class NotFound(HubError):
    code = "not_found"


class Conflict(HubError):
    code = "conflict"


class FrameError(HubError):
    code = "invalid_frame"


class FixRejected(HubError):
    code = "invalid_frame"


class StoreUnavailable(HubError):
    code = "store_unavailable"
