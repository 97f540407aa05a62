"""Live state on Redis (one server or a cluster: hub/state/redis_client.py): the
distributed mode.

Positions are coalesced: ``put`` only records the newest position per provider, and a flush
task writes them once per tick in two pipelines: the provider hashes (a script that applies
only newer positions), then the GEO sets of the region cells (GEOADD, and ZREM from the
previous region when the provider crossed one); then the batch goes on the bus for the other
nodes.  Redis errors are logged and retried on the next tick; they never reach a session.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections.abc import AsyncIterator, Collection, Iterable, Sequence
from typing import Any

import msgspec
from redis.exceptions import RedisError

from hub.errors import StoreUnavailable
from hub.logs import Outages
from hub.matching.cells import cell_of, parent_of
from hub.presence import LivePosition, Owner, PresenceNote, PresenceView, connectivity
from hub.state.keys import CLAIM, EPOCH, FAILED, MOVE, REASSERT, RELEASE, Keys
from hub.state.live import PositionBatch
from hub.state.redis_bus import RedisBus, RedisStreams, call
from hub.state.redis_client import RedisClient, Scripts, connect, publish, subscribe
from hub.tasks import stop_if_cancelled
from hub.throttle import Rules

log = logging.getLogger(__name__)
SOCKET_TIMEOUT_S = 10.0  # redis-py's default (5 s) equals the follower's block (redis_bus.py)

_POSITION_FIELDS = ("lat", "lng", "t", "rcv", "acc", "spd", "hdg")


_encode = msgspec.msgpack.Encoder().encode
_decode_batch = msgspec.msgpack.Decoder(PositionBatch).decode
_decode_note = msgspec.msgpack.Decoder(PresenceNote).decode


class RedisPositions:
    def __init__(
        self,
        scripts: Scripts,
        keys: Keys,
        *,
        node: str,
        resolution: int,
        region_resolution: int,
    ) -> None:
        self.client = scripts.client
        self.scripts = scripts
        self.keys = keys
        self.node = node
        self.resolution = resolution
        self.region_resolution = region_resolution
        self.pending: dict[int, LivePosition] = {}
        self.newest: dict[int, LivePosition] = {}  # put here, per provider: for restore()
        self._move = scripts.register(MOVE)
        self._flush_lock = asyncio.Lock()

    def put(self, position: LivePosition) -> None:
        self.pending[position.provider_id] = self.newest[position.provider_id] = position

    def restore(self, provider_ids: Iterable[int]) -> None:
        newest, pending = self.newest, self.pending
        for pid in provider_ids:
            if pid in newest:
                pending.setdefault(pid, newest[pid])

    async def get(self, provider_id: int) -> LivePosition | None:
        return (await self.get_many([provider_id])).get(provider_id)

    async def get_many(self, provider_ids: list[int]) -> dict[int, LivePosition]:
        found: dict[int, LivePosition] = {}
        try:
            for start in range(0, len(provider_ids), 1000):
                chunk = provider_ids[start : start + 1000]
                async with self.client.pipeline(transaction=False) as pipe:
                    for pid in chunk:
                        pipe.hmget(self.keys.provider(pid), _POSITION_FIELDS)
                    rows = await pipe.execute()
                for pid, values in zip(chunk, rows, strict=True):
                    if values[0] is not None:
                        found[pid] = _position(pid, values)
        except RedisError as exc:
            raise StoreUnavailable(f"Redis failed: {exc}") from None
        return found

    async def flush(self) -> None:
        async with self._flush_lock:
            batch, self.pending = self.pending, {}
            if not batch:
                return
            try:
                await self._write(batch)
            except (RedisError, StoreUnavailable) as exc:  # kept for the next tick
                for provider_id, position in batch.items():
                    self.pending.setdefault(provider_id, position)
                if isinstance(exc, StoreUnavailable):
                    raise
                raise StoreUnavailable(f"Redis failed: {exc}") from None

    async def _write(self, batch: dict[int, LivePosition]) -> None:
        # Round trip 1: the provider hashes, each updated only if newer (one key per script).
        moves = []
        async with self.client.pipeline(transaction=False) as pipe:
            for pid, pos in batch.items():
                cell = cell_of(pos.lat, pos.lng, self.resolution)
                region = parent_of(cell, self.region_resolution)
                args = (
                    pos.t_ms,
                    repr(pos.lat),
                    repr(pos.lng),
                    pos.received_ms,
                    _text(pos.accuracy),
                    _text(pos.speed),
                    _text(pos.heading),
                    cell,
                    region,
                )
                await self.scripts.queue(self._move, pipe, [self.keys.provider(pid)], list(args))
                moves.append((pid, pos, region))
            applied = await self.scripts.execute(pipe)
        # Round trip 2: the GEO index of the moves that applied (the hash is the truth; a
        # provider's next flush repairs a GEO entry another node's race left behind), and
        # the batch on the position stream for the other nodes' matching indexes.
        moved = []
        async with self.client.pipeline(transaction=False) as pipe:
            for (pid, pos, region), previous in zip(moves, applied, strict=True):
                if previous is None:
                    continue
                if previous and int(previous) != region:
                    pipe.zrem(self.keys.geo(int(previous)), pid)
                pipe.geoadd(self.keys.geo(region), (pos.lng, pos.lat, pid))
                moved.append(pos)
            await pipe.execute()
        if moved:  # not in the pipeline: a cluster pipeline refuses PUBLISH
            encoded = _encode(PositionBatch(self.node, moved))
            await publish(self.client, self.keys.channel("positions"), encoded)

    async def changes(self) -> AsyncIterator[list[LivePosition]]:
        async for data in subscribe(self.client, self.keys.channel("positions")):
            try:
                batch = _decode_batch(data)
            except msgspec.DecodeError:
                log.warning("ignored undecodable position batch", extra={"bytes": len(data)})
                continue
            if batch.node != self.node:
                yield batch.positions


def _position(provider_id: int, values: list[bytes | None]) -> LivePosition:
    lat, lng, t, rcv, acc, spd, hdg = (_str(v) for v in values)
    return LivePosition(
        provider_id, float(lat), float(lng), int(t), int(rcv), _opt(acc), _opt(spd), _opt(hdg)
    )


def _str(value: bytes | str | None) -> str:
    return value.decode() if isinstance(value, bytes) else value or ""


def _text(value: float | None) -> str:
    return "" if value is None else repr(value)


def _opt(text: str) -> float | None:
    return float(text) if text else None


class RedisPresence:
    def __init__(self, scripts: Scripts, keys: Keys, *, node: str, stale_after_ms: int) -> None:
        self.client = scripts.client
        self.scripts = scripts
        self.keys = keys
        self.node = node
        self.stale_after_ms = stale_after_ms
        self._claim = scripts.register(CLAIM)
        self._release = scripts.register(RELEASE)
        self._reassert = scripts.register(REASSERT)
        self._epoch = scripts.register(EPOCH)

    async def claim(self, provider_id: int, owner: Owner, now_ms: int) -> Owner | None:
        session, node = await call(
            self._claim(
                keys=[self.keys.provider(provider_id)], args=[owner.session_id, owner.node, now_ms]
            )
        )
        if session is None or node is None:
            return None
        return Owner(session.decode(), node.decode())

    async def release(self, provider_id: int, session_id: str) -> bool:
        done = await call(self._release(keys=[self.keys.provider(provider_id)], args=[session_id]))
        return bool(done)

    async def set_duty(self, provider_id: int, on: bool) -> None:
        await call(self.client.hset(self.keys.provider(provider_id), "duty", int(on)))

    async def view(self, provider_id: int, now_ms: int) -> PresenceView:
        return (await self.views([provider_id], now_ms))[provider_id]

    async def views(self, provider_ids: list[int], now_ms: int) -> dict[int, PresenceView]:
        rows: list[Any] = []
        for start in range(0, len(provider_ids), 1000):
            async with self.client.pipeline(transaction=False) as pipe:
                for pid in provider_ids[start : start + 1000]:
                    pipe.hmget(self.keys.provider(pid), ["session", "node", "duty", "rcv"])
                rows.extend(await call(pipe.execute()))
        owners = {
            pid: Owner(session.decode(), node.decode())
            for pid, (session, node, _, _) in zip(provider_ids, rows, strict=True)
            if session and node
        }
        nodes = sorted({owner.node for owner in owners.values()})
        alive = dict(zip(nodes, await self._alive(nodes), strict=True))
        views = {}
        for pid, (_, _, duty, rcv) in zip(provider_ids, rows, strict=True):
            owner = owners.get(pid)
            last_fix = int(rcv) if rcv else None
            views[pid] = PresenceView(
                provider_id=pid,
                connectivity=connectivity(
                    owner is not None and alive[owner.node], last_fix, now_ms, self.stale_after_ms
                ),
                on_duty=duty == b"1",
                owner=owner,
                last_fix_ms=last_fix,
            )
        return views

    async def _alive(self, nodes: list[str]) -> list[bool]:
        if not nodes:
            return []
        async with self.client.pipeline(transaction=False) as pipe:
            for node in nodes:
                pipe.exists(self.keys.node(node))
            return [bool(n) for n in await call(pipe.execute())]

    async def note(self, note: PresenceNote) -> None:
        await call(publish(self.client, self.keys.channel("presence"), _encode(note)))

    async def changes(self) -> AsyncIterator[PresenceNote]:
        async for data in subscribe(self.client, self.keys.channel("presence")):
            try:
                note = _decode_note(data)
            except msgspec.DecodeError:
                log.warning("ignored undecodable presence note", extra={"bytes": len(data)})
                continue
            if note.node != self.node:
                yield note

    async def heartbeat(self, node: str, ttl_s: float) -> None:
        await call(self.client.set(self.keys.node(node), 1, px=int(ttl_s * 1000)))

    async def epoch(self) -> str:
        stored = await call(self._epoch(keys=[self.keys.epoch()], args=[secrets.token_hex(8)]))
        return str(stored.decode() if isinstance(stored, bytes) else stored)

    async def reassert(self, held: Sequence[tuple[int, Owner, bool]]) -> list[Owner]:
        owners: list[Owner] = []
        now = int(time.time() * 1000)
        for start in range(0, len(held), 1000):
            async with self.client.pipeline(transaction=False) as pipe:
                for pid, owner, on_duty in held[start : start + 1000]:
                    await self.scripts.queue(
                        self._reassert,
                        pipe,
                        [self.keys.provider(pid)],
                        [owner.session_id, owner.node, now, int(on_duty)],
                    )
                for session, node in await call(self.scripts.execute(pipe)):
                    owners.append(Owner(_str(session), _str(node)))
        return owners

    async def alive(self, nodes: Collection[str]) -> set[str]:
        asked = list(nodes)
        return {node for node, up in zip(asked, await self._alive(asked), strict=True) if up}


class RedisAttempts:
    """Failed-login tallies, one hash per key (each its own slot on a cluster)."""

    def __init__(self, scripts: Scripts, keys: Keys) -> None:
        self.client = scripts.client
        self.keys = keys
        self._failed = scripts.register(FAILED)

    async def failed(self, keys: Sequence[str], now: int, rules: Rules) -> None:
        args = [now, rules.attempts, rules.lockout_ms, rules.window_ms]
        args += [rules.max_lockout_ms, rules.kept_ms]
        for key in keys:
            await call(self._failed(keys=[self.keys.attempts(key)], args=args))

    async def locked_until(self, keys: Sequence[str]) -> int:
        async with self.client.pipeline(transaction=False) as pipe:
            for key in keys:
                pipe.hget(self.keys.attempts(key), "until")
            found = await call(pipe.execute())
        return max((int(until) for until in found if until), default=0)

    async def clear(self, keys: Sequence[str]) -> None:
        for key in keys:  # one DEL per key: on a cluster they are in different slots
            await call(self.client.delete(self.keys.attempts(key)))


class RedisLive:
    name = "redis"

    def __init__(
        self,
        url: str,
        *,
        prefix: str,
        pool_size: int = 100,
        node: str,
        stale_after_ms: int,
        flush_interval_s: float,
        resolution: int,
        region_resolution: int,
    ) -> None:
        self.url = url
        self.pool_size = pool_size
        self.keys = Keys(prefix)
        self.node = node
        self.stale_after_ms = stale_after_ms
        self.flush_interval_s = flush_interval_s
        self.resolution = resolution
        self.region_resolution = region_resolution
        self._flusher: asyncio.Task[None] | None = None
        self.outages = Outages(log)  # one line when flushes start failing, not one per tick

    # Made by start(): the client depends on what the URL names (a server or a cluster).
    client: RedisClient
    positions: RedisPositions
    presence: RedisPresence
    bus: RedisBus
    streams: RedisStreams
    attempts: RedisAttempts

    async def start(self) -> None:
        # The socket timeout stays above the stream follower's XREAD block.
        self.client = await connect(self.url, pool_size=self.pool_size, timeout_s=SOCKET_TIMEOUT_S)
        scripts = Scripts(self.client)
        keys = self.keys
        self.positions = RedisPositions(
            scripts,
            keys,
            node=self.node,
            resolution=self.resolution,
            region_resolution=self.region_resolution,
        )
        self.presence = RedisPresence(
            scripts, keys, node=self.node, stale_after_ms=self.stale_after_ms
        )
        self.bus = RedisBus(self.client, keys)
        self.streams = RedisStreams(scripts, keys)
        self.attempts = RedisAttempts(scripts, keys)
        await scripts.load()
        await self.ping()
        self._flusher = asyncio.create_task(self._flush_forever(), name="redis-position-flush")

    async def _flush_forever(self) -> None:
        while True:
            await asyncio.sleep(self.flush_interval_s)
            try:
                await self.positions.flush()
            except StoreUnavailable as exc:
                self.outages.failed("position-flush", "live position flush failed", str(exc))
            else:
                self.outages.ended("position-flush", "live positions flushed again")
            finally:
                stop_if_cancelled()  # close() cancelled a flush whose pipeline swallowed it

    async def ping(self) -> None:
        try:
            await self.client.ping()
        except (RedisError, OSError) as exc:
            raise StoreUnavailable(f"Redis does not answer: {exc}") from None

    async def close(self) -> None:
        if self._flusher is not None:
            flusher, self._flusher = self._flusher, None
            flusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await flusher
            try:
                await self.positions.flush()
            except StoreUnavailable as exc:
                log.error("live positions lost at shutdown", extra={"err": str(exc)})
        await self.client.aclose()
