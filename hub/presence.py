"""Where providers are and whether they can be reached: the values the live state holds
(hub/state/live.py) and matching, ingest and the sessions exchange.  Plain values."""

from __future__ import annotations

from enum import Enum

import msgspec


class LivePosition(msgspec.Struct, frozen=True, gc=False):  # numbers only: no cycles
    provider_id: int
    lat: float
    lng: float
    t_ms: int  # device time of the fix
    received_ms: int  # hub time the fix arrived: what freshness is measured by
    accuracy: float | None = None
    speed: float | None = None
    heading: float | None = None


class Connectivity(Enum):
    ONLINE = "online"  # a session is open and a fix arrived within stale_after_s
    STALE = "stale"  # a session is open but its fixes stopped
    OFFLINE = "offline"  # no session (or its node died)


class Owner(msgspec.Struct, frozen=True):
    """Which session on which node holds a provider."""

    session_id: str
    node: str


class PresenceView(msgspec.Struct, frozen=True, kw_only=True):
    provider_id: int
    connectivity: Connectivity
    on_duty: bool
    owner: Owner | None
    last_fix_ms: int | None


class PresenceNote(msgspec.Struct, frozen=True):
    """A session opened or closed, or duty changed, on ``node``."""

    node: str
    provider_id: int
    session_id: str = ""
    opened: bool | None = None  # True: session_id opened; False: it closed
    on_duty: bool | None = None


def connectivity(
    owner_alive: bool, last_fix_ms: int | None, now_ms: int, stale_after_ms: int
) -> Connectivity:
    if not owner_alive:
        return Connectivity.OFFLINE
    if last_fix_ms is not None and now_ms - last_fix_ms <= stale_after_ms:
        return Connectivity.ONLINE
    return Connectivity.STALE
