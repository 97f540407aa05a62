"""How eligible providers are ordered for an offer: a weighted score. Pure.

The score is in "km-equivalents", lower first: distance costs ``per_km`` each km, ETA
``per_eta_minute`` each minute, price ``per_real`` each real; being the client's partner,
being preferred, and each percentage point of on-time arrival and of accepted offers earn
bonuses.  Equal scores go to the nearer provider, then the lower id (deterministic).
"""

from __future__ import annotations

import msgspec


class Weights(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    per_km: float = 1.0
    per_eta_minute: float = 0.0
    per_real: float = 0.0
    preferred_bonus: float = 2.0
    partner_bonus: float = 3.0
    per_on_time_pct: float = 0.02
    per_acceptance_pct: float = 0.02


class Factors(msgspec.Struct, frozen=True, kw_only=True):
    provider_id: int
    distance_m: float
    eta_min: float
    price_cents: int | None  # None: no price table for this service
    preferred: bool
    partner: bool
    on_time_pct: float
    acceptance_pct: float


def score(weights: Weights, f: Factors) -> float:
    penalty = (
        weights.per_km * f.distance_m / 1000
        + weights.per_eta_minute * f.eta_min
        + weights.per_real * (f.price_cents or 0) / 100
    )
    bonus = (
        weights.preferred_bonus * f.preferred
        + weights.partner_bonus * f.partner
        + weights.per_on_time_pct * f.on_time_pct
        + weights.per_acceptance_pct * f.acceptance_pct
    )
    return penalty - bonus


def rank(weights: Weights, candidates: list[Factors]) -> list[tuple[float, Factors]]:
    """Candidates with their scores, best first."""
    scored = [(score(weights, f), f) for f in candidates]
    scored.sort(key=lambda item: (item[0], item[1].distance_m, item[1].provider_id))
    return scored


def straight_line_eta_min(distance_m: float, road_factor: float, speed_kmh: float) -> float:
    """Minutes to cover ``distance_m`` of straight line at ``speed_kmh`` on real roads."""
    return distance_m / 1000 * road_factor / speed_kmh * 60
