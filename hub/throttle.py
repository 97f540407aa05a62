"""Login throttling: guessing passwords (``/auth/login``) or access keys (``/portal/login``)
gets slow fast, and a real user is never locked out for long.

Failures are counted per login name and per client address.  After ``attempts`` failures
within ``window_s`` that name (or address) is refused with 429 and ``Retry-After`` for
``lockout_s``, doubling with each lockout in a row up to ``MAX_LOCKOUT_S``; a success
clears the name's and the address's counts.  Refused attempts are not checked at all (no
password hashing), so a flood costs the hub nothing.  Counts live in each node's memory: a
guesser spread over N nodes gets N times the attempts, still a handful a minute.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from hub.errors import HubError

MAX_LOCKOUT_S = 300.0
WINDOW_S = 900.0
KEPT = 100_000  # names and addresses remembered at most (the oldest are forgotten)


class TooManyAttempts(HubError):
    code = "too_many_attempts"

    def __init__(self, retry_after_s: float) -> None:
        super().__init__(f"too many failed attempts: try again in {math.ceil(retry_after_s)} s")
        self.retry_after_s = math.ceil(retry_after_s)

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after_s)}


@dataclass
class _Record:
    failures: int = 0
    first: float = 0.0
    locked_until: float = 0.0
    lockouts: int = 0


class LoginThrottle:
    def __init__(
        self,
        attempts: int,
        lockout_s: float,
        *,
        window_s: float = WINDOW_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.attempts = attempts
        self.lockout_s = lockout_s
        self.window_s = window_s
        self.clock = clock
        self.records: dict[str, _Record] = {}

    def check(self, *keys: str) -> None:
        """TooManyAttempts if any of these keys (a login, an address) is locked now."""
        now = self.clock()
        waits = [r.locked_until - now for k in keys if (r := self.records.get(k)) is not None]
        longest = max(waits, default=0.0)
        if longest > 0:
            raise TooManyAttempts(longest)

    def failed(self, *keys: str) -> None:
        now = self.clock()
        for key in keys:
            record = self.records.setdefault(key, _Record(first=now))
            if now - record.first > self.window_s:  # an old failure: counting starts again
                record.failures, record.first = 0, now
            record.failures += 1
            if record.failures >= self.attempts:
                record.locked_until = now + min(self.lockout_s * 2**record.lockouts, MAX_LOCKOUT_S)
                record.lockouts += 1
                record.failures = 0
                record.first = now
        while len(self.records) > KEPT:
            del self.records[next(iter(self.records))]

    def succeeded(self, *keys: str) -> None:
        for key in keys:
            self.records.pop(key, None)
