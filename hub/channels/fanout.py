"""The console's live topics on this node: who subscribed to what, and what to send them.

Panel updates come from the status stream (hub/dispatch/delivery.py appends one entry per
decision); every node follows it and turns each entry into one encoded frame per topic,
sent to every subscriber on the node.  Map updates are this node's own: once per
``map_interval_s``, the providers that moved or changed presence since the last tick.

A new subscription is registered before its snapshot is read, and updates that arrive
meanwhile are held; once the snapshot is out, the held updates newer than its offset
follow.  Nothing falls between the snapshot and the stream.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Protocol

import msgspec

from hub import wire
from hub.channels.lean_ws import text_frame
from hub.channels.panels import ATTENDANCE, MAP, PANELS, panel_of, row
from hub.clock import now_ms
from hub.config import Settings
from hub.dispatch.book import LogEntry
from hub.dispatch.punctuality import Forecast
from hub.dispatch.told import STATUS_STREAM
from hub.errors import StoreUnavailable
from hub.logs import Outages
from hub.matching.service import MatchService
from hub.operations.attendances import Attendance
from hub.state.live import StreamEntry, Streams, offset_key
from hub.state.records import Records

log = logging.getLogger(__name__)

_decode_entries = msgspec.json.Decoder(list[LogEntry]).decode


class Subscriber(Protocol):
    def send(self, messages: Sequence[bytes], framed: bytes) -> None:
        """Send JSON ``messages`` in order; ``framed`` is the same as websocket frames."""


def _send(who: Subscriber, frame: wire.DashboardFrame) -> None:
    data = msgspec.json.encode(frame)
    who.send((data,), text_frame(data))


class Dashboards:
    def __init__(
        self,
        *,
        records: Records,
        streams: Streams,
        matching: MatchService,
        forecast: Forecast,
        settings: Settings,
    ) -> None:
        self.records = records
        self.streams = streams
        self.matching = matching
        self.forecast = forecast
        self.map_interval_s = settings.map_interval_s
        # topic -> subscriber -> updates held until its snapshot is out (None: live)
        self.topics: dict[str, dict[Subscriber, list[tuple[str, bytes, bytes]] | None]] = {}
        self.map_seq = 0
        self.batches: dict[str, list[tuple[bytes, bytes]]] = {}  # not yet written
        self.flush_s = settings.dashboard_flush_ms / 1000
        self.outages = Outages(log)
        self.consoles: set[Subscriber] = set()  # signed in on this node: for keepalive

    # --- subscriptions ------------------------------------------------------------------

    async def open(
        self, who: Subscriber, topic: str, kind: str, ref: int | None, since: str | None
    ) -> None:
        """Subscribe ``who``: what it missed since ``since``, else a snapshot; then live."""
        held: list[tuple[str, bytes, bytes]] = []
        self.topics.setdefault(topic, {})[who] = held
        try:
            offset = await self._catch_up(who, topic, kind, ref, since)
        except BaseException:
            self.close(who, topic)
            raise
        self._flush(topic)  # what was batched before it went live is in its held list
        for at, data, framed in held:
            if offset_key(at) > offset_key(offset):
                who.send((data,), framed)
        self.topics[topic][who] = None

    def close(self, who: Subscriber, topic: str) -> None:
        subscribers = self.topics.get(topic)
        if subscribers is not None:
            subscribers.pop(who, None)
            if not subscribers:
                del self.topics[topic]

    def topics_of(self, who: Subscriber) -> list[str]:
        return [topic for topic, subscribers in self.topics.items() if who in subscribers]

    def drop(self, who: Subscriber) -> None:
        self.consoles.discard(who)
        for topic in list(self.topics):
            self.close(who, topic)

    async def keepalive(self) -> None:
        """A keepalive frame to every console on this node (a background tick)."""
        if self.consoles:
            data = msgspec.json.encode(wire.Keepalive(server_time=now_ms()))
            framed = text_frame(data)
            for who in list(self.consoles):
                who.send((data,), framed)

    def deliver(self, topic: str, offset: str, frame: wire.DashboardFrame) -> None:
        """Encode and frame once for every subscriber of the topic on this node.

        Live subscribers get the updates of one ``dashboard_flush_ms`` window together
        (``_flush``): one write, one system call, per subscriber however many updates
        there were.  The writes are the fan-out's cost, so a busy hub gathers more per
        write; a console sees its update at most one window later.
        """
        subscribers = self.topics.get(topic)
        if not subscribers:
            return
        data = msgspec.json.encode(frame)
        framed = text_frame(data)
        batch = self.batches.get(topic)
        if batch is None:
            batch = self.batches[topic] = []
            asyncio.get_running_loop().call_later(self.flush_s, self._flush, topic)
        batch.append((data, framed))
        for held in subscribers.values():
            if held is not None:
                held.append((offset, data, framed))

    def _flush(self, topic: str) -> None:
        batch = self.batches.pop(topic, None)
        subscribers = self.topics.get(topic)
        if not batch or not subscribers:
            return
        messages = [data for data, _ in batch]
        framed = b"".join(f for _, f in batch)
        for who, held in list(subscribers.items()):
            if held is None:
                who.send(messages, framed)

    async def _catch_up(
        self, who: Subscriber, topic: str, kind: str, ref: int | None, since: str | None
    ) -> str:
        streams = self.streams
        if kind == MAP:
            snapshot = wire.SnapshotFrame(
                topic=topic, offset=f"0-{self.map_seq}", points=self.points(None)
            )
            _send(who, snapshot)
            return snapshot.offset
        if since is not None:
            missed = await streams.after(STATUS_STREAM, since)
            if missed is not None:
                for entry in missed:
                    for frame in await self.updates(entry, only=topic):
                        _send(who, frame)
                return missed[-1].offset if missed else since
        offset = await streams.last(STATUS_STREAM)  # before the rows: nothing falls between
        if kind == ATTENDANCE:
            assert ref is not None
            lines = [
                wire.LogLine(
                    action=e.action, actor=e.actor, detail=e.detail, at_ms=e.at_ms, state=""
                )
                for e in await self.records.attendances.log(ref)
            ]
            snapshot = wire.SnapshotFrame(
                topic=topic, offset=offset, resync=since is not None, log=lines
            )
        else:
            found = await self.records.attendances.in_states(sorted(s.value for s in PANELS[kind]))
            snapshot = wire.SnapshotFrame(
                topic=topic, offset=offset, resync=since is not None, rows=await self.rows(found)
            )
        _send(who, snapshot)
        return offset

    # --- what the topics show -----------------------------------------------------------

    async def rows(self, attendances: list[Attendance]) -> list[wire.PanelRow]:
        facts = await self.records.dispatch.panel_facts([a.id for a in attendances])
        now = now_ms()
        made = []
        for a in attendances:
            known = None if a.provider_id is None else self.matching.known.get(a.provider_id)
            name = "" if known is None else known.provider.name
            attempts, client_id = facts.get(a.id, (0, 0))
            made.append(row(a, attempts, client_id, name, self.forecast(a, now)))
        return made

    async def updates(self, entry: StreamEntry, only: str | None = None) -> list[wire.Update]:
        """The frames one status-stream entry makes, per topic (or for one topic)."""
        changes = _decode_entries(entry.payload)
        ids = sorted({c.attendance_id for c in changes})
        wanted = [only] if only else list(self.topics)
        frames: list[wire.Update] = []
        for aid in ids:
            line_topic = f"{ATTENDANCE}:{aid}"
            if line_topic in wanted:
                frames += [
                    wire.Update(
                        topic=line_topic,
                        offset=entry.offset,
                        line=wire.LogLine(
                            action=c.action,
                            actor=c.actor,
                            detail=c.detail,
                            at_ms=c.at_ms,
                            state=c.state,
                        ),
                    )
                    for c in changes
                    if c.attendance_id == aid
                ]
        panels = [p for p in PANELS if p in wanted]
        if not panels:
            return frames
        found = [a for a in [await self.records.attendances.get(i) for i in ids] if a]
        created = {c.attendance_id for c in changes if c.action == "create"}
        for a, shown in zip(found, await self.rows(found), strict=True):
            home = panel_of(a.state)
            for panel in panels:
                if panel == home:
                    frames.append(wire.Update(topic=panel, offset=entry.offset, row=shown))
                elif a.id not in created:  # it may have left this panel
                    frames.append(wire.Update(topic=panel, offset=entry.offset, removed=a.id))
        return frames

    def points(self, only: set[int] | None) -> list[wire.MapPoint]:
        matching = self.matching
        now = now_ms()
        ids = matching.index.positions.keys() if only is None else only
        out = []
        for pid in ids:
            here = matching.index.positions.get(pid)
            known = matching.known.get(pid)
            if here is None or known is None:
                continue
            out.append(
                wire.MapPoint(
                    provider_id=pid,
                    lat=here.lat,
                    lng=here.lng,
                    connectivity=matching.connectivity(known, now).value,
                    on_duty=known.on_duty,
                    engaged=known.engaged,
                    name=known.provider.name,
                )
            )
        return out

    # --- the feeds ----------------------------------------------------------------------

    async def follow_status(self) -> None:
        """Every status-stream entry, as panel and attendance updates on this node; after
        a store failure, resumed after the last entry delivered, so what was appended
        meanwhile (committed decisions told late) is not skipped."""
        streams = self.streams
        seen: str | None = None
        while True:
            try:
                if seen is None:
                    seen = await streams.last(STATUS_STREAM)
                async for entry in streams.follow(STATUS_STREAM, seen):
                    if self.topics:
                        for frame in await self.updates(entry):
                            self.deliver(frame.topic, entry.offset, frame)
                    seen = entry.offset
                    self.outages.ended("status-follower", "status stream followed again")
            except StoreUnavailable as exc:
                self.outages.failed("status-follower", "status stream follower failed", exc.message)
                await asyncio.sleep(1.0)

    async def map_ticks(self) -> None:
        """Providers that moved (or changed presence) since the last tick, at most 1 Hz."""
        while True:
            await asyncio.sleep(self.map_interval_s)
            moved = self.matching.take_moved()
            if moved and MAP in self.topics:
                self.map_seq += 1
                offset = f"0-{self.map_seq}"
                self.deliver(
                    MAP, offset, wire.Update(topic=MAP, offset=offset, points=self.points(moved))
                )
