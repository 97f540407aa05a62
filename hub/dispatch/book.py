"""``OfferBook``: one dispatch decision's working copy of an attendance and its offers. Pure.

A decision reads a ``DispatchSnapshot`` (the attendance with its offers as committed, and
the version that commit left), changes an ``OfferBook`` made from it, and hands the
book's ``change()`` to the records, which commit it behind the version (hub/state/
dispatch.py writes it as SQL).  Nothing here waits on anything: new offers take their ids
from the list the shell reserved, and a book that runs out raises ``OutOfIds``, after
which the shell reserves one more and makes the decision again from the start (a pure
decision can be made twice).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import msgspec

from hub.dispatch.offers import Offer, OfferState
from hub.operations.attendances import Attendance
from hub.operations.providers import Channel


class DispatchSnapshot(msgspec.Struct, frozen=True):
    """An attendance with its offers as committed, and the version that commit left."""

    attendance: Attendance
    offers: list[Offer]
    version: int


class NewOffer(msgspec.Struct, frozen=True, kw_only=True):
    provider_id: int
    mode: Channel
    deadline_ms: int
    radius_km: float  # 0 when an operator picked the provider
    created_by: str
    link_hash: str | None = None


class LogEntry(msgspec.Struct, frozen=True, kw_only=True):
    """An attendance log entry as a decision wrote it (the status stream's payload)."""

    attendance_id: int
    action: str
    actor: str
    detail: str
    at_ms: int
    state: str
    provider_id: int | None
    facts: dict[str, Any] = msgspec.field(default_factory=dict)  # what it is about


class Change(msgspec.Struct, frozen=True, kw_only=True):
    """What a decision wrote, for the records to commit behind ``version``.

    ``made`` are the new offers (by id, with their link's hash), inserted as they stand in
    ``offers``; ``decided`` the stored offers it moved out of pending, each written on
    condition that it is still pending (and, for an accept, before its deadline)."""

    attendance: Attendance
    offers: list[Offer]
    version: int
    made: dict[int, str | None]
    decided: list[Offer]
    entries: list[LogEntry]

    def after(self) -> DispatchSnapshot:
        """The snapshot the commit leaves."""
        return DispatchSnapshot(self.attendance, self.offers, self.version + 1)


class OutOfIds(Exception):
    """The decision makes more offers than it was given ids for: reserve one more and make
    the decision again."""


class OfferBook:
    """One decision on an attendance: the snapshot it started from and what it changed."""

    def __init__(self, snapshot: DispatchSnapshot, ids: Sequence[int] = ()) -> None:
        self.attendance = snapshot.attendance
        self.offers = list(snapshot.offers)
        self.version = snapshot.version
        self._ids = iter(ids)
        self._made: dict[int, str | None] = {}  # new offer id -> its link's hash
        self._decided: list[int] = []  # stored offers moved out of pending, in order
        self._entries: list[LogEntry] = []
        self.changed = False

    def offer(self, offer_id: int) -> Offer | None:
        return next((o for o in self.offers if o.id == offer_id), None)

    def pending(self) -> list[Offer]:
        return [o for o in self.offers if o.state is OfferState.PENDING]

    def add_offer(self, new: NewOffer, now_ms: int) -> Offer:
        offer_id = next(self._ids, None)
        if offer_id is None:
            raise OutOfIds()
        offer = Offer(
            id=offer_id,
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
        self._made[offer.id] = new.link_hash
        self.changed = True
        return offer

    def decide(
        self,
        offer_id: int,
        to: OfferState,
        now_ms: int,
        *,
        actor: str,
        eta_min: int | None = None,
        reason: str = "",
    ) -> Offer | None:
        """Move a pending offer to ``to``; an accept only before its deadline.  None when
        the offer (as read) is no longer pending, or an accept comes at or past the
        deadline; the records check the same again when they commit."""
        current = self.offer(offer_id)
        assert current is not None, f"offer {offer_id} is not in the book"
        accept = to is OfferState.ACCEPTED
        if current.state is not OfferState.PENDING or (accept and now_ms >= current.deadline_ms):
            return None
        decided = msgspec.structs.replace(
            current, state=to, decided_ms=now_ms, eta_min=eta_min, reason=reason, decided_by=actor
        )
        self.offers = [decided if o.id == offer_id else o for o in self.offers]
        if offer_id not in self._made:  # a new offer is inserted as it stands at the commit
            self._decided.append(offer_id)
        self.changed = True
        return decided

    def save(self, after: Attendance) -> None:
        """The attendance's dispatch fields and state, as stored at the commit."""
        self.attendance = after
        self.changed = True

    def log(self, action: str, actor: str, detail: str, now_ms: int, **facts: Any) -> None:
        """Append to the attendance log (its id, the status stream's offset, comes with
        the commit): ``detail`` in English, ``facts`` for a client to word it its way."""
        a = self.attendance
        self._entries.append(
            LogEntry(
                attendance_id=a.id,
                action=action,
                actor=actor,
                detail=detail,
                at_ms=now_ms,
                state=a.state.value,
                provider_id=a.provider_id,
                facts=facts,
            )
        )
        self.changed = True

    def change(self) -> Change:
        by_id = {o.id: o for o in self.offers}
        return Change(
            attendance=self.attendance,
            offers=self.offers,
            version=self.version,
            made=dict(self._made),
            decided=[by_id[i] for i in self._decided],
            entries=list(self._entries),
        )
