"""Price from a provider's standard table, inside and beyond the included km."""

import pytest

from hub.errors import BadRequest
from hub.operations.pricing import PriceRule, price_cents
from hub.operations.services import CATALOGUE, service

RULE = PriceRule(base_fee_cents=15_000, per_km_cents=350, included_km=40)


@pytest.mark.parametrize(
    ("km", "cents"),
    [
        (0, 15_000),
        (12.5, 15_000),
        (40, 15_000),
        (41, 15_350),
        (50.5, 18_675),
        (40.001, 15_000),
        (40.002, 15_001),
    ],
)
def test_price_inside_and_beyond_the_included_km(km, cents):
    assert price_cents(RULE, km) == cents


def test_no_included_km_charges_from_zero():
    assert price_cents(PriceRule(base_fee_cents=0, per_km_cents=200), 2.5) == 500


def test_negative_distance_is_a_bug():
    with pytest.raises(ValueError, match="negative"):
        price_cents(RULE, -1)


def test_catalogue_lookup_and_unknown_service():
    assert service("heavy_tow").needs_destination
    assert not CATALOGUE["locksmith"].needs_destination
    with pytest.raises(BadRequest) as caught:
        service("rocket")
    assert caught.value.code == "unknown_service"
