"""What matching is asked and answers, as the REST API and dispatch send and read it:
queries, candidates and explanations (msgspec Structs, range-checked), and the helpers
that check or complete them."""

from __future__ import annotations

import unicodedata
from typing import Annotated

import msgspec

from hub.config import ConfigError
from hub.errors import BadRequest
from hub.geo import GEO_LAT_LIMIT
from hub.matching.ranking import Weights
from hub.operations.bounds import RecordId
from hub.operations.providers import Channel
from hub.presence import Connectivity

# Ranking reorders, so every page must come from the same pool: the POOL nearest eligible.
POOL = 50
DEFAULT_RADIUS_KM = 50.0


class Point(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    lat: Annotated[float, msgspec.Meta(ge=-GEO_LAT_LIMIT, le=GEO_LAT_LIMIT)]
    lng: Annotated[float, msgspec.Meta(ge=-180, le=180)]


class MatchQuery(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Who should get an offer for a job at ``origin``: the ranked candidates."""

    origin: Point
    service: str
    destination: Point | None = None
    client_id: RecordId | None = None
    mode: Channel = Channel.APP
    # None: the client's dispatch radius (or DEFAULT_RADIUS_KM without a client)
    radius_km: Annotated[float, msgspec.Meta(gt=0, le=500)] | None = None
    limit: Annotated[int, msgspec.Meta(ge=1, le=100)] = 10
    offset: Annotated[int, msgspec.Meta(ge=0, le=POOL - 1)] = 0


class Candidate(msgspec.Struct, frozen=True, kw_only=True):
    provider_id: int
    name: str
    phone: str
    city: str
    connectivity: Connectivity
    lat: float
    lng: float
    distance_m: float
    source: str  # "gps" (live position) or "base" (base address)
    eta_min: float
    eta_source: str  # "straight" (distance x road factor / speed) or "road" (routing backend)
    price_cents: int | None  # from the provider's standard table; None without one
    on_time_pct: float
    acceptance_pct: float
    rating: float | None  # the beneficiaries' mean rating over 90 days; None: not rated
    preferred: bool
    partner: bool
    channels: list[Channel]
    score: float


class CandidatePage(msgspec.Struct, frozen=True):
    candidates: list[Candidate]
    offset: int
    more: bool  # further eligible candidates exist within the radius


class Reason(msgspec.Struct, frozen=True):
    rule: str
    text: str


class Explanation(msgspec.Struct, frozen=True, kw_only=True):
    provider_id: int
    eligible: bool
    reasons: list[Reason]
    distance_m: float | None  # None: the provider has no position (no GPS, no base)


class NamedProvider(msgspec.Struct, frozen=True, kw_only=True):
    provider_id: int
    name: str
    city: str


class NamedProviders(msgspec.Struct, frozen=True, kw_only=True):
    providers: list[NamedProvider]


def folded(text: str) -> str:
    """Lower case without accents: how a name is searched (São = sao)."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


class ExplainQuery(MatchQuery, frozen=True, kw_only=True, forbid_unknown_fields=True):
    provider_id: RecordId


def parse_weights(text: str) -> Weights:
    """Ranking weights from HUB_RANKING_WEIGHTS (JSON); the defaults when empty."""
    if not text:
        return Weights()
    try:
        return msgspec.json.decode(text, type=Weights)
    except msgspec.DecodeError as exc:
        raise ConfigError(f"bad configuration: HUB_RANKING_WEIGHTS: {exc}") from None


def with_road_etas(page: CandidatePage, minutes: list[float | None]) -> CandidatePage:
    """The page with road ETAs where the backend had one (the order is kept)."""
    return msgspec.structs.replace(
        page,
        candidates=[
            c if m is None else msgspec.structs.replace(c, eta_min=round(m, 1), eta_source="road")
            for c, m in zip(page.candidates, minutes, strict=True)
        ],
    )


def checked_query(query: MatchQuery) -> MatchQuery:
    if query.offset + query.limit > POOL:
        raise BadRequest(
            f"offset + limit may not exceed {POOL} (candidates are ranked in a pool"
            f" of the {POOL} nearest eligible)"
        )
    return query
