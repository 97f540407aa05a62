"""``python -m bench fsync``: what an fdatasync costs after an idle gap, against one right
after another.

Why ``bench offer`` paces its baseline: an accept's commit never follows another commit
at once, and on virtual disks the flush that follows a gap can cost several times one
that follows another.  Each sample writes one 4 KiB page of a scratch file (in the
temporary folder, the one the bench's SQLite files use) and times the fdatasync after
it; the gap before the write is slept.  The figures are medians and p99s, per gap, and
each gap's median against the back-to-back one's.
"""

from __future__ import annotations

import os
import tempfile
import time
from typing import Any

from bench.common import percentile, say

GAPS_MS = (0.0, 0.3, 1.0, 3.0, 20.0, 50.0)
PAGE = b"x" * 4096


def timed_flushes(fd: int, samples: int, gap_s: float) -> list[float]:
    """``samples`` fdatasyncs, each after one page written ``gap_s`` after the last, in ms."""
    took = []
    for i in range(samples):
        if gap_s:
            time.sleep(gap_s)
        os.pwrite(fd, PAGE, (i % 64) * len(PAGE))
        start = time.perf_counter()
        os.fdatasync(fd)
        took.append((time.perf_counter() - start) * 1000)
    return took


def _name(gap_ms: float) -> str:
    return f"after_{gap_ms:g}ms".replace(".", "_")


def main(quick: bool) -> dict[str, Any]:
    samples = 100 if quick else 300
    result: dict[str, Any] = {"scenario": "fsync", "samples_per_gap": samples}
    with tempfile.NamedTemporaryFile(prefix="hub-bench-fsync-") as scratch:
        fd = scratch.fileno()
        timed_flushes(fd, 20, 0)  # the file's pages exist before anything is timed
        for gap_ms in GAPS_MS:
            say(f"{samples} fdatasyncs, {gap_ms:g} ms after the last")
            took = timed_flushes(fd, samples, gap_ms / 1000)
            result[f"{_name(gap_ms)}_p50_ms"] = round(percentile(took, 0.5), 3)
            result[f"{_name(gap_ms)}_p99_ms"] = round(percentile(took, 0.99), 3)
    back_to_back = result["after_0ms_p50_ms"]
    for gap_ms in GAPS_MS[1:]:
        name = _name(gap_ms)
        result[f"ratio_p50_{name}_vs_back_to_back"] = round(
            result[f"{name}_p50_ms"] / back_to_back, 2
        )
    return result
