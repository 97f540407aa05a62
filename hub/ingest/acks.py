"""The ack window of one session: which sequence numbers were seen, which are settled.

A fix is *settled* once it is durably stored or definitively refused; the ack carries the
highest sequence number below which every fix is settled.  Pure and synchronous.

Apps send sequence numbers in order, so the window keeps the in-order case free of set
operations: everything in (acked, high] was seen except the ``holes``, and ``settled``
only holds what was settled above an unsettled number.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import Enum


class Receipt(Enum):
    NEW = 0
    DUPLICATE = 1  # seen before: no second effect
    OUT_OF_WINDOW = 2  # too far ahead of the ack: refused, the app must slow down


_NONE: frozenset[int] = frozenset()


class AckWindow:
    __slots__ = ("acked", "high", "holes", "settled", "window")

    def __init__(self, window: int) -> None:
        self.window = window
        self.acked = 0
        self.high = 0  # highest sequence number seen
        # Both stay the shared empty frozenset until an out-of-order number needs a real set:
        # an empty set costs 216 bytes, and ten thousand sessions are held.
        self.holes: set[int] | frozenset[int] = _NONE  # in (acked, high], not seen
        self.settled: set[int] | frozenset[int] = _NONE  # in (acked, high], settled, not acked

    def receive(self, seq: int) -> Receipt:
        """Register a sequence number as seen."""
        high = self.high
        if seq == high + 1 and seq <= self.acked + self.window:
            self.high = seq
            return Receipt.NEW
        if seq > high:
            if seq > self.acked + self.window:
                return Receipt.OUT_OF_WINDOW
            self.holes = set(self.holes) | set(range(high + 1, seq))
            self.high = seq
            return Receipt.NEW
        if seq in self.holes:
            self.holes = (self.holes - {seq}) or _NONE
            return Receipt.NEW
        return Receipt.DUPLICATE

    def receive_run(self, first: int, last: int) -> bool:
        """Register ``first..last`` (a frame's consecutive numbers) at once if they run on
        from the highest seen and fit the window, as ``receive`` would one by one; False,
        with nothing registered, otherwise."""
        if first == self.high + 1 and last <= self.acked + self.window:
            self.high = last
            return True
        return False

    def settle(self, seqs: Sequence[int]) -> int | None:
        """Mark seen sequence numbers settled; return the new ack if it moved, else None."""
        acked = self.acked
        # In-order commit of the next run of numbers: no sets touched.
        if (
            seqs
            and seqs[0] == acked + 1
            and seqs[-1] - seqs[0] + 1 == len(seqs)
            and seqs[-1] <= self.high
            and not self.settled
            and not self.holes
        ):
            self.acked = seqs[-1]
            return self.acked
        settled = set(self.settled)
        for seq in seqs:
            if acked < seq <= self.high and seq not in self.holes:
                settled.add(seq)
        while acked + 1 in settled:
            acked += 1
            settled.discard(acked)
        self.settled = settled or _NONE
        moved = acked != self.acked
        self.acked = acked
        return acked if moved else None
