"""Engines and pure settings-derived objects, built from the settings (by the lifespan)."""

from __future__ import annotations

import logging

from hub import wire
from hub.clock import now_ms
from hub.config import ConfigError, Settings
from hub.dispatch.notify import HttpSms, Notifier, SmtpEmail
from hub.ingest import filter_in_use
from hub.ingest.filter import FilterRules
from hub.matching.index import COMPILED
from hub.matching.queries import parse_weights
from hub.matching.service import MatchService
from hub.presence import Connectivity
from hub.state.live import LiveState
from hub.state.memory import MemoryLive
from hub.state.postgres import PostgresRecords
from hub.state.records import Records
from hub.state.redis import RedisLive
from hub.state.sqlite import SqliteRecords
from hub.tokens import TokenIssuer, new_secret

log = logging.getLogger(__name__)


async def open_records(settings: Settings, *, migrate: bool = True) -> Records:
    """Open the records engine the settings name, migrated unless told otherwise."""
    records: Records
    if settings.database_url:
        records = await PostgresRecords(
            settings.database_url,
            schema=settings.postgres_schema,
            pool_size=settings.postgres_pool_size,
        ).open()
    else:
        records = await SqliteRecords(settings.sqlite_path).open()
    try:
        if migrate:
            await records.migrate()
    except BaseException:
        await records.close()
        raise
    return records


def build_live(settings: Settings) -> LiveState:
    stale_ms = int(settings.stale_after_s * 1000)
    if settings.redis_url:
        return RedisLive(
            settings.redis_url,
            prefix=settings.redis_prefix,
            pool_size=settings.redis_pool_size,
            node=settings.node_name,
            stale_after_ms=stale_ms,
            flush_interval_s=settings.live_flush_ms / 1000,
            resolution=settings.h3_resolution,
            region_resolution=settings.h3_region_resolution,
        )
    return MemoryLive(stale_after_ms=stale_ms)


async def token_issuer(settings: Settings, records: Records) -> TokenIssuer:
    if settings.token_secret and len(settings.token_secret) < 32:
        raise ConfigError("HUB_TOKEN_SECRET must be at least 32 characters (HS256 key length)")
    secret = settings.token_secret or await records.secret("token_secret", new_secret())
    return TokenIssuer(
        secret,
        provider_ttl_s=settings.provider_token_ttl_s,
        admin_ttl_s=settings.admin_token_ttl_s,
        operator_ttl_s=settings.operator_token_ttl_s,
    )


ADMIN_VERSION = "admin_token_version"


async def admin_version(records: Records) -> int:
    """The version every admin token must carry (``hub admin revoke`` bumps it)."""
    return int(await records.secret(ADMIN_VERSION, "1"))


async def revoke_admin_tokens(records: Records) -> int:
    """Every admin token issued so far stops working; the new version."""
    version = await admin_version(records) + 1
    await records.replace_secret(ADMIN_VERSION, str(version))
    return version


async def load_matching(settings: Settings, records: Records, live: LiveState) -> MatchService:
    """The matching index of every registered provider at its last known position."""
    if not COMPILED:
        log.warning(
            "the compiled matching index was not built (no C compiler at install?): "
            "matching runs on the pure-Python tree, about ten times slower"
        )
    if not filter_in_use.COMPILED:
        log.warning(
            "the compiled fix filter was not built (no C compiler at install?): "
            "ingest runs on the pure-Python filter, at about 1.7 times the CPU per fix"
        )
    matching = MatchService(
        resolution=settings.h3_resolution,
        stale_after_ms=int(settings.stale_after_s * 1000),
        road_factor=settings.road_factor,
        timezone=settings.timezone,
        weights=parse_weights(settings.ranking_weights),
    )
    after = 0
    while clients := await records.clients.page(after_id=after, limit=1000):
        for client in clients:
            matching.client_changed(client)
        after = clients[-1].id
    after = 0
    now = now_ms()
    while page := await records.providers.page(after_id=after, limit=1000):
        ids = [p.id for p in page]
        for provider in page:
            matching.provider_changed(provider)
        for position in (await live.positions.get_many(ids)).values():
            matching.position(position)
        for pid, view in (await live.presence.views(ids, now)).items():
            matching.duty(pid, view.on_duty)
            if view.owner is not None and view.connectivity is not Connectivity.OFFLINE:
                matching.session(pid, view.owner.session_id, True, view.owner.node)
        after = page[-1].id
    return matching


def filter_rules(settings: Settings) -> FilterRules:
    return FilterRules(
        future_tolerance_ms=int(settings.future_tolerance_s * 1000),
        max_age_ms=int(settings.max_fix_age_s * 1000),
        max_speed_mps=settings.max_speed_kmh / 3.6,
    )


def limits(settings: Settings) -> wire.Limits:
    return wire.Limits(
        max_frame_bytes=settings.max_frame_bytes,
        max_fixes_per_s=settings.max_fixes_per_s,
        fix_burst=settings.fix_burst,
        seq_window=settings.seq_window,
        idle_timeout_s=settings.idle_timeout_s,
    )


def notifier(settings: Settings, records: Records) -> Notifier:
    """SMS and e-mail transports where configured; the outbox for the rest."""
    sms = HttpSms(settings.sms_url, settings.sms_key) if settings.sms_url else None
    email = None
    if settings.smtp_host:
        email = SmtpEmail(
            settings.smtp_host,
            settings.smtp_port,
            settings.smtp_from,
            settings.smtp_user,
            settings.smtp_password,
        )
    return Notifier(records.dispatch, sms, email)
