"""The ack window of one session: which sequence numbers were seen, which are settled.

A fix is *settled* once it is durably stored or definitively refused; the ack carries the
highest sequence number below which every fix is settled.  Pure and synchronous.
"""

from __future__ import annotations

from enum import Enum


class Receipt(Enum):
    NEW = 0
    DUPLICATE = 1  # seen before: no second effect
    OUT_OF_WINDOW = 2  # too far ahead of the ack: refused, the app must slow down


class AckWindow:
    __slots__ = ("acked", "pending", "settled", "window")

    def __init__(self, window: int) -> None:
        self.window = window
        self.acked = 0
        self.pending: set[int] = set()  # seen, not yet settled
        self.settled: set[int] = set()  # settled, above a gap

    def receive(self, seq: int) -> Receipt:
        """Register a sequence number as seen."""
        if seq <= self.acked or seq in self.pending or seq in self.settled:
            return Receipt.DUPLICATE
        if seq > self.acked + self.window:
            return Receipt.OUT_OF_WINDOW
        self.pending.add(seq)
        return Receipt.NEW

    def forget(self, seq: int) -> None:
        """Un-see a sequence number that was dropped unstored (rate limit): it may come again."""
        self.pending.discard(seq)

    def settle(self, seqs: list[int]) -> int | None:
        """Mark seen sequence numbers settled; return the new ack if it moved, else None."""
        for seq in seqs:
            if seq in self.pending:
                self.pending.discard(seq)
                self.settled.add(seq)
        before = self.acked
        while self.acked + 1 in self.settled:
            self.acked += 1
            self.settled.discard(self.acked)
        return self.acked if self.acked != before else None
