"""A provider's standard price table: what one job costs at a given distance. Pure.

Money is integer centavos; a fraction of a centavo rounds half up, once, at the end.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated

import msgspec

Cents = Annotated[int, msgspec.Meta(ge=0, le=10**9)]


class PriceRule(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Base fee, which includes ``included_km``; each km beyond costs ``per_km_cents``."""

    base_fee_cents: Cents
    per_km_cents: Cents = 0
    included_km: Annotated[float, msgspec.Meta(ge=0, le=10_000)] = 0.0


def price_cents(rule: PriceRule, km: float) -> int:
    """The price of a job of ``km`` (the distance the table charges, e.g. to the origin)."""
    if km < 0:
        raise ValueError(f"distance cannot be negative: {km}")
    extra_km = max(Decimal(0), Decimal(repr(km)) - Decimal(repr(rule.included_km)))
    extra = (extra_km * rule.per_km_cents).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return rule.base_fee_cents + int(extra)
