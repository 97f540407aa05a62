"""Live state in this process: the embedded default."""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict, deque
from collections.abc import AsyncIterator, Collection, Iterable, Sequence

from hub.presence import LivePosition, Owner, PresenceNote, PresenceView, connectivity
from hub.state.live import STREAM_KEPT, StreamEntry, offset_key
from hub.throttle import Rules, Tally, after_failure


class MemoryPositions:
    def __init__(self) -> None:
        self.live: dict[int, LivePosition] = {}

    def put(self, position: LivePosition) -> None:
        current = self.live.get(position.provider_id)
        if current is None or position.t_ms > current.t_ms:
            self.live[position.provider_id] = position

    def restore(self, provider_ids: Iterable[int]) -> None:
        pass  # this store never loses what it holds while the node runs

    async def get(self, provider_id: int) -> LivePosition | None:
        return self.live.get(provider_id)

    async def get_many(self, provider_ids: list[int]) -> dict[int, LivePosition]:
        live = self.live
        return {pid: live[pid] for pid in provider_ids if pid in live}

    async def flush(self) -> None:
        return None

    async def changes(self) -> AsyncIterator[list[LivePosition]]:
        await asyncio.Event().wait()  # one node: nobody else moves anyone
        yield []


class MemoryPresence:
    def __init__(self, positions: MemoryPositions, stale_after_ms: int) -> None:
        self.positions = positions
        self.stale_after_ms = stale_after_ms
        self.owners: dict[int, Owner] = {}
        self.duty: dict[int, bool] = {}
        self.nodes: dict[str, float] = {}

    async def claim(self, provider_id: int, owner: Owner, now_ms: int) -> Owner | None:
        previous = self.owners.get(provider_id)
        self.owners[provider_id] = owner
        return previous

    async def release(self, provider_id: int, session_id: str) -> bool:
        owner = self.owners.get(provider_id)
        if owner is None or owner.session_id != session_id:
            return False
        del self.owners[provider_id]
        return True

    async def set_duty(self, provider_id: int, on: bool) -> None:
        self.duty[provider_id] = on

    async def view(self, provider_id: int, now_ms: int) -> PresenceView:
        owner = self.owners.get(provider_id)
        alive = owner is not None and self.nodes.get(owner.node, 0.0) * 1000 >= now_ms
        position = self.positions.live.get(provider_id)
        last_fix = position.received_ms if position else None
        return PresenceView(
            provider_id=provider_id,
            connectivity=connectivity(alive, last_fix, now_ms, self.stale_after_ms),
            on_duty=self.duty.get(provider_id, False),
            owner=owner,
            last_fix_ms=last_fix,
        )

    async def views(self, provider_ids: list[int], now_ms: int) -> dict[int, PresenceView]:
        return {pid: await self.view(pid, now_ms) for pid in provider_ids}

    async def note(self, note: PresenceNote) -> None:
        return None  # one node: nobody to tell

    async def changes(self) -> AsyncIterator[PresenceNote]:
        await asyncio.Event().wait()
        yield PresenceNote("", 0)

    async def heartbeat(self, node: str, ttl_s: float) -> None:
        # Wall-clock expiry, so view() can compare it with now_ms.
        self.nodes[node] = time.time() + ttl_s

    async def epoch(self) -> str:
        return "memory"  # held by this process: lost only with it

    async def reassert(self, held: Sequence[tuple[int, Owner, bool]]) -> list[Owner]:
        for pid, owner, on_duty in held:
            self.owners.setdefault(pid, owner)
            self.duty.setdefault(pid, on_duty)
        return [self.owners[pid] for pid, _, _ in held]

    async def alive(self, nodes: Collection[str]) -> set[str]:
        now = time.time()
        return {node for node in nodes if self.nodes.get(node, 0.0) > now}


class MemoryBus:
    def __init__(self) -> None:
        self.listeners: defaultdict[str, set[asyncio.Queue[bytes]]] = defaultdict(set)

    async def publish(self, channel: str, payload: bytes) -> int:
        listeners = self.listeners.get(channel, ())
        for queue in listeners:
            queue.put_nowait(payload)
        return len(listeners)

    async def listen(self, channel: str) -> AsyncIterator[bytes]:
        queue: asyncio.Queue[bytes] = asyncio.Queue()
        self.listeners[channel].add(queue)
        try:
            while True:
                yield await queue.get()
        finally:
            self.listeners[channel].discard(queue)


class MemoryStreams:
    def __init__(self, kept: int = STREAM_KEPT) -> None:
        self.kept = kept
        self.logs: defaultdict[str, deque[StreamEntry]] = defaultdict(deque)
        self.counts: defaultdict[str, int] = defaultdict(int)
        self.changed: defaultdict[str, asyncio.Condition] = defaultdict(asyncio.Condition)

    async def append(self, name: str, payload: bytes) -> str:
        self.counts[name] += 1
        entry = StreamEntry(f"0-{self.counts[name]}", payload)
        log = self.logs[name]
        log.append(entry)
        if len(log) > self.kept:
            log.popleft()
        async with self.changed[name]:
            self.changed[name].notify_all()
        return entry.offset

    async def after(self, name: str, offset: str, *, limit: int = 1000) -> list[StreamEntry] | None:
        log, count = self.logs[name], self.counts[name]
        ms, seen = offset_key(offset)
        first_kept = count - len(log) + 1
        if ms != 0 or seen > count or seen < first_kept - 1:
            return None  # trimmed since, or an offset of another stream (a restart)
        start = seen - first_kept + 1
        return [log[i] for i in range(start, min(len(log), start + limit))]

    async def last(self, name: str) -> str:
        return f"0-{self.counts[name]}"

    async def follow(self, name: str, offset: str) -> AsyncIterator[StreamEntry]:
        seen = offset
        while True:
            fresh = await self.after(name, seen)
            if not fresh:
                async with self.changed[name]:
                    await self.changed[name].wait()
                continue
            for entry in fresh:
                yield entry
            seen = fresh[-1].offset


class MemoryAttempts:
    """Failed-login tallies in this process, each kept ``Rules.kept_ms`` after its last
    failure (as Redis expires them), ``KEPT`` at most (the oldest are forgotten)."""

    KEPT = 100_000

    def __init__(self) -> None:
        self.tallies: dict[str, tuple[Tally, int]] = {}  # key -> (tally, forgotten after)

    def _get(self, key: str, now: int) -> Tally | None:
        found = self.tallies.get(key)
        return None if found is None or found[1] < now else found[0]

    async def failed(self, keys: Sequence[str], now: int, rules: Rules) -> None:
        for key in keys:
            tally = after_failure(self._get(key, now), now, rules)
            self.tallies.pop(key, None)  # to the end: the newest
            self.tallies[key] = (tally, now + rules.kept_ms)
        while len(self.tallies) > self.KEPT:
            del self.tallies[next(iter(self.tallies))]

    async def locked_until(self, keys: Sequence[str]) -> int:
        found = (self.tallies.get(key) for key in keys)
        return max((f[0].locked_until_ms for f in found if f is not None), default=0)

    async def clear(self, keys: Sequence[str]) -> None:
        for key in keys:
            self.tallies.pop(key, None)


class MemoryLive:
    name = "memory"

    def __init__(self, *, stale_after_ms: int) -> None:
        self.positions = MemoryPositions()
        self.presence = MemoryPresence(self.positions, stale_after_ms)
        self.bus = MemoryBus()
        self.streams = MemoryStreams()
        self.attempts = MemoryAttempts()

    async def start(self) -> None:
        return None

    async def ping(self) -> None:
        return None

    async def close(self) -> None:
        return None
