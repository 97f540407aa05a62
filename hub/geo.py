"""Great-circle distance and the coordinate limits the stores accept."""

from __future__ import annotations

from math import asin, cos, pi, radians, sin, sqrt

EARTH_RADIUS_M = 6_371_008.8
METRES_PER_DEGREE = EARTH_RADIUS_M * pi / 180
# Redis GEOADD refuses latitudes beyond this (Web Mercator's square).
GEO_LAT_LIMIT = 85.05112878


def distance_m(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """Haversine distance in metres; exact enough for ranking and jump detection."""
    p1, p2 = radians(lat1), radians(lat2)
    dp, dl = p2 - p1, radians(lng2 - lng1)
    h = sin(dp / 2) ** 2 + cos(p1) * cos(p2) * sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * asin(min(1.0, sqrt(h)))
