"""H3 cells as integers: the matching cell of a position and the region that shards it."""

from __future__ import annotations

import h3.api.basic_int as h3


def cell_of(lat: float, lng: float, resolution: int) -> int:
    return int(h3.latlng_to_cell(lat, lng, resolution))


def parent_of(cell: int, resolution: int) -> int:
    return int(h3.cell_to_parent(cell, resolution))
