"""Ranking weights change the order as documented; ties are deterministic."""

from __future__ import annotations

import msgspec

from hub.matching.ranking import Factors, Weights, rank, straight_line_eta_min


def factors(pid: int, km: float, **changes) -> Factors:
    base = Factors(
        provider_id=pid,
        distance_m=km * 1000,
        eta_min=km * 2,
        price_cents=10_000,
        preferred=False,
        partner=False,
        on_time_pct=90,
        acceptance_pct=90,
    )
    return msgspec.structs.replace(base, **changes)


def order(weights: Weights, candidates: list[Factors]) -> list[int]:
    return [f.provider_id for _, f in rank(weights, candidates)]


def test_nearest_first_by_default():
    assert order(Weights(), [factors(1, 5), factors(2, 3), factors(3, 4)]) == [2, 3, 1]


def test_partner_bonus_outweighs_a_few_km():
    near, partner = factors(1, 3), factors(2, 5, partner=True)
    assert order(Weights(), [near, partner]) == [2, 1]  # 3 km of bonus beats 2 km
    assert order(Weights(partner_bonus=1.0), [near, partner]) == [1, 2]


def test_preferred_bonus():
    assert order(Weights(), [factors(1, 3), factors(2, 4.5, preferred=True)]) == [2, 1]
    assert order(Weights(preferred_bonus=0), [factors(1, 3), factors(2, 4.5, preferred=True)]) == [
        1,
        2,
    ]


def test_price_weight_prefers_the_cheaper():
    cheap, dear = factors(1, 5, price_cents=8_000), factors(2, 4, price_cents=20_000)
    assert order(Weights(), [cheap, dear]) == [2, 1]  # price ignored by default
    assert order(Weights(per_real=0.05), [cheap, dear]) == [1, 2]  # R$120 more = 6 km


def test_track_record_weights():
    reliable, flaky = factors(1, 5, on_time_pct=100), factors(2, 4.5, on_time_pct=10)
    assert order(Weights(), [reliable, flaky]) == [1, 2]  # 90 points x 0.02 = 1.8 km
    assert order(Weights(per_on_time_pct=0), [reliable, flaky]) == [2, 1]


def test_eta_weight_can_replace_distance():
    slow_road = factors(1, 3, eta_min=30)
    fast_road = factors(2, 5, eta_min=10)
    assert order(Weights(per_km=0, per_eta_minute=1), [slow_road, fast_road]) == [2, 1]


def test_ties_go_to_the_nearer_then_the_lower_id():
    far_preferred, near = factors(5, 3, preferred=True), factors(9, 1)
    tie = Weights(preferred_bonus=2, per_on_time_pct=0, per_acceptance_pct=0)  # 3 - 2 == 1
    assert order(tie, [far_preferred, near]) == [9, 5]
    assert order(Weights(), [factors(8, 3), factors(4, 3)]) == [4, 8]


def test_straight_line_eta():
    assert straight_line_eta_min(10_000, 1.5, 30) == 30.0
