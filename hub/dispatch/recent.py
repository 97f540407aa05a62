"""The snapshots this node's decisions left, so that the next decision on the same
attendance starts without reading the store.

A snapshot here may be behind: another node may have decided since.  That is safe, because
a decision commits only if the attendance is still at the snapshot's version; if it is not,
the decision is made again on what is stored (hub/dispatch/service.py).
"""

from __future__ import annotations

from hub.dispatch.book import DispatchSnapshot
from hub.dispatch.lifecycle import FINAL


class Recent:
    def __init__(self, size: int) -> None:
        self.size = size
        self._kept: dict[int, DispatchSnapshot] = {}  # oldest first

    def get(self, attendance_id: int) -> DispatchSnapshot | None:
        return self._kept.get(attendance_id)

    def keep(self, snapshot: DispatchSnapshot) -> None:
        """Remember what a commit left (an attendance that is done is forgotten)."""
        key = snapshot.attendance.id
        self._kept.pop(key, None)
        if snapshot.attendance.state in FINAL:
            return
        self._kept[key] = snapshot
        if len(self._kept) > self.size:
            del self._kept[next(iter(self._kept))]

    def forget(self, attendance_id: int) -> None:
        self._kept.pop(attendance_id, None)

    def __len__(self) -> int:
        return len(self._kept)
