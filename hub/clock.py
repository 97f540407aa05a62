"""The hub's one clock reading: wall-clock milliseconds since the Unix epoch.

Every stored and sent time (fixes, offers, deadlines, logs) is in this unit; durations
measured inside one process use ``time.monotonic`` instead.
"""

from __future__ import annotations

import time


def now_ms() -> int:
    return time.time_ns() // 1_000_000
