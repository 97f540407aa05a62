"""Dispatch records, written once for both engines: offers, decisions on snapshots, KPIs.

Every dispatch decision (make an offer, accept, refuse, expire, a status step) works on a
``Ledger``: a snapshot of the attendance with its offers, and the writes the decision keeps.
The commit sends them in one trip behind a guard, an UPDATE of the attendance on condition
that its version is still the snapshot's (and bumping it): of two decisions made on the same
snapshot, on any nodes, one commits and the other is ``Stale`` and is made again.  Decisions
on one attendance are therefore serial on every node, without a lock held between trips.
``locked`` takes the row lock as well, for the sweeper and for a decision made again.  On
top of that the accept is a conditional UPDATE (pending, before its deadline) and a partial
unique index allows one accepted offer per attendance: the store, not a cache, decides who
wins.

The SQL here uses ``?`` placeholders; the PostgreSQL adaptor numbers them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from functools import cache
from typing import Any, Protocol

import msgspec

from hub.dispatch.offers import Offer, OfferState
from hub.errors import Conflict
from hub.operations.attendances import Attendance
from hub.operations.providers import Channel
from hub.state.records import DISPATCH_COLUMNS, attendance_from, dispatch_row

OFFER_COLUMNS = (
    "id, attendance_id, provider_id, mode, state, created_ms, deadline_ms, decided_ms,"
    " eta_min, reason, radius_km, created_by, decided_by"
)
KPI_WINDOW_MS = 90 * 86_400_000  # KPIs look at the last 90 days


def offer_from(row: Sequence[Any]) -> Offer:
    return Offer(
        id=row[0],
        attendance_id=row[1],
        provider_id=row[2],
        mode=Channel(row[3]),
        state=OfferState(row[4]),
        created_ms=row[5],
        deadline_ms=row[6],
        decided_ms=row[7],
        eta_min=row[8],
        reason=row[9],
        radius_km=row[10],
        created_by=row[11],
        decided_by=row[12],
    )


class NewOffer(msgspec.Struct, frozen=True, kw_only=True):
    provider_id: int
    mode: Channel
    deadline_ms: int
    radius_km: float  # 0 when an operator picked the provider
    created_by: str
    link_hash: str | None = None


class Kpis(msgspec.Struct, frozen=True, kw_only=True):
    """A provider's record: offers answered (expired counts as refused) and arrivals."""

    decided: int
    accepted: int
    arrivals: int
    on_time: int

    def acceptance_pct(self) -> float | None:
        return None if self.decided == 0 else round(100 * self.accepted / self.decided, 1)

    def on_time_pct(self) -> float | None:
        return None if self.arrivals == 0 else round(100 * self.on_time / self.arrivals, 1)


class Notification(msgspec.Struct, frozen=True, kw_only=True):
    id: int = 0
    at_ms: int
    channel: str  # "sms" | "email"
    recipient: str
    subject: str
    body: str
    offer_id: int | None = None
    outcome: str  # "outbox" (development), "sent", or "failed: <why>"


class OfferIds(Protocol):
    """Numbers a decision's new offers before it commits (their ids go out with it)."""

    async def next_offer_id(self) -> int: ...


class Snapshot(msgspec.Struct, frozen=True):
    """An attendance with its offers as committed, and the version that commit left."""

    attendance: Attendance
    offers: list[Offer]
    version: int


_decode_offers = msgspec.json.Decoder(list[list[Any]]).decode


def snapshot_from(row: Sequence[Any]) -> Snapshot:
    """A snapshot from a row of ``ATTENDANCE_READ, version, offers as a JSON array``."""
    offers = [offer_from(o) for o in _decode_offers(row[-1])]
    return Snapshot(attendance_from(row), offers, int(row[-2]))


class Write(msgspec.Struct, frozen=True):
    """A statement kept for the commit.  ``expect`` says what it must answer, else the
    whole decision is undone: "version" (the guard: the attendance is still at the version
    the decision read, else ``Stale``), "one" (exactly one row changed, else ``Lost``) or
    "id" (an INSERT whose id is wanted)."""

    sql: str
    args: tuple[Any, ...]
    expect: str


class Entry(msgspec.Struct, frozen=True, kw_only=True):
    """An attendance log entry as the decision wrote it (the status stream's payload)."""

    attendance_id: int
    action: str
    actor: str
    detail: str
    at_ms: int
    state: str
    provider_id: int | None


class Stale(Exception):
    """The attendance moved on since the decision read it (another decision committed
    first): nothing was written; decide again on what is stored now."""


class Lost(Conflict):
    """A conditional write changed no row: another decision won (never expected under the
    version guard, so the decision is undone whole)."""

    def __init__(self) -> None:
        super().__init__("another decision changed this offer first")


_DECIDE = (
    "UPDATE offers SET state = ?, decided_ms = ?, eta_min = ?, reason = ?, decided_by = ?"
    " WHERE id = ? AND state = 'pending'"
)
_GUARD = (
    "UPDATE attendances SET "
    + ", ".join(f"{c.strip()} = ?" for c in DISPATCH_COLUMNS.split(","))
    + ", state = ?, version = version + 1 WHERE id = ? AND version = ?"
)
_NEW_OFFER = (
    f"INSERT INTO offers ({OFFER_COLUMNS}, link_hash)"
    f" VALUES ({', '.join('?' * (OFFER_COLUMNS.count(',') + 2))})"
)
_LOG = (
    "INSERT INTO attendance_log (attendance_id, at_ms, actor, action, detail)"
    " VALUES (?, ?, ?, ?, ?)"
)


class Ledger:
    """One decision on an attendance, from a snapshot of it and its offers.

    Every write is kept and sent at the commit in one trip, behind a guard: the
    attendance's version must still be the snapshot's, and the commit bumps it.  New
    offers are numbered at once (``OfferIds``) and inserted at the commit as they stand
    then.  Updates of stored offers stay conditional (``state = 'pending'``, and before the
    deadline for an accept): if one changes no row, the engine undoes the whole decision.
    """

    def __init__(self, ids: OfferIds, snapshot: Snapshot) -> None:
        self.ids = ids
        self.attendance = snapshot.attendance
        self.offers = list(snapshot.offers)
        self.version = snapshot.version
        self.pending: list[Write] = []
        self.made: dict[int, str | None] = {}  # new offer id -> its link's hash
        self.entries: list[Entry] = []
        self.changed = False
        self.logged: list[tuple[int, Entry]] = []  # (log id, entry), after the commit
        self.after: Snapshot | None = None  # what the commit left

    async def add_offer(self, new: NewOffer, now_ms: int) -> Offer:
        offer = Offer(
            id=await self.ids.next_offer_id(),
            attendance_id=self.attendance.id,
            provider_id=new.provider_id,
            mode=new.mode,
            state=OfferState.PENDING,
            created_ms=now_ms,
            deadline_ms=new.deadline_ms,
            radius_km=new.radius_km,
            created_by=new.created_by,
        )
        self.offers.append(offer)
        self.made[offer.id] = new.link_hash
        self.changed = True
        return offer

    async def decide(
        self,
        offer: Offer,
        to: OfferState,
        now_ms: int,
        *,
        actor: str,
        eta_min: int | None = None,
        reason: str = "",
    ) -> Offer | None:
        """Move a pending offer to ``to``; an accept only before its deadline.  None when
        the offer (as read) is no longer pending, or an accept comes at or past the
        deadline; the conditional UPDATE sent at the commit checks the same again."""
        current = next(o for o in self.offers if o.id == offer.id)
        accept = to is OfferState.ACCEPTED
        if current.state is not OfferState.PENDING or (accept and now_ms >= current.deadline_ms):
            return None
        if offer.id not in self.made:  # a new offer is inserted as it stands at the commit
            sql = _DECIDE
            args: tuple[Any, ...] = (to.value, now_ms, eta_min, reason, actor, offer.id)
            if accept:
                sql, args = sql + " AND deadline_ms > ?", (*args, now_ms)
            self.pending.append(Write(sql, args, "one"))
        decided = msgspec.structs.replace(
            current, state=to, decided_ms=now_ms, eta_min=eta_min, reason=reason, decided_by=actor
        )
        self.offers = [decided if o.id == offer.id else o for o in self.offers]
        self.changed = True
        return decided

    async def save(self, after: Attendance) -> None:
        """The attendance's dispatch fields and state, as stored at the commit."""
        self.attendance = after
        self.changed = True

    async def log(self, action: str, actor: str, detail: str, now_ms: int) -> None:
        """Append to the attendance log (its id, the status stream's offset, comes with the
        commit in ``logged``)."""
        a = self.attendance
        self.entries.append(
            Entry(
                attendance_id=a.id,
                action=action,
                actor=actor,
                detail=detail,
                at_ms=now_ms,
                state=a.state.value,
                provider_id=a.provider_id,
            )
        )
        self.changed = True

    def writes(self) -> list[Write]:
        """Everything kept for the commit, in order: the guard, new offers, decided
        offers, the log; nothing when the decision changed nothing."""
        if not self.changed:
            return []
        a = self.attendance
        guard = Write(_GUARD, (*dispatch_row(a), a.id, self.version), "version")
        made = [
            Write(_NEW_OFFER, (*offer_row(o), self.made[o.id]), "one")
            for o in self.offers
            if o.id in self.made
        ]
        logs = [
            Write(_LOG, (e.attendance_id, e.at_ms, e.actor, e.action, e.detail), "id")
            for e in self.entries
        ]
        return [guard, *made, *self.pending, *logs]

    def committed(self, ids: list[int]) -> Snapshot:
        """Take the log ids the commit answered; the snapshot the commit left."""
        self.logged = list(zip(ids, self.entries, strict=True))
        version = self.version + 1 if self.changed else self.version
        self.after = Snapshot(self.attendance, self.offers, version)
        return self.after


def offer_row(o: Offer) -> tuple[Any, ...]:
    """The values of OFFER_COLUMNS."""
    return (
        o.id,
        o.attendance_id,
        o.provider_id,
        o.mode.value,
        o.state.value,
        o.created_ms,
        o.deadline_ms,
        o.decided_ms,
        o.eta_min,
        o.reason,
        o.radius_km,
        o.created_by,
        o.decided_by,
    )


class DispatchRecords(Protocol):
    async def snapshot(self, attendance_id: int) -> Snapshot | None:
        """The attendance with its offers as committed (None if unknown); no lock."""

    async def commit(self, ledger: Ledger) -> Snapshot:
        """Send a ledger's writes and commit, in one trip; ``Stale`` (nothing written) if
        the attendance moved past the ledger's version, ``Lost`` if a conditional write
        changed no row.  The snapshot the commit left."""

    def locked(
        self, attendance_id: int, *, skip_locked: bool = False
    ) -> AbstractAsyncContextManager[Ledger | None]:
        """A ledger on the attendance locked (PostgreSQL ``SELECT ... FOR UPDATE``;
        SQLite's single writer): no other decision can commit on it meanwhile.  None if
        unknown or (skip_locked) held by another transaction.  What the ledger changed
        commits when the block ends; its ``after`` is then the snapshot left."""

    async def next_offer_id(self) -> int: ...

    async def offer(self, offer_id: int) -> Offer | None: ...

    async def offer_by_link(self, offer_id: int, link_hash: str) -> Offer | None:
        """The link offer with this id, if the secret's hash is its own."""

    async def offers_of(self, attendance_id: int) -> list[Offer]: ...

    async def pending_of(self, provider_id: int) -> list[Offer]:
        """The provider's pending offers, oldest first (re-sent when its app reconnects)."""

    async def due(self, now_ms: int, *, limit: int = 100) -> list[int]:
        """Attendances whose dispatch is due (a deadline passed, a stagger is due)."""

    async def engaged(self) -> dict[int, int]:
        """provider id -> the attendance it is assigned to and not yet done with."""

    async def kpis(self, now_ms: int, provider_id: int | None = None) -> dict[int, Kpis]:
        """Providers' records over the last KPI_WINDOW_MS (one provider's, or everyone's
        who has one)."""

    async def offer_counts(self, attendance_ids: Sequence[int]) -> dict[int, int]:
        """How many offers each attendance had (the panels' attempts)."""

    async def notify(self, note: Notification) -> int:
        """Record a notification; its id."""

    async def notifications(self, *, after_id: int = 0, limit: int = 100) -> list[Notification]:
        """Recorded notifications with id > after_id, oldest first."""


class Fetch(Protocol):
    async def __call__(self, sql: str, *args: Any) -> list[Any]: ...


class DispatchQueries:
    """The read side of DispatchRecords over an engine's ``fetch`` (``?`` placeholders)."""

    def __init__(self, fetch: Fetch) -> None:
        self.fetch = fetch

    async def _offers(self, where: str, *args: Any) -> list[Offer]:
        rows = await self.fetch(f"SELECT {OFFER_COLUMNS} FROM offers WHERE {where}", *args)
        return [offer_from(row) for row in rows]

    async def offer(self, offer_id: int) -> Offer | None:
        found = await self._offers("id = ?", offer_id)
        return found[0] if found else None

    async def offer_by_link(self, offer_id: int, link_hash: str) -> Offer | None:
        found = await self._offers("id = ? AND link_hash = ?", offer_id, link_hash)
        return found[0] if found else None

    async def offers_of(self, attendance_id: int) -> list[Offer]:
        return await self._offers("attendance_id = ? ORDER BY id", attendance_id)

    async def pending_of(self, provider_id: int) -> list[Offer]:
        return await self._offers("provider_id = ? AND state = 'pending' ORDER BY id", provider_id)

    async def due(self, now_ms: int, *, limit: int = 100) -> list[int]:
        rows = await self.fetch(
            "SELECT id FROM attendances WHERE due_ms <= ? ORDER BY due_ms LIMIT ?", now_ms, limit
        )
        return [int(row[0]) for row in rows]

    async def engaged(self) -> dict[int, int]:
        rows = await self.fetch(
            "SELECT provider_id, id FROM attendances"
            " WHERE state IN ('assigned', 'en_route', 'on_site', 'in_service') ORDER BY id"
        )
        return {int(row[0]): int(row[1]) for row in rows}

    async def kpis(self, now_ms: int, provider_id: int | None = None) -> dict[int, Kpis]:
        since = now_ms - KPI_WINDOW_MS
        one, args = ("", ()) if provider_id is None else (" AND provider_id = ?", (provider_id,))
        offers = await self.fetch(
            "SELECT provider_id, COUNT(*),"
            " SUM(CASE WHEN state = 'accepted' THEN 1 ELSE 0 END) FROM offers"
            " WHERE created_ms >= ? AND mode <> 'verbal'"
            f" AND state IN ('accepted', 'refused', 'expired'){one} GROUP BY provider_id",
            since,
            *args,
        )
        arrivals = await self.fetch(
            "SELECT provider_id, COUNT(*),"
            " SUM(CASE WHEN arrived_ms <= promised_ms THEN 1 ELSE 0 END) FROM attendances"
            f" WHERE arrived_ms >= ? AND promised_ms IS NOT NULL{one} GROUP BY provider_id",
            since,
            *args,
        )
        counts: dict[int, list[int]] = {}
        for row in offers:
            counts.setdefault(int(row[0]), [0, 0, 0, 0])[0:2] = [int(row[1]), int(row[2])]
        for row in arrivals:
            counts.setdefault(int(row[0]), [0, 0, 0, 0])[2:4] = [int(row[1]), int(row[2])]
        return {
            pid: Kpis(decided=c[0], accepted=c[1], arrivals=c[2], on_time=c[3])
            for pid, c in counts.items()
        }

    async def offer_counts(self, attendance_ids: Sequence[int]) -> dict[int, int]:
        if not attendance_ids:
            return {}
        marks = ",".join("?" * len(attendance_ids))
        rows = await self.fetch(
            f"SELECT attendance_id, COUNT(*) FROM offers WHERE attendance_id IN ({marks})"
            " GROUP BY attendance_id",
            *attendance_ids,
        )
        return {int(r[0]): int(r[1]) for r in rows}

    async def notifications(self, *, after_id: int = 0, limit: int = 100) -> list[Notification]:
        rows = await self.fetch(
            "SELECT id, at_ms, channel, recipient, subject, body, offer_id, outcome"
            " FROM notifications WHERE id > ? ORDER BY id LIMIT ?",
            after_id,
            limit,
        )
        return [
            Notification(
                id=r[0],
                at_ms=r[1],
                channel=r[2],
                recipient=r[3],
                subject=r[4],
                body=r[5],
                offer_id=r[6],
                outcome=r[7],
            )
            for r in rows
        ]


NOTIFY_SQL = (
    "INSERT INTO notifications (at_ms, channel, recipient, subject, body, offer_id, outcome)"
    " VALUES (?, ?, ?, ?, ?, ?, ?)"
)


def notify_args(note: Notification) -> tuple[Any, ...]:
    return (
        note.at_ms,
        note.channel,
        note.recipient,
        note.subject,
        note.body,
        note.offer_id,
        note.outcome,
    )


@cache
def numbered(sql: str) -> str:
    """``?`` placeholders as PostgreSQL's ``$1, $2, ...``."""
    count = iter(range(1, 1000))
    return re.sub(r"\?", lambda _: f"${next(count)}", sql)
