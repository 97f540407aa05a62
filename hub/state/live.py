"""The live-state role: positions, presence and the cross-node bus (memory | redis).

Nothing here is the source of truth for an assignment; it is what the hub knows *now*.
Both implementations pass tests/state/test_live_contract.py.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection, Iterable, Sequence
from typing import Protocol

import msgspec

from hub.presence import LivePosition, Owner, PresenceNote, PresenceView
from hub.throttle import Attempts


class PositionBatch(msgspec.Struct, frozen=True):
    """Positions one node flushed in one tick: the stream that feeds other nodes' indexes."""

    node: str
    positions: list[LivePosition]


class Positions(Protocol):
    def put(self, position: LivePosition) -> None:
        """Set a provider's live position without waiting, if newer than the stored one.

        Newest device time wins per provider, whichever node or session writes.  Visible
        to ``get`` at once (memory) or after the next flush tick (redis, which writes at
        most once per provider per tick, pipelined).  Not durable: the track store is.
        """

    async def get(self, provider_id: int) -> LivePosition | None:
        """The last flushed live position, or None."""

    async def get_many(self, provider_ids: list[int]) -> dict[int, LivePosition]:
        """The last flushed positions of those providers that have one (pipelined)."""

    async def flush(self) -> None:
        """Write every position put so far; returns when they are visible to ``get``."""

    def restore(self, provider_ids: Iterable[int]) -> None:
        """Put again the newest position this node put for each of these providers (the
        store lost its data; their sessions are here): written with the next flush."""

    def changes(self) -> AsyncIterator[list[LivePosition]]:
        """Positions other nodes flush, batch by batch, from now on.

        At-most-once (pub/sub): a missed batch leaves a provider at its previous position
        until its next fix.  A single-node engine never yields.
        """


class Presence(Protocol):
    async def claim(self, provider_id: int, owner: Owner, now_ms: int) -> Owner | None:
        """Make ``owner`` the provider's session atomically; return the previous owner."""

    async def release(self, provider_id: int, session_id: str) -> bool:
        """Clear the owner only if it is still ``session_id`` (compare-and-delete)."""

    async def set_duty(self, provider_id: int, on: bool) -> None:
        """Record on/off duty; survives sessions (a provider reconnects still on duty)."""

    async def view(self, provider_id: int, now_ms: int) -> PresenceView:
        """Connectivity and duty now; a dead owner node reads as offline."""

    async def heartbeat(self, node: str, ttl_s: float) -> None:
        """Mark ``node`` alive for ``ttl_s``; owners on nodes not alive are offline."""

    async def alive(self, nodes: Collection[str]) -> set[str]:
        """Those of ``nodes`` whose heartbeat has not lapsed (pipelined)."""

    async def epoch(self) -> str:
        """An id of what the store holds, made when first asked; a different answer later
        means the store lost its data (restarted empty), and every node must assert again
        what it owns (``reassert``)."""

    async def reassert(self, held: Sequence[tuple[int, Owner, bool]]) -> list[Owner]:
        """For each (provider, owner, on duty) a node holds: make ``owner`` the provider's
        session unless another is recorded (a newer one may have claimed it since), and
        record its duty unless one is.  The owner each provider has after (pipelined)."""

    async def views(self, provider_ids: list[int], now_ms: int) -> dict[int, PresenceView]:
        """``view`` of many providers at once (pipelined): rebuilding a node's state."""

    async def note(self, note: PresenceNote) -> None:
        """Tell the other nodes a session opened or closed or duty changed (at-most-once)."""

    def changes(self) -> AsyncIterator[PresenceNote]:
        """Notes of the other nodes, from now on.  A single-node engine never yields."""


class Bus(Protocol):
    async def publish(self, channel: str, payload: bytes) -> int:
        """Deliver to current listeners of ``channel``; at-most-once, no replay.  How many
        listeners it reached (0: nobody listens now, e.g. a node subscribing again after
        the store came back)."""

    def listen(self, channel: str) -> AsyncIterator[bytes]:
        """Messages published to ``channel`` from now on, in publish order per publisher."""


class StreamEntry(msgspec.Struct, frozen=True):
    offset: str  # "<ms>-<seq>": Redis stream ids; the memory engine counts "0-<n>"
    payload: bytes


def offset_key(offset: str) -> tuple[int, int]:
    """An offset as a sortable pair; malformed offsets sort first (they resync)."""
    ms, _, seq = offset.partition("-")
    try:
        return int(ms), int(seq or 0)
    except ValueError:
        return -1, -1


class Streams(Protocol):
    """Named, bounded, ordered logs with offsets: what dashboards resume from.

    Unlike the bus, an entry is kept (the newest ``STREAM_KEPT`` per stream), so a reader
    that reconnects with its last offset gets what it missed, or learns it must resync.
    """

    async def append(self, name: str, payload: bytes) -> str:
        """Add an entry; its offset, greater than every earlier one."""

    async def after(self, name: str, offset: str, *, limit: int = 1000) -> list[StreamEntry] | None:
        """Entries after ``offset``, oldest first; None when entries after it may have been
        trimmed (the reader must take a fresh snapshot)."""

    async def last(self, name: str) -> str:
        """The newest offset ("0-0" for an empty stream)."""

    def follow(self, name: str, offset: str) -> AsyncIterator[StreamEntry]:
        """Entries after ``offset`` as they are appended, forever."""


STREAM_KEPT = 10_000


class LiveState(Protocol):
    name: str

    @property
    def positions(self) -> Positions: ...

    @property
    def presence(self) -> Presence: ...

    @property
    def bus(self) -> Bus: ...

    @property
    def streams(self) -> Streams: ...

    @property
    def attempts(self) -> Attempts:
        """Failed logins by name and address (hub/throttle.py), counted for every node."""
        ...

    async def start(self) -> None:
        """Connect and start background flushing."""

    async def ping(self) -> None:
        """Raise StoreUnavailable unless the engine answers."""

    async def close(self) -> None:
        """Flush what is pending, stop tasks, release connections; idempotent."""
