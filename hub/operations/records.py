"""What the operations need of the records engine: one Protocol per role, implemented by
SQLite and PostgreSQL (hub/state/), both passing tests/state/test_records_contract.py."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from hub.operations.attendances import (
    Attendance,
    AttendanceLogEntry,
    AttendanceState,
    NewAttendance,
    Place,
)
from hub.operations.beneficiaries import Beneficiary, NewBeneficiary, NewPlan, Plan, SearchKind
from hub.operations.clients import Client, NewClient, NewPartner, Partner
from hub.operations.events import Event, EventLogEntry, NewEvent
from hub.operations.providers import DispatchProfile, NewProvider, Provider
from hub.operations.reports import (
    ClientFacts,
    Facts,
    OfferRow,
    ProviderFacts,
    ReportQuery,
)
from hub.operations.track_pages import Confirmed, Rating, TrackLink
from hub.operations.users import AuditEntry, NewUser, Role, User


class ProviderRecords(Protocol):
    async def add(self, new: NewProvider, device_key: str, now_ms: int) -> Provider:
        """Insert a checked provider with token version 1; ids increase."""

    async def add_many(
        self, news: Sequence[NewProvider], device_keys: Sequence[str], now_ms: int
    ) -> list[Provider]:
        """Insert checked providers in one transaction (all or none), in order."""

    async def get(self, provider_id: int) -> Provider | None:
        """The provider, or None."""

    async def by_device_key(self, device_key: str) -> Provider | None:
        """The provider owning this device key, or None (compared by hash). Keys are
        unique."""

    async def page(self, *, after_id: int = 0, limit: int = 100) -> list[Provider]:
        """Providers with id > after_id in id order, at most ``limit``."""

    async def bump_token_version(self, provider_id: int) -> Provider | None:
        """Atomically increment the token version, revoking every earlier token."""

    async def set_device_key(
        self, provider_id: int, device_key: str, *, revoke_tokens: bool
    ) -> Provider | None:
        """Replace the device key (its hash is kept), and with ``revoke_tokens`` revoke every
        token in the same write; the provider with the new key in clear, or None."""

    async def set_active(self, provider_id: int, active: bool) -> Provider | None:
        """Activate or deactivate; returns the updated provider or None if unknown."""

    async def set_profile(self, provider_id: int, profile: DispatchProfile) -> Provider | None:
        """Replace the dispatch profile whole; the updated provider or None if unknown."""

    async def standing(self, provider_ids: Sequence[int]) -> dict[int, tuple[int, bool]]:
        """Each known provider's token version and active flag (what its open sessions
        rest on)."""


class UserRecords(Protocol):
    async def add(self, new: NewUser, password_hash: str, now_ms: int) -> User:
        """Insert a checked user; Conflict if the login is taken."""

    async def get(self, user_id: int) -> User | None:
        """The user, or None."""

    async def credentials(self, login: str) -> tuple[User, str] | None:
        """The user with this login and its password hash, or None."""

    async def page(self, *, after_id: int = 0, limit: int = 100) -> list[User]:
        """Users with id > after_id in id order."""

    async def change(
        self, user_id: int, *, role: Role | None = None, active: bool | None = None
    ) -> User | None:
        """Set the role and/or the active flag; the user now, or None if unknown."""

    async def end_sessions(self, user_id: int) -> User | None:
        """Bump the token version: every session token issued so far stops working."""

    async def delete(self, user_id: int) -> bool:
        """Remove the user (its audit entries stay); False if unknown."""


class ClientRecords(Protocol):
    async def add(self, new: NewClient, now_ms: int) -> Client:
        """Insert a checked client."""

    async def get(self, client_id: int) -> Client | None:
        """The client, or None."""

    async def replace(self, client_id: int, new: NewClient) -> Client | None:
        """Replace name, script, rules and active flag; None if unknown."""

    async def page(self, *, after_id: int = 0, limit: int = 100) -> list[Client]:
        """Clients with id > after_id in id order."""

    async def add_partner(self, client_id: int, new: NewPartner) -> Partner:
        """Insert a checked partner establishment; Conflict if the client does not exist."""

    async def partners(self, client_id: int) -> list[Partner]:
        """The client's partner establishments, by name."""


class PlanRecords(Protocol):
    async def add(self, new: NewPlan) -> Plan:
        """Insert a checked plan; Conflict if the client does not exist."""

    async def get(self, plan_id: int) -> Plan | None:
        """The plan, or None."""

    async def of_client(self, client_id: int) -> list[Plan]:
        """The client's plans, by id."""


class BeneficiaryRecords(Protocol):
    async def add(self, new: NewBeneficiary) -> Beneficiary:
        """Insert a checked beneficiary with its vehicles in one transaction.

        Conflict if the CPF is already the client's, or the client or plan is unknown.
        """

    async def add_many(self, news: Sequence[NewBeneficiary]) -> list[Beneficiary]:
        """Insert checked beneficiaries with their vehicles in one transaction (all or
        none), in order; Conflict as ``add``."""

    async def get(self, beneficiary_id: int) -> Beneficiary | None:
        """The beneficiary with its vehicles, or None."""

    async def search(
        self, kind: SearchKind, term: str, *, client_id: int | None = None, limit: int = 20
    ) -> list[Beneficiary]:
        """By CPF (11 digits), plate (either format) or a piece of the folded name: names
        that start with it first (by name), then names that contain it."""


class EventRecords(Protocol):
    async def open(self, new: NewEvent, client_id: int, actor: str, now_ms: int) -> Event:
        """Insert an open event and its first log entry in one transaction.

        Conflict if the beneficiary or the vehicle does not exist.
        """

    async def get(self, event_id: int) -> Event | None:
        """The event, or None."""

    async def of_beneficiary(self, beneficiary_id: int, *, limit: int = 20) -> list[Event]:
        """The beneficiary's events, newest first."""

    async def change(
        self, before: Event, after: Event, action: str, actor: str, reason: str, now_ms: int
    ) -> Event | None:
        """Store ``after`` only if the stored event still equals ``before`` in state and
        intake; log the action in the same transaction.  None if another change won."""

    async def log(self, event_id: int) -> list[EventLogEntry]:
        """The event's log, oldest first."""


class AttendanceRecords(Protocol):
    async def add(
        self, event: Event, new: NewAttendance, state: AttendanceState, actor: str, now_ms: int
    ) -> Attendance:
        """Insert a checked attendance and its first log entry in one transaction."""

    async def get(self, attendance_id: int) -> Attendance | None:
        """The attendance, or None."""

    async def of_event(self, event_id: int) -> list[Attendance]:
        """The event's attendances, in creation order."""

    async def covered_uses(self, beneficiary_id: int, service: str) -> list[int]:
        """When the beneficiary had this service inside the plan (avulso and cancelled ones
        excluded: a cancelled attendance gives its use back)."""

    async def in_states(self, states: Sequence[str], *, limit: int = 1000) -> list[Attendance]:
        """Attendances in any of ``states`` (a live panel), oldest first."""

    async def of_beneficiary(self, beneficiary_id: int, *, limit: int = 50) -> list[Attendance]:
        """The beneficiary's attendances, newest first (the form's history)."""

    async def log(self, attendance_id: int) -> list[AttendanceLogEntry]:
        """The attendance's log, oldest first."""


class AuditRecords(Protocol):
    async def append(self, entry: AuditEntry) -> None:
        """Append one entry; durable on return; entries are never changed."""

    async def recent(self, *, limit: int = 100) -> list[AuditEntry]:
        """The latest entries, newest first."""


class TrackPageRecords(Protocol):
    """The beneficiary's live pages (hub/operations/track_pages.py)."""

    async def get(self, attendance_id: int) -> TrackLink | None: ...

    async def put(self, attendance_id: int, secret_hash: str, now_ms: int) -> None:
        """A new secret for the page; the old link stops working."""

    async def revoke(self, attendance_id: int, now_ms: int) -> bool: ...

    async def confirm(self, attendance_id: int, at: Confirmed) -> None: ...

    async def rate(self, attendance_id: int, rating: Rating, now_ms: int) -> bool:
        """Store the rating unless one is there; whether it was stored."""

    async def accept(
        self, attendance_id: int, origin: Place, actor: str, facts: dict[str, Any], now_ms: int
    ) -> bool:
        """The confirmed position as the origin, logged, while no provider has it."""


class ReportRecords(Protocol):
    """The reports' aggregates of a period (hub/operations/reports.py)."""

    async def facts(self, q: ReportQuery) -> Facts: ...

    async def offers(self, q: ReportQuery) -> list[OfferRow]: ...

    async def providers(self, q: ReportQuery) -> list[ProviderFacts]: ...

    async def clients(self, q: ReportQuery) -> list[ClientFacts]: ...


class OperationsRecords(Protocol):
    """The roles the operations' rules and actions use (hub/state/records.py's ``Records``
    adds dispatch, tracks, idempotency and the engine's lifecycle)."""

    @property
    def providers(self) -> ProviderRecords: ...

    @property
    def users(self) -> UserRecords: ...

    @property
    def audit(self) -> AuditRecords: ...

    @property
    def clients(self) -> ClientRecords: ...

    @property
    def plans(self) -> PlanRecords: ...

    @property
    def beneficiaries(self) -> BeneficiaryRecords: ...

    @property
    def track_pages(self) -> TrackPageRecords: ...

    @property
    def reports(self) -> ReportRecords: ...

    @property
    def events(self) -> EventRecords: ...

    @property
    def attendances(self) -> AttendanceRecords: ...
