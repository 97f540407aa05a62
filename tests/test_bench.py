"""The benchmarks stay runnable as the wire changes: every scenario module imports, and
what a bench builds from the hub's own types (the fan-out's sample update) still builds."""

from __future__ import annotations

import importlib
from pathlib import Path

import msgspec

BENCH = Path(__file__).parents[1] / "bench"


def test_every_bench_module_imports():
    for path in sorted(BENCH.glob("*.py")):
        if path.stem not in ("__main__", "locustfile"):
            importlib.import_module(f"bench.{path.stem}")


def test_the_fanout_sample_is_a_valid_update():
    from bench.fanout import sample_update
    from hub import wire

    encoded = msgspec.json.encode(sample_update(7))
    assert msgspec.json.decode(encoded, type=wire.Update).row.attendance_id == 7
