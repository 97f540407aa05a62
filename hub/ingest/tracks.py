"""GPS history as it is stored: *chunks*, and the track store's Protocol.

A chunk is one row per provider per commit, its points packed as MessagePack.  A row per
fix costs SQLite ~2 us and PostgreSQL more (index upkeep), which at 100k fixes/s is most of
a core; a chunk costs one row for a whole batch.  Reads merge the chunks and drop resent
duplicates (same provider and device time; the first stored wins).
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator, Sequence
from itertools import groupby
from operator import attrgetter, itemgetter
from typing import Any, Protocol

import msgspec


# gc=False, as for FixData: numbers only, made once per fix ingested.
class TrackPoint(msgspec.Struct, frozen=True, array_like=True, gc=False):
    """One stored GPS fix. ``flag``: 0 moved the live position, 1 late, 2 jump."""

    provider_id: int
    t_ms: int
    lat: float
    lng: float
    accuracy: float | None
    speed: float | None
    heading: float | None
    flag: int
    received_ms: int


class Chunk(msgspec.Struct, frozen=True, gc=False):
    """Points of one provider as they are stored: one row of the track store."""

    provider_id: int
    t_first_ms: int
    t_last_ms: int
    count: int
    data: bytes  # MessagePack array of TrackPoint arrays, ordered by t_ms


_encode_points = msgspec.msgpack.Encoder().encode
_decode_points = msgspec.msgpack.Decoder(list[TrackPoint]).decode
_by_time = attrgetter("t_ms")


def chunk_of(points: list[TrackPoint]) -> Chunk:
    """The chunk of one provider's points (at least one), ordered by device time."""
    ordered = sorted(points, key=_by_time)
    first, last = ordered[0], ordered[-1]
    return Chunk(first.provider_id, first.t_ms, last.t_ms, len(ordered), _encode_points(ordered))


def unpack(chunk: Chunk) -> list[TrackPoint]:
    """The points of a chunk, in its order."""
    return _decode_points(chunk.data)


def merged(blobs: Iterable[bytes], since_ms: int = 0) -> Iterator[TrackPoint]:
    """Points of chunks (given in storage order) by device time, without resent duplicates."""
    last_t = None
    for point in heapq.merge(*(_decode_points(blob) for blob in blobs), key=_by_time):
        if point.t_ms >= since_ms and point.t_ms != last_t:
            last_t = point.t_ms
            yield point


def distinct_count(rows: Iterable[Any]) -> int:
    """Distinct points in (provider_id, data) rows ordered by provider, then storage order."""
    return sum(
        sum(1 for _ in merged(row[1] for row in group))
        for _, group in groupby(rows, key=itemgetter(0))
    )


class TrackRecords(Protocol):
    async def append(self, chunks: Sequence[Chunk]) -> None:
        """Store all chunks in one transaction, one row each; durable on return.

        Idempotent as seen by readers: a point whose (provider_id, t_ms) is already stored
        is never returned twice.
        """

    async def history(
        self, provider_id: int, *, since_ms: int = 0, limit: int = 1000
    ) -> list[TrackPoint]:
        """Distinct points of one provider with t_ms >= since_ms, oldest first."""

    async def count(self, provider_ids: Sequence[int] | None = None) -> int:
        """How many distinct points are stored (for all providers or the given ones)."""
