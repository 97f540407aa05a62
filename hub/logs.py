"""Structured logs: one JSON object per line on stderr.

The standard library's logging does the routing; this formatter (on orjson) is all a JSON
log needs, so no logging framework is added.  ``extra={...}`` fields land in the object.
"""

from __future__ import annotations

import logging
import sys
import time
from datetime import UTC, datetime
from typing import Any

import orjson

_STANDARD = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "color_message"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD:
                entry[key] = value
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return orjson.dumps(entry, default=str).decode()


def configure(level: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers[:] = []
        logger.propagate = True
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)


class Outages:
    """Warnings about a failure that repeats (a store down for a while): one line when it
    starts, one every ``every_s`` while it lasts, one when it ends, per ``what``."""

    def __init__(self, logger: logging.Logger, every_s: float = 30.0) -> None:
        self.logger = logger
        self.every_s = every_s
        self._since: dict[str, float] = {}  # what -> when it was last logged

    def failed(self, what: str, message: str, err: str) -> None:
        now = time.monotonic()
        last = self._since.get(what)
        if last is None or now - last >= self.every_s:
            self._since[what] = now
            still = "" if last is None else " (still)"
            self.logger.warning(f"{message}{still}", extra={"what": what, "err": err})

    def ended(self, what: str, message: str) -> None:
        if self._since.pop(what, None) is not None:
            self.logger.warning(message, extra={"what": what})
