"""Per-session flood guard: a token bucket for fixes and a count of strikes. Pure."""

from __future__ import annotations


class FloodGuard:
    __slots__ = ("burst", "level", "max_strikes", "rate", "stamp", "strikes")

    def __init__(self, rate_per_s: float, burst: int, max_strikes: int, now_s: float) -> None:
        self.rate = rate_per_s
        self.burst = float(burst)
        self.max_strikes = max_strikes
        self.level = float(burst)
        self.stamp = now_s
        self.strikes = 0

    def take(self, count: int, now_s: float) -> bool:
        """Spend ``count`` tokens if there are enough; a refusal is a strike."""
        if now_s > self.stamp:  # clocks of two sources may disagree by a millisecond
            self.level = min(self.burst, self.level + (now_s - self.stamp) * self.rate)
            self.stamp = now_s
        if count <= self.level:
            self.level -= count
            self.strikes = 0
            return True
        self.strikes += 1
        return False

    @property
    def exhausted(self) -> bool:
        """Enough strikes in a row that the session should be closed."""
        return self.strikes >= self.max_strikes

    def retry_after_s(self, count: int) -> float:
        return max(0.0, (min(count, self.burst) - self.level) / self.rate)
