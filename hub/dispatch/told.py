"""What a committed decision still has to tell, as data, and the one place that tells it.

A status-stream entry, a frame for a provider's session, a note for matching: each is a
value here, so a step that waits through an outage can be written to the records'
after-commit journal and told later by whichever node is alive (hub/dispatch/
after_commit.py).  Each names its lane, the steps whose order matters: the status stream,
each provider's frames, each provider's matching notes.
"""

from __future__ import annotations

from typing import ClassVar, Protocol

import msgspec

from hub import wire
from hub.operations.attendances import Attendance

STATUS_STREAM = "status"  # live-state stream: each decision's attendance-log entries


class ProviderPush(Protocol):
    async def push(self, provider_id: int, frame: wire.HubFrame, *, now: bool = False) -> bool:
        """Send a frame on the provider's session wherever it is; False when it has none.
        ``now``: written at once, not at the end of the loop iteration."""
        ...


class StatusStream(Protocol):
    async def append(self, name: str, payload: bytes) -> str:
        """Add an entry to the named stream; its offset."""
        ...


class MatchingNotes(Protocol):
    """Where matching learns who is engaged and the providers' new figures (on every
    node)."""

    async def engaged(self, provider_id: int, attendance: Attendance | None) -> None: ...

    async def kpis_changed(self, provider_id: int) -> None: ...


class StreamAppend(msgspec.Struct, frozen=True, tag="stream"):
    """One decision's log entries, as one status-stream entry."""

    what: ClassVar[str] = "status-stream"
    payload: msgspec.Raw

    @property
    def lane(self) -> str:
        return STATUS_STREAM


class PushFrame(msgspec.Struct, frozen=True, tag="push"):
    """A frame for the provider's session, wherever it is."""

    what: ClassVar[str] = "push"
    provider_id: int
    frame: wire.HubFrame
    now: bool = False

    @property
    def lane(self) -> str:
        return f"push:{self.provider_id}"


class EngagedNote(msgspec.Struct, frozen=True, tag="engaged"):
    """The provider took this job, or (None) is free again."""

    what: ClassVar[str] = "engaged"
    provider_id: int
    attendance: Attendance | None

    @property
    def lane(self) -> str:
        return f"notes:{self.provider_id}"


class KpisNote(msgspec.Struct, frozen=True, tag="kpis"):
    """The provider's acceptance, on-time and rating figures changed."""

    what: ClassVar[str] = "kpis"
    provider_id: int

    @property
    def lane(self) -> str:
        return f"notes:{self.provider_id}"


Told = StreamAppend | PushFrame | EngagedNote | KpisNote

_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(Told)


def encode(told: Told) -> bytes:
    return _encoder.encode(told)


def decode(body: bytes) -> Told:
    return _decoder.decode(body)


class Teller:
    """Tells one step through the live state; what it answers is the step's (a push:
    False when the provider has no session now)."""

    def __init__(self, sessions: ProviderPush, stream: StatusStream, notes: MatchingNotes) -> None:
        self.sessions = sessions
        self.stream = stream
        self.notes = notes

    async def __call__(self, told: Told) -> object:
        match told:
            case StreamAppend(payload=payload):
                return await self.stream.append(STATUS_STREAM, bytes(payload))
            case PushFrame(provider_id=pid, frame=frame, now=now):
                return await self.sessions.push(pid, frame, now=now)
            case EngagedNote(provider_id=pid, attendance=attendance):
                await self.notes.engaged(pid, attendance)
            case KpisNote(provider_id=pid):
                await self.notes.kpis_changed(pid)
        return None
