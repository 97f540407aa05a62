"""Typed settings, read once at start-up from ``HUB_*`` environment variables.

Every field carries its unit in its name, a default, and a description; the README's
configuration table is generated from these (``hub config``) and a test keeps it in sync.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Annotated, Any

import msgspec

PREFIX = "HUB_"


def _doc(text: str, **constraints: Any) -> msgspec.Meta:
    return msgspec.Meta(description=text, **constraints)


class Settings(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    host: Annotated[str, _doc("Interface `hub serve` binds; loopback unless you mean it.")] = (
        "127.0.0.1"
    )
    port: Annotated[int, _doc("TCP port of `hub serve` (0 picks a free one).", ge=0, le=65535)] = (
        8000
    )
    node_id: Annotated[str, _doc("Name of this hub node; empty means hostname-pid.")] = ""
    log_level: Annotated[str, _doc("Log level: debug, info, warning, error.")] = "info"
    database_url: Annotated[
        str, _doc("PostgreSQL URL for the records store; empty uses SQLite.")
    ] = ""
    postgres_schema: Annotated[str, _doc("PostgreSQL schema holding the hub's tables.")] = "public"
    postgres_pool_size: Annotated[int, _doc("Connections in the asyncpg pool.", ge=1)] = 10
    sqlite_path: Annotated[str, _doc("SQLite file of the embedded records store.")] = "hub.sqlite3"
    redis_url: Annotated[
        str,
        _doc(
            "Redis URL for live state (one server, or any node of a Redis Cluster, database 0);"
            " empty keeps it in memory."
        ),
    ] = ""
    redis_prefix: Annotated[str, _doc("Prefix of every Redis key this hub writes.")] = "hub"
    redis_pool_size: Annotated[
        int, _doc("Connections to Redis; a call waits for a free one when all are busy.", ge=1)
    ] = 100
    token_secret: Annotated[
        str, _doc("HMAC secret for tokens; empty generates one kept in the records store.")
    ] = ""
    provider_token_ttl_s: Annotated[int, _doc("Lifetime of a provider app token.", gt=0)] = (
        30 * 24 * 3600
    )
    admin_token_ttl_s: Annotated[int, _doc("Lifetime of an admin token.", gt=0)] = 12 * 3600
    operator_token_ttl_s: Annotated[
        int, _doc("Lifetime of a console user's session token.", gt=0)
    ] = 12 * 3600
    metrics_token: Annotated[
        str,
        _doc(
            "A bearer token /metrics then requires (Prometheus: authorization credentials);"
            " empty serves it to anyone who reaches the port."
        ),
    ] = ""
    login_attempts: Annotated[
        int,
        _doc(
            "Failed logins (per login name, and per client address) before a lockout of"
            " /auth/login and /portal/login (429 with Retry-After).",
            ge=1,
        ),
    ] = 5
    login_lockout_s: Annotated[
        float,
        _doc("The first lockout; each one in a row doubles it, up to 5 minutes.", gt=0, le=300),
    ] = 30.0
    auth_timeout_s: Annotated[
        float, _doc("A socket that has not authenticated by then is closed.", gt=0)
    ] = 10.0
    idle_timeout_s: Annotated[
        float, _doc("A provider socket silent for this long is closed.", gt=0)
    ] = 60.0
    drain_s: Annotated[
        float,
        _doc(
            "On SIGTERM, open sockets are closed with 1001 spread over this long (readiness"
            " is 503 meanwhile), then the process stops.",
            ge=0,
            le=600,
        ),
    ] = 10.0
    ws_ping_interval_s: Annotated[
        float,
        _doc(
            "Protocol-level websocket pings; 0 (default) leaves dead links to the idle timeout.",
            ge=0,
        ),
    ] = 0.0
    max_frame_bytes: Annotated[
        int, _doc("Largest websocket message accepted (close 1009 beyond).", ge=1024)
    ] = 16 * 1024
    max_fixes_per_s: Annotated[float, _doc("Sustained GPS fixes per second per session.", gt=0)] = (
        10.0
    )
    fix_burst: Annotated[
        int, _doc("Fixes a session may send at once (backlog after a dead zone).", ge=1)
    ] = 600
    flood_strikes: Annotated[
        int, _doc("Rate-limited frames in a row before the socket is closed.", ge=1)
    ] = 3
    seq_window: Annotated[
        int, _doc("How far ahead of the last ack a sequence number may run.", ge=1)
    ] = 4096
    stale_after_s: Annotated[
        float, _doc("A provider with no fix for this long is stale, not online.", gt=0)
    ] = 60.0
    future_tolerance_s: Annotated[
        float, _doc("Device clocks may run this far ahead before a fix is rejected.", ge=0)
    ] = 120.0
    max_fix_age_s: Annotated[
        float, _doc("Fixes older than this are rejected, not stored.", gt=0)
    ] = 7 * 24 * 3600.0
    max_speed_kmh: Annotated[
        float, _doc("Implied speed above which a fix is a jump (kept, not moved live).", gt=0)
    ] = 300.0
    live_flush_ms: Annotated[
        float,
        _doc(
            "Redis engine: positions are written (and streamed to other nodes) once per"
            " provider per tick.",
            gt=0,
        ),
    ] = 50.0
    track_batch_max: Annotated[
        int, _doc("Most GPS fixes written to the track store in one transaction.", ge=1)
    ] = 5000
    track_queue_max: Annotated[
        int, _doc("Fixes waiting for the track writer before sessions are slowed.", ge=1)
    ] = 50_000
    send_queue_bytes: Annotated[
        int, _doc("Bytes queued for one socket before it is cut off as too slow.", ge=1024)
    ] = 256 * 1024
    h3_resolution: Annotated[
        int, _doc("H3 resolution of a provider's matching cell.", ge=0, le=15)
    ] = 9
    road_factor: Annotated[
        float, _doc("Road distance per straight-line km, for ETAs and prices.", ge=1, le=5)
    ] = 1.3
    routing_url: Annotated[
        str, _doc("OSRM server for road ETAs of the candidates shown; empty: straight line.")
    ] = ""
    routing_timeout_s: Annotated[
        float, _doc("Longest wait for the routing backend before straight-line ETAs.", gt=0)
    ] = 1.0
    ranking_weights: Annotated[
        str, _doc('JSON overriding ranking weights, e.g. {"per_km": 1, "partner_bonus": 5}.')
    ] = ""
    demo: Annotated[
        bool,
        _doc(
            "Move the demo providers as if their apps streamed GPS, and have them answer"
            " app offers and report their jobs' steps (see `hub demo`)."
        ),
    ] = False
    timezone: Annotated[str, _doc("IANA time zone of providers' working hours.")] = (
        "America/Sao_Paulo"
    )
    public_url: Annotated[
        str, _doc("Base URL providers open offer links at (SMS and e-mail carry it).")
    ] = "http://127.0.0.1:8000"
    sweep_interval_s: Annotated[
        float, _doc("How often every node looks for dispatch deadlines nobody fired.", gt=0)
    ] = 1.0
    sweep_grace_s: Annotated[
        float, _doc("A deadline this overdue is taken over by any node's sweeper.", ge=0)
    ] = 1.0
    arrival_radius_m: Annotated[
        float, _doc("An assigned provider's fix this close to the origin is its arrival.", gt=0)
    ] = 150.0
    sms_url: Annotated[
        str, _doc("HTTP SMS gateway (POST {to, text}); empty keeps SMS in the outbox.")
    ] = ""
    sms_key: Annotated[str, _doc("Bearer key of the SMS gateway.")] = ""
    smtp_host: Annotated[
        str, _doc("SMTP server for offer e-mails; empty keeps them in the outbox.")
    ] = ""
    smtp_port: Annotated[int, _doc("SMTP port (STARTTLS when offered).", ge=1, le=65535)] = 587
    smtp_from: Annotated[str, _doc("Sender address of offer e-mails.")] = "hub@localhost"
    smtp_user: Annotated[str, _doc("SMTP login; empty sends without authentication.")] = ""
    smtp_password: Annotated[str, _doc("SMTP password.")] = ""
    dashboard_origins: Annotated[
        str,
        _doc(
            "Comma-separated page origins allowed to open /ws/dashboard (browsers send"
            " Origin), besides HUB_PUBLIC_URL's origin and pages served on loopback."
        ),
    ] = ""
    dashboard_queue_bytes: Annotated[
        int, _doc("Bytes queued for one console socket before it is cut off.", ge=65536)
    ] = 4 * 1024 * 1024
    idempotency_ttl_s: Annotated[
        int,
        _doc("How long a request's Idempotency-Key answers with its first response.", ge=60),
    ] = 86_400
    dashboard_flush_ms: Annotated[
        float,
        _doc(
            "Console updates are gathered this long and written to each socket together.",
            ge=0,
            le=1000,
        ),
    ] = 10.0
    map_interval_s: Annotated[
        float, _doc("How often the live map gets the providers that moved.", gt=0)
    ] = 1.0
    console_keepalive_s: Annotated[
        float,
        _doc(
            "A console socket gets a `keepalive` frame this often, so a quiet panel is not"
            " cut by a proxy's read timeout (keep it well under the proxy's).",
            gt=0,
        ),
    ] = 20.0
    client_first: Annotated[
        bool, _doc("A new event starts by choosing the client (its script, a search within it).")
    ] = False
    geocoder_url: Annotated[
        str, _doc("Nominatim-compatible geocoder for address search; empty turns search off.")
    ] = "https://nominatim.openstreetmap.org"
    cep_url: Annotated[
        str, _doc("ViaCEP-compatible CEP lookup (GET <url>/<cep>/json/); empty turns it off.")
    ] = "https://viacep.com.br/ws"
    maps_short_hosts: Annotated[
        str, _doc("Hosts of Google Maps short links the hub follows to their full URL.")
    ] = "maps.app.goo.gl,goo.gl"
    outside_timeout_s: Annotated[
        float, _doc("Longest wait for the geocoder, the CEP lookup or a short link.", gt=0)
    ] = 5.0
    web_dir: Annotated[
        str, _doc("Folder of the operator console's files; empty: web/ beside the hub package.")
    ] = ""
    map_tiles_url: Annotated[
        str,
        _doc("Map tile URL template for the console; empty shows markers on a blank map."),
    ] = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
    map_tiles_attribution: Annotated[str, _doc("Attribution shown under the map tiles.")] = (
        "© OpenStreetMap contributors"
    )
    h3_region_resolution: Annotated[
        int, _doc("H3 resolution of the region cells that shard Redis GEO sets.", ge=0, le=15)
    ] = 3

    @property
    def records_engine(self) -> str:
        return "postgres" if self.database_url else "sqlite"

    @property
    def live_engine(self) -> str:
        return "redis" if self.redis_url else "memory"

    @property
    def node_name(self) -> str:
        return self.node_id or f"{os.uname().nodename}-{os.getpid()}"


class ConfigError(ValueError):
    """A HUB_* variable could not be read; the message names it."""


def load_settings(environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
    """Build settings from ``HUB_*`` variables (unknown ``HUB_*`` names are an error)."""
    environ = os.environ if environ is None else environ
    known = set(Settings.__struct_fields__)
    raw: dict[str, Any] = {}
    for name, value in environ.items():
        if not name.startswith(PREFIX):
            continue
        field = name[len(PREFIX) :].lower()
        if field not in known:
            hint = ", ".join(PREFIX + k.upper() for k in sorted(known))
            raise ConfigError(f"unknown setting {name}; known: {hint}")
        raw[field] = value
    raw.update(overrides)
    try:
        return msgspec.convert(raw, Settings, strict=False)
    except msgspec.ValidationError as exc:
        raise ConfigError(f"bad configuration: {_env_name(str(exc))}") from None


def _env_name(message: str) -> str:
    """Turn msgspec's `$.field` paths into the variable the user actually set."""
    if "`$." in message:
        head, _, tail = message.partition("`$.")
        field, _, rest = tail.partition("`")
        return f"{head}{PREFIX}{field.upper()}{rest}"
    return message


def markdown_table() -> str:
    """The README's configuration table, generated from the Settings fields."""
    info = msgspec.inspect.type_info(Settings)
    assert isinstance(info, msgspec.inspect.StructType)
    lines = ["| variable | default | meaning |", "| --- | --- | --- |"]
    for field in info.fields:
        schema = getattr(field.type, "extra_json_schema", None) or {}
        description = schema.get("description", "")
        default = field.default
        shown = f"`{default}`" if default not in ("", None) else "(empty)"
        lines.append(f"| `{PREFIX}{field.name.upper()}` | {shown} | {description} |")
    return "\n".join(lines)
