"""The lifespan: the one composition root.  It builds the engines from the settings, hands
each collaborator what it uses through its constructor, starts the background work, and
takes it all down in reverse order when the hub stops."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import random
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterator
from typing import Any

from hub.auth import Authenticator
from hub.background import (
    Supervisor,
    cancel,
    follow_positions,
    follow_presence,
    forget_keys,
    watch_nodes,
)
from hub.channels.console_socket import recheck_consoles
from hub.channels.fanout import Dashboards
from hub.channels.provider import SessionContext
from hub.channels.routing import SessionRouter
from hub.channels.sessions import SessionRegistry
from hub.config import Settings
from hub.demo import Crew, simulate
from hub.dispatch.after_commit import AfterCommit
from hub.dispatch.arrivals import Arrivals
from hub.dispatch.delivery import Delivery
from hub.dispatch.punctuality import Forecast, Where
from hub.dispatch.service import Dispatcher
from hub.dispatch.told import Teller
from hub.drain import Drain
from hub.engines import (
    admin_version,
    build_live,
    filter_rules,
    limits,
    load_matching,
    notifier,
    open_records,
    token_issuer,
)
from hub.errors import Close
from hub.feeds import MatchingFeed, PositionFeed
from hub.geocoders import Nominatim, ViaCep
from hub.ingest.writer import TrackWriter
from hub.matching.routing import OsrmRouter
from hub.matching.service import MatchService
from hub.metrics import Metrics
from hub.services import STATE_KEY, Services
from hub.state.memory import MemoryAttempts
from hub.throttle import LoginThrottle, Rules

log = logging.getLogger(__name__)

HEARTBEAT_S = 2.0
SESSION_RECHECK_S = 5.0  # open sessions checked against their provider's record
AFTER_COMMIT_RETRY_S = 0.5  # committed decisions waiting on a store: tried again this often


@contextlib.contextmanager
def settled_heap() -> Iterator[None]:
    """What startup built (modules, routes, the matching index) lives as long as the hub
    serves: collected once, then frozen out of the cycle collector's sight, so a full
    collection walks only what came after (bench offer: 40 ms -> 7 ms).  Given back to
    the collector when the hub stops (tests start many hubs in one process)."""
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


async def build(settings: Settings, stack: contextlib.AsyncExitStack) -> Services:
    """Every engine and collaborator, wired; what must be closed is on ``stack``."""
    node = settings.node_name
    records = await open_records(settings)
    stack.push_async_callback(records.close)
    live = build_live(settings)
    await live.start()
    stack.push_async_callback(live.close)
    metrics = Metrics()
    writer = TrackWriter(
        records.tracks,
        metrics,
        batch_max=settings.track_batch_max,
        queue_max=settings.track_queue_max,
    )
    writer.start()
    stack.push_async_callback(writer.close)
    router = None
    if settings.routing_url:
        router = OsrmRouter(settings.routing_url, settings.routing_timeout_s)
        stack.push_async_callback(router.close)
    geocoder = cep = None
    if settings.geocoder_url:
        geocoder = Nominatim(settings.geocoder_url, settings.outside_timeout_s)
        stack.push_async_callback(geocoder.close)
    if settings.cep_url:
        cep = ViaCep(settings.cep_url, settings.outside_timeout_s)
        stack.push_async_callback(cep.close)
    drain = Drain()
    links = notifier(settings, records)
    stack.push_async_callback(links.close)
    tokens = await token_issuer(settings, records)
    auth = Authenticator(
        tokens, records.providers, records.users, admin_version=lambda: admin_version(records)
    )

    matching = await load_matching(settings, records, live)
    arrivals = Arrivals(settings.arrival_radius_m)
    matching_feed = MatchingFeed(matching, live.bus, records, arrivals)
    session_router = SessionRouter(node, live.presence, live.bus)
    after_commit = AfterCommit(
        metrics,
        teller=Teller(session_router, live.streams, matching_feed),
        journal=records.after_commit,
        node=node,
        alive=live.presence.alive,
        lapse_s=HEARTBEAT_S * 3,
    )
    stack.push_async_callback(after_commit.finish)  # after the dispatcher's decisions end
    delivery = Delivery(
        notifier=links,
        matching=matching,
        providers=records.providers,
        metrics=metrics,
        after=after_commit,
        public_url=settings.public_url,
    )
    dispatcher = Dispatcher(
        records=records,
        dispatch=records.dispatch,
        matching=matching,
        delivery=delivery,
        metrics=metrics,
        sweep_grace_s=settings.sweep_grace_s,
    )
    stack.push_async_callback(dispatcher.close)
    positions = PositionFeed(live.positions, matching, arrivals, dispatcher.arrived)
    stack.push_async_callback(positions.close)
    sessions = SessionRegistry(
        context=SessionContext(
            node=node,
            presence=live.presence,
            matching=matching,
            metrics=metrics,
            writer=writer,
            moved=positions.changed,
            answers=dispatcher,
            send_queue_bytes=settings.send_queue_bytes,
        ),
        router=session_router,
        positions=live.positions,
        filter_rules=filter_rules(settings),
        limits=limits(settings),
        settings=settings,
        auth=auth,
        providers=records.providers,
        drain=drain,
        on_open=dispatcher.resend,
    )
    stack.push_async_callback(sessions.close_all, Close.GOING_AWAY)
    forecast = Forecast(_where(matching), settings.road_factor)
    dashboards = Dashboards(
        records=records,
        streams=live.streams,
        matching=matching,
        forecast=forecast,
        settings=settings,
    )
    return Services(
        settings=settings,
        node=node,
        records=records,
        live=live,
        tokens=tokens,
        auth=auth,
        metrics=metrics,
        writer=writer,
        filter_rules=sessions.filter_rules,
        matching=matching,
        matching_feed=matching_feed,
        positions=positions,
        forecast=forecast,
        router=router,
        sessions=sessions,
        session_router=session_router,
        dispatcher=dispatcher,
        after_commit=after_commit,
        dashboards=dashboards,
        notifier=links,
        geocoder=geocoder,
        cep=cep,
        supervisor=Supervisor(metrics),
        drain=drain,
        logins=LoginThrottle(
            live.attempts,
            Rules(settings.login_attempts, int(settings.login_lockout_s * 1000)),
            fallback=MemoryAttempts(),
        ),
    )


def _where(matching: MatchService) -> Where:
    """A provider's fresh position in this node's index."""

    def where(provider_id: int) -> tuple[float, float] | None:
        here = matching.index.positions.get(provider_id)
        return None if here is None or not here.live else (here.lat, here.lng)

    return where


def background(services: Services) -> list[asyncio.Task[None]]:
    """The work the hub does besides answering, each loop supervised (hub/background.py):
    heartbeats, sweepers, followers."""
    s, live, settings = services, services.live, services.settings
    supervised = s.supervisor

    def beat() -> Awaitable[None]:
        return live.presence.heartbeat(s.node, HEARTBEAT_S * 3)

    def expire_keys() -> Awaitable[None]:
        return forget_keys(s.records, settings.idempotency_ttl_s)

    follow: dict[str, Callable[[], Awaitable[None]]] = {
        "node-bus": s.session_router.follow,
        "other-positions": lambda: follow_positions(live.positions, s.matching),
        "other-presence": lambda: follow_presence(live.presence, s.matching),
        "registry-notes": s.matching_feed.follow,
        "status-follower": s.dashboards.follow_status,
        "map-ticks": s.dashboards.map_ticks,
    }
    ticks: dict[str, tuple[float, Callable[[], Awaitable[None]]]] = {
        "node-heartbeat": (HEARTBEAT_S, beat),
        "presence-reassert": (HEARTBEAT_S, s.sessions.reassert),
        "node-watch": (HEARTBEAT_S, lambda: watch_nodes(s.node, live.presence, s.matching)),
        "idle-sweeper": (1.0, s.sessions.sweep),
        "session-recheck": (SESSION_RECHECK_S, s.sessions.recheck),
        "deadline-sweeper": (settings.sweep_interval_s, s.dispatcher.sweep),
        "after-commit": (AFTER_COMMIT_RETRY_S, s.after_commit.retry),
        "after-commit-claim": (HEARTBEAT_S, s.after_commit.adopt),
        "console-keepalive": (settings.console_keepalive_s, s.dashboards.keepalive),
        "console-recheck": (SESSION_RECHECK_S, lambda: recheck_consoles(s.dashboards)),
        "idempotency-expiry": (3600, expire_keys),
    }
    work: dict[str, Coroutine[Any, Any, None]] = {
        **{name: supervised.following(name, run) for name, run in follow.items()},
        **{name: supervised.every(name, period, run) for name, (period, run) in ticks.items()},
    }
    if settings.demo:
        crew = Crew(s.dispatcher, s.records, random.Random())
        work["demo-gps"] = supervised.following(
            "demo-gps", lambda: simulate(s.matching, s.positions, crew)
        )
    return [asyncio.create_task(coro, name=name) for name, coro in work.items()]


@contextlib.asynccontextmanager
async def lifespan(settings: Settings) -> AsyncIterator[dict[str, Any]]:
    async with contextlib.AsyncExitStack() as stack:
        services = await build(settings, stack)
        await services.matching_feed.load()
        await services.dispatcher.resume()
        await services.after_commit.resume()  # steps an earlier life left in the journal
        await services.live.presence.heartbeat(services.node, HEARTBEAT_S * 3)
        await services.sessions.reassert()  # the store's epoch, known before any session
        stack.push_async_callback(cancel, background(services))
        stack.enter_context(settled_heap())
        log.info(
            "hub started",
            extra={
                "node": services.node,
                "live": services.live.name,
                "records": settings.records_engine,
            },
        )
        yield {STATE_KEY: services}
