"""The spatial index the hub uses: the compiled tree (``ctree.pyx``) when it was built at
install time, else the pure-Python one (``tree.py``). Both answer alike, to the last bit:
the same property tests run against each."""

from __future__ import annotations

import importlib
from typing import cast

from hub.matching import tree
from hub.matching.tree import CAPACITY, Hit, Position, brute_force

__all__ = ["CAPACITY", "COMPILED", "Hit", "Position", "SpatialIndex", "brute_force"]


def _compiled() -> type[tree.SpatialIndex] | None:
    try:
        module = importlib.import_module("hub.matching.ctree")
    except ImportError:
        return None
    # Same interface, checked by the shared tests rather than by mypy (it has no stub).
    return cast(type[tree.SpatialIndex], module.SpatialIndex)


_built = _compiled()
COMPILED = _built is not None
SpatialIndex: type[tree.SpatialIndex] = _built or tree.SpatialIndex
