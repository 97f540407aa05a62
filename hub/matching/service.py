"""The matching service: the spatial index kept current in process, queried without I/O.

Fed by this node's events (positions from ingest, sessions opening and closing, duty,
registry changes) and, on the redis engine, by the other nodes' (the position stream and
presence notes on the bus, see hub/state/live.py); rebuilt at start from the records and
live-state engines.  Queries read only memory: the index walk, the eligibility rules and
the ranking are pure.

The bus is at-most-once: a lost position batch leaves a provider where it was until its
next fix; a lost presence note until its next session.  A node that dies leaves its
sessions "open" in the others' indexes until they go stale (no fixes), which app-mode
offers already exclude.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import msgspec

from hub.errors import BadRequest, NotFound
from hub.geo import distance_m
from hub.matching.eligibility import (
    RULE_TEXT,
    Request,
    Situation,
    eligible,
    excluded,
    flags,
    reasons,
)
from hub.matching.index import Hit, SpatialIndex
from hub.matching.queries import (
    DEFAULT_RADIUS_KM,
    POOL,
    Candidate,
    CandidatePage,
    ExplainQuery,
    Explanation,
    MatchQuery,
    NamedProvider,
    NamedProviders,
    Reason,
    folded,
)
from hub.matching.ranking import Factors, Weights, rank, straight_line_eta_min
from hub.operations.clients import Client
from hub.operations.pricing import price_cents
from hub.operations.providers import Channel, Provider
from hub.operations.services import service
from hub.presence import Connectivity, LivePosition, PresenceNote


@dataclass(slots=True)
class Known:
    """What this node knows of a provider for matching."""

    provider: Provider
    session_id: str | None = None  # the open session, wherever it lives
    node: str | None = None  # the node holding that session
    on_duty: bool = False
    last_fix_ms: int | None = None  # hub time the newest fix arrived
    fix_t_ms: int | None = None  # device time of the position the index holds
    engaged: bool = False
    # From dispatch history (hub/dispatch/records.py Kpis); None: the profile's figures stand.
    acceptance_pct: float | None = None
    on_time_pct: float | None = None
    rating: float | None = None  # the beneficiaries' mean rating (1-5); None: none yet


class MatchService:
    def __init__(
        self,
        *,
        resolution: int,
        stale_after_ms: int,
        road_factor: float,
        timezone: str,
        weights: Weights | None = None,
    ) -> None:
        self.index = SpatialIndex(resolution)
        self.known: dict[int, Known] = {}
        self.clients: dict[int, Client] = {}
        self.stale_after_ms = stale_after_ms
        self.road_factor = road_factor
        self.zone = ZoneInfo(timezone)
        self.weights = weights or Weights()
        self.moved: set[int] = set()  # providers whose map point changed (dashboards take it)
        self.down: set[str] = set()  # nodes whose heartbeat lapsed (their sessions are off)
        self.held: Counter[str] = Counter()  # node -> sessions it holds, as known here

    # --- feeding -------------------------------------------------------------------------

    def provider_changed(self, provider: Provider) -> None:
        """A registry change: identity, active flag or dispatch profile."""
        known = self.known.get(provider.id)
        if known is None:
            known = self.known[provider.id] = Known(provider)
        known.provider = provider
        self._flag(known)
        self.index.set_services(provider.id, provider.profile.services)
        here = self.index.positions.get(provider.id)
        base = provider.profile.base
        if here is None or not here.live:  # placed at its base, if it has one now
            if base is not None:
                self.index.move(provider.id, base[0], base[1], live=False)
            elif here is not None:
                self.index.remove(provider.id)

    def client_changed(self, client: Client) -> None:
        self.clients[client.id] = client

    def position(self, position: LivePosition) -> None:
        """A provider's live position, from this node's ingest or another node's: the
        newest device time wins, whichever arrives last (as in the live state)."""
        known = self.known.get(position.provider_id)
        if known is None:
            return  # not in the registry (yet): nothing to match
        if known.last_fix_ms is None or position.received_ms > known.last_fix_ms:
            known.last_fix_ms = position.received_ms
        if known.fix_t_ms is not None and position.t_ms <= known.fix_t_ms:
            return  # older than the position held
        known.fix_t_ms = position.t_ms
        self.index.move(position.provider_id, position.lat, position.lng, live=True)
        self.moved.add(position.provider_id)

    def session(
        self, provider_id: int, session_id: str, opened: bool, node: str | None = None
    ) -> None:
        """A session opened (on ``node``) or closed; a close of an older session changes
        nothing (the close of a replaced session may arrive after the open of its
        successor)."""
        known = self.known.get(provider_id)
        if known is None:
            return
        if opened:
            self._held(known, -1)
            known.session_id, known.node = session_id, node
            self._held(known, +1)
        elif known.session_id == session_id:
            self._held(known, -1)
            known.session_id = known.node = None
        self._flag(known)
        self.moved.add(provider_id)

    def presence(self, note: PresenceNote) -> None:
        """A note from another node."""
        if note.opened is not None:
            self.session(note.provider_id, note.session_id, note.opened, note.node)
        if note.on_duty is not None:
            self.duty(note.provider_id, note.on_duty)

    def engaged(self, provider_id: int, engaged: bool) -> None:
        known = self.known.get(provider_id)
        if known is not None:
            known.engaged = engaged
            self._flag(known)
            self.moved.add(provider_id)

    def kpis(
        self,
        provider_id: int,
        acceptance_pct: float | None,
        on_time_pct: float | None,
        rating: float | None = None,
    ) -> None:
        known = self.known.get(provider_id)
        if known is not None:
            known.acceptance_pct, known.on_time_pct = acceptance_pct, on_time_pct
            known.rating = rating

    def duty(self, provider_id: int, on: bool) -> None:
        known = self.known.get(provider_id)
        if known is not None:
            known.on_duty = on
            self._flag(known)
            self.moved.add(provider_id)

    def nodes_down(self, down: set[str]) -> None:
        """The nodes whose heartbeat has lapsed: their sessions count as closed (offline,
        out of app-mode matching) until the node beats again or the provider opens a
        session elsewhere."""
        changed, self.down = self.down ^ down, set(down)
        if changed:
            for known in self.known.values():
                if known.node in changed:
                    self._flag(known)
                    self.moved.add(known.provider.id)

    def session_nodes(self) -> set[str]:
        """The nodes holding sessions this node knows of (kept as sessions come and go:
        watched every heartbeat, it must not walk every provider)."""
        return set(self.held)

    def _held(self, known: Known, change: int) -> None:
        node = known.node
        if node is not None and known.session_id is not None:
            self.held[node] += change
            if self.held[node] <= 0:
                del self.held[node]

    def in_session(self, known: Known) -> bool:
        return known.session_id is not None and known.node not in self.down

    def _flag(self, known: Known) -> None:
        """Tell the index what rules out this provider in some modes (``Flag``)."""
        flag = flags(
            active=known.provider.active,
            engaged=known.engaged,
            on_duty=known.on_duty,
            in_session=self.in_session(known),
        )
        self.index.set_state(known.provider.id, flag)

    def take_moved(self) -> set[int]:
        """The providers whose map point changed since the last call."""
        moved, self.moved = self.moved, set()
        return moved

    # --- queries -------------------------------------------------------------------------

    def connectivity(self, known: Known, now_ms: int) -> Connectivity:
        if not self.in_session(known):
            return Connectivity.OFFLINE
        fresh = known.last_fix_ms is not None and now_ms - known.last_fix_ms <= self.stale_after_ms
        return Connectivity.ONLINE if fresh else Connectivity.STALE

    def radius_km(self, query: MatchQuery) -> float:
        """The query's radius, else its client's dispatch radius, else the default."""
        client = None
        if query.client_id is not None:
            client = self.clients.get(query.client_id)
            if client is None or not client.active:
                raise BadRequest(f"no active client {query.client_id}", code="unknown_client")
        if query.radius_km is not None:
            return query.radius_km
        return client.rules.radius_km if client is not None else DEFAULT_RADIUS_KM

    def request(self, query: MatchQuery, now_ms: int) -> Request:
        service(query.service)  # unknown_service, with the known codes
        local = datetime.fromtimestamp(now_ms / 1000, UTC).astimezone(self.zone)
        return Request(
            service=query.service,
            client_id=query.client_id,
            radius_m=self.radius_km(query) * 1000,
            mode=query.mode,
            now_ms=now_ms,
            weekday=local.weekday(),
            minute=local.hour * 60 + local.minute,
        )

    def situation(self, known: Known, distance: float, now_ms: int) -> Situation:
        return Situation(
            active=known.provider.active,
            on_duty=known.on_duty,
            engaged=known.engaged,
            connectivity=self.connectivity(known, now_ms),
            distance_m=distance,
        )

    def candidates(self, query: MatchQuery, now_ms: int) -> CandidatePage:
        """The POOL nearest eligible providers within the radius, ranked; a page of them."""
        request = self.request(query, now_ms)
        origin = query.origin

        def accept(provider_id: int) -> bool:
            known = self.known[provider_id]
            here = self.index.positions[provider_id]
            d = distance_m(origin.lat, origin.lng, here.lat, here.lng)
            return eligible(known.provider.profile, self.situation(known, d, now_ms), request)

        hits = self.index.nearest(
            query.service,
            origin.lat,
            origin.lng,
            POOL,
            request.radius_m,
            accept,
            excluded([request.mode]),
        )
        ranked = rank(self.weights, [self._factors(hit, query) for hit in hits])
        page = ranked[query.offset : query.offset + query.limit]
        by_id = {hit.provider_id: hit for hit in hits}
        return CandidatePage(
            [self._candidate(by_id[f.provider_id], f, score, now_ms) for score, f in page],
            query.offset,
            len(ranked) > query.offset + query.limit,
        )

    def pick(
        self,
        query: MatchQuery,
        modes: Sequence[Channel],
        exclude: Collection[int],
        now_ms: int,
        price_cap_cents: int | None = None,
    ) -> tuple[int, Channel] | None:
        """The best-ranked provider not in ``exclude`` that one of ``modes`` can reach (and,
        with a cap, whose price for the job is within it), and the first such mode: what
        an automatic cascade offers next.  One walk of the index for all the modes."""
        requests = [self.request(msgspec.structs.replace(query, mode=m), now_ms) for m in modes]
        origin = query.origin
        reach: dict[int, Channel] = {}

        def accept(provider_id: int) -> bool:
            if provider_id in exclude:
                return False
            known = self.known[provider_id]
            here = self.index.positions[provider_id]
            d = distance_m(origin.lat, origin.lng, here.lat, here.lng)
            if price_cap_cents is not None:
                price = self.job_price(known.provider, query, d)
                if price is not None and price > price_cap_cents:
                    return False
            situation = self.situation(known, d, now_ms)
            for request in requests:
                if eligible(known.provider.profile, situation, request):
                    reach[provider_id] = request.mode
                    return True
            return False

        radius_m = max(r.radius_m for r in requests)
        hits = self.index.nearest(
            query.service, origin.lat, origin.lng, POOL, radius_m, accept, excluded(modes)
        )
        ranked = rank(self.weights, [self._factors(hit, query) for hit in hits])
        if not ranked:
            return None
        best = ranked[0][1].provider_id
        return best, reach[best]

    def job_price(self, provider: Provider, query: MatchQuery, to_origin_m: float) -> int | None:
        """The provider's standard-table price for the job: to the origin, then to the
        destination, on roads (the road factor); None without a table for the service."""
        rule = provider.profile.prices.get(query.service)
        if rule is None:
            return None
        job_m = to_origin_m
        if query.destination is not None:
            job_m += distance_m(
                query.origin.lat, query.origin.lng, query.destination.lat, query.destination.lng
            )
        return price_cents(rule, job_m * self.road_factor / 1000)

    def price_for(self, provider_id: int, query: MatchQuery) -> int | None:
        """The provider's price for the job from where it is now (None: no table, or no
        position)."""
        known = self.known.get(provider_id)
        here = self.index.positions.get(provider_id)
        if known is None or here is None:
            return None
        d = distance_m(query.origin.lat, query.origin.lng, here.lat, here.lng)
        return self.job_price(known.provider, query, d)

    def _factors(self, hit: Hit, query: MatchQuery) -> Factors:
        known = self.known[hit.provider_id]
        profile = known.provider.profile
        speed = service(query.service).avg_speed_kmh
        return Factors(
            provider_id=hit.provider_id,
            distance_m=hit.distance_m,
            eta_min=straight_line_eta_min(hit.distance_m, self.road_factor, speed),
            price_cents=self.job_price(known.provider, query, hit.distance_m),
            preferred=profile.preferred,
            partner=query.client_id is not None and query.client_id in profile.partner_of,
            on_time_pct=profile.on_time_pct if known.on_time_pct is None else known.on_time_pct,
            acceptance_pct=profile.acceptance_pct
            if known.acceptance_pct is None
            else known.acceptance_pct,
        )

    def _candidate(self, hit: Hit, f: Factors, score: float, now_ms: int) -> Candidate:
        known = self.known[hit.provider_id]
        p = known.provider
        return Candidate(
            provider_id=p.id,
            name=p.name,
            phone=p.phone,
            city=p.profile.city,
            connectivity=self.connectivity(known, now_ms),
            lat=self.index.positions[p.id].lat,
            lng=self.index.positions[p.id].lng,
            distance_m=round(hit.distance_m, 1),
            source="gps" if hit.live else "base",
            eta_min=round(f.eta_min, 1),
            eta_source="straight",
            price_cents=f.price_cents,
            on_time_pct=f.on_time_pct,
            acceptance_pct=f.acceptance_pct,
            rating=known.rating,
            preferred=f.preferred,
            partner=f.partner,
            channels=sorted(p.profile.channels),
            score=round(score, 3),
        )

    def named(self, piece: str, limit: int) -> NamedProviders:
        """Active providers whose name holds ``piece`` (case and accents ignored), by name:
        how an operator picks one to ask about."""
        wanted = folded(piece.strip())
        found = [
            NamedProvider(provider_id=pid, name=k.provider.name, city=k.provider.profile.city)
            for pid, k in self.known.items()
            if k.provider.active and wanted in folded(k.provider.name)
        ]
        ordered = sorted(found, key=lambda p: (folded(p.name), p.provider_id))
        return NamedProviders(providers=ordered[:limit])

    def explain(self, query: ExplainQuery, now_ms: int) -> Explanation:
        """Why a provider is, or is not, a candidate for this query."""
        known = self.known.get(query.provider_id)
        if known is None:
            raise NotFound(f"no provider {query.provider_id}")
        request = self.request(query, now_ms)
        here = self.index.positions.get(query.provider_id)
        distance = None
        failed: list[str]
        if here is None:
            failed = ["radius"]  # nowhere: neither live GPS nor a base address
        else:
            distance = distance_m(query.origin.lat, query.origin.lng, here.lat, here.lng)
            failed = reasons(
                known.provider.profile, self.situation(known, distance, now_ms), request
            )
        return Explanation(
            provider_id=query.provider_id,
            eligible=not failed,
            reasons=[Reason(rule, RULE_TEXT[rule]) for rule in failed],
            distance_m=None if distance is None else round(distance, 1),
        )
