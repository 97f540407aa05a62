"""``Services``: what the lifespan (hub/app.py, the one composition root) built, as the
REST routes and sockets reach it.  Plain typed references, no behaviour: every collaborator
was handed its own dependencies when it was built.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from starlette.requests import HTTPConnection
from starlette.types import Scope

from hub.auth import Authenticator
from hub.background import Supervisor
from hub.channels.fanout import Dashboards
from hub.channels.routing import SessionRouter
from hub.channels.sessions import SessionRegistry
from hub.config import Settings
from hub.dispatch.after_commit import AfterCommit
from hub.dispatch.notify import Notifier
from hub.dispatch.punctuality import Forecast
from hub.dispatch.service import Dispatcher
from hub.drain import Drain
from hub.feeds import MatchingFeed, PositionFeed
from hub.geocoders import Nominatim, ViaCep
from hub.ingest.filter import FilterRules, FixFilter
from hub.ingest.writer import TrackWriter
from hub.matching.routing import RoadRouter
from hub.matching.service import MatchService
from hub.metrics import Metrics
from hub.state.live import LiveState
from hub.state.records import Records
from hub.throttle import LoginThrottle
from hub.tokens import TokenIssuer

STATE_KEY = "services"  # the lifespan state's key (ASGI scope["state"])


@dataclass(frozen=True, kw_only=True)
class Services:
    settings: Settings
    node: str
    records: Records
    live: LiveState
    tokens: TokenIssuer
    auth: Authenticator
    metrics: Metrics
    writer: TrackWriter
    filter_rules: FilterRules
    matching: MatchService
    matching_feed: MatchingFeed
    positions: PositionFeed
    forecast: Forecast
    router: RoadRouter | None  # road ETAs for the candidates shown
    sessions: SessionRegistry
    session_router: SessionRouter
    dispatcher: Dispatcher
    after_commit: AfterCommit  # what committed decisions still have to tell
    dashboards: Dashboards
    notifier: Notifier
    geocoder: Nominatim | None
    cep: ViaCep | None
    supervisor: Supervisor  # the background loops, and which of them is failing now
    drain: Drain  # stopping: whether the node is draining, and its consoles' sockets
    logins: LoginThrottle  # failed logins, per name and address
    http_filters: dict[int, FixFilter] = field(default_factory=dict)  # OsmAnd ingest


def services_of(connection: HTTPConnection) -> Services:
    """The services of the app serving this request or socket."""
    return services_in(connection.scope)


def services_in(scope: Scope) -> Services:
    """The services of the app serving this ASGI scope (what the lifespan put in its
    state)."""
    found = scope["state"][STATE_KEY]
    assert isinstance(found, Services)
    return found
