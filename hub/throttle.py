"""Login throttling: guessing passwords (``/auth/login``) or access keys (``/portal/login``)
gets slow fast, and a real user is never locked out for long.

Failures are counted per login name and per client address.  After ``attempts`` failures
within ``window_ms`` that name (or address) is refused with 429 and ``Retry-After`` for
``lockout_ms``, doubling with each lockout in a row up to ``MAX_LOCKOUT_S``; a success
clears the name's and the address's counts.  Refused attempts are not checked at all (no
password hashing), so a flood costs the hub nothing.  The counts are kept in the live
state (``Attempts``: this process's memory embedded, Redis distributed), so every node
counts the same failures: a guesser spread over N nodes gets no more attempts than on one
(while Redis is down, each node counts on its own).

``after_failure`` is the rule itself, pure; the memory engine applies it, and the Redis
engine's script (hub/state/keys.py ``FAILED``) is the same rule in Lua.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Sequence
from typing import Protocol

import msgspec

from hub.clock import now_ms
from hub.errors import HubError, StoreUnavailable

MAX_LOCKOUT_S = 300.0
WINDOW_S = 900.0


class TooManyAttempts(HubError):
    code = "too_many_attempts"

    def __init__(self, retry_after_s: float) -> None:
        super().__init__(f"too many failed attempts: try again in {math.ceil(retry_after_s)} s")
        self.retry_after_s = math.ceil(retry_after_s)

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after_s)}


class Rules(msgspec.Struct, frozen=True):
    attempts: int  # failures in a window that lock a key
    lockout_ms: int  # the first lockout; each one in a row doubles it
    window_ms: int = int(WINDOW_S * 1000)  # failures further apart do not add up
    max_lockout_ms: int = int(MAX_LOCKOUT_S * 1000)

    @property
    def kept_ms(self) -> int:
        """How long a key's count is worth keeping after its last failure."""
        return self.window_ms + self.max_lockout_ms


class Tally(msgspec.Struct, frozen=True, kw_only=True):
    """A key's failures since ``first_ms``, and its lockouts in a row."""

    failures: int = 0
    first_ms: int = 0
    locked_until_ms: int = 0
    lockouts: int = 0


def after_failure(tally: Tally | None, now: int, rules: Rules) -> Tally:
    """The key's tally after one more failure at ``now``."""
    if tally is None:
        tally = Tally(first_ms=now)
    elif now - tally.first_ms > rules.window_ms:  # an old failure: counting starts again
        tally = msgspec.structs.replace(tally, failures=0, first_ms=now)
    if tally.failures + 1 < rules.attempts:
        return msgspec.structs.replace(tally, failures=tally.failures + 1)
    lockout = min(rules.lockout_ms * 2**tally.lockouts, rules.max_lockout_ms)
    return Tally(
        failures=0, first_ms=now, locked_until_ms=now + lockout, lockouts=tally.lockouts + 1
    )


class Attempts(Protocol):
    """Tallies of failed logins by key, shared by the nodes (hub/state/live.py)."""

    async def failed(self, keys: Sequence[str], now: int, rules: Rules) -> None:
        """One more failure for each key (``after_failure``)."""
        ...

    async def locked_until(self, keys: Sequence[str]) -> int:
        """The latest instant (ms) any of the keys is locked until; 0 if none is."""
        ...

    async def clear(self, keys: Sequence[str]) -> None:
        """Forget the keys' tallies."""
        ...


class LoginThrottle:
    """The rule over the shared tallies; while they cannot be reached (Redis down) each
    node counts in ``fallback``, its own memory, so logins neither fail nor go unthrottled
    during an outage."""

    def __init__(
        self,
        attempts: Attempts,
        rules: Rules,
        *,
        fallback: Attempts,
        clock: Callable[[], int] = now_ms,
    ) -> None:
        self.attempts = attempts
        self.fallback = fallback
        self.rules = rules
        self.clock = clock

    async def check(self, *keys: str) -> None:
        """TooManyAttempts if any of these keys (a login, an address) is locked now."""
        try:
            until = await self.attempts.locked_until(keys)
        except StoreUnavailable:
            until = 0
        until = max(until, await self.fallback.locked_until(keys))
        wait_ms = until - self.clock()
        if wait_ms > 0:
            raise TooManyAttempts(wait_ms / 1000)

    async def failed(self, *keys: str) -> None:
        try:
            await self.attempts.failed(keys, self.clock(), self.rules)
        except StoreUnavailable:
            await self.fallback.failed(keys, self.clock(), self.rules)

    async def succeeded(self, *keys: str) -> None:
        await self.fallback.clear(keys)
        with contextlib.suppress(StoreUnavailable):
            await self.attempts.clear(keys)
