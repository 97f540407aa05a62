"""Positions as unit vectors, and the one metric every walk and reference uses. Pure.

Chords between unit vectors order exactly as great-circle distances, so the spatial index
compares chords and turns only its answers into metres, one ``asin`` each.  The chord is
``sqrt(dx² + dy² + dz²)`` evaluated left to right, written the same way in the compiled
tree (built with ``-ffp-contract=off``), so both trees and the brute-force reference
agree to the last bit and break ties identically.
"""

from __future__ import annotations

import math

from hub.geo import EARTH_RADIUS_M

Vector = tuple[float, float, float]

RADIANS = math.pi / 180
SLACK = 1.0 / EARTH_RADIUS_M  # float error in bounds (1 m as a chord), far below any that matters


def unit_vector(lat: float, lng: float) -> Vector:
    phi, lam = lat * RADIANS, lng * RADIANS
    c = math.cos(phi)
    return (c * math.cos(lam), c * math.sin(lam), math.sin(phi))


def chord(a: Vector, b: Vector) -> float:
    """The straight-line distance between two points of the unit sphere."""
    dx, dy, dz = a[0] - b[0], a[1] - b[1], a[2] - b[2]
    return math.sqrt(dx * dx + dy * dy + dz * dz)


def arc_m(chord: float) -> float:
    """The great-circle distance, in metres, of a chord of the unit sphere."""
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, chord / 2))


def chord_of(distance_m: float) -> float:
    """The chord of the unit sphere a great-circle distance spans (at most 2)."""
    return 2 * math.sin(min(distance_m / (2 * EARTH_RADIUS_M), math.pi / 2))
