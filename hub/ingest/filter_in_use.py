"""The fix filter the hub runs: the compiled one (``cfilter.pyx``) when it was built at
install time, else the pure-Python reference (``filter.py``). Both judge alike, to the
last bit: the same tests run against each."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import cast

from hub.ingest import filter as pure
from hub.wire import FixData

__all__ = ["COMPILED", "FixFilter", "consecutive"]


def _compiled() -> tuple[type[pure.FixFilter], Callable[[list[FixData]], bool]] | None:
    try:
        module = importlib.import_module("hub.ingest.cfilter")
    except ImportError:
        return None
    # Same interface, checked by the shared tests rather than by mypy (it has no stub).
    return cast(type[pure.FixFilter], module.FixFilter), module.consecutive


_built = _compiled()
COMPILED = _built is not None
FixFilter: type[pure.FixFilter] = _built[0] if _built else pure.FixFilter
consecutive: Callable[[list[FixData]], bool] = _built[1] if _built else pure.consecutive
