"""Loops that must stop when their task is cancelled, even past a client library that
swallows the cancellation (redis-py's pipelines can: the ``CancelledError`` never reaches
the loop, which then runs forever and its ``await task`` never returns)."""

from __future__ import annotations

import asyncio


def stop_if_cancelled() -> None:
    """Raise CancelledError if the running task was asked to stop: called after each await
    of a loop whose work goes through such a library."""
    current = asyncio.current_task()
    if current is not None and current.cancelling():
        raise asyncio.CancelledError
