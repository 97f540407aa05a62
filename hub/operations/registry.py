"""Provider registry actions shared by the CLI and the admin REST API."""

from __future__ import annotations

import time

import msgspec

from hub.clock import now_ms
from hub.errors import HubError, NotFound
from hub.operations.csv_rows import RowError
from hub.operations.provider_csv import parse, render
from hub.operations.providers import (
    DispatchProfile,
    NewProvider,
    Provider,
    checked,
    checked_profile,
    new_device_key,
)
from hub.operations.records import OperationsRecords
from hub.tokens import TokenIssuer


class IssuedToken(msgspec.Struct, frozen=True):
    provider_id: int
    token: str
    expires_at_s: int


async def register(records: OperationsRecords, new: NewProvider) -> Provider:
    return await records.providers.add(checked(new), new_device_key(), now_ms())


async def register_many(records: OperationsRecords, news: list[NewProvider]) -> list[Provider]:
    """Register all or none (one transaction); each gets its own device key."""
    checked_news = [checked(new) for new in news]
    keys = [new_device_key() for _ in news]
    return await records.providers.add_many(checked_news, keys, now_ms())


def _found(found: Provider | None, provider_id: int) -> Provider:
    if found is None:
        raise NotFound(f"no provider {provider_id}")
    return found


class ImportReport(msgspec.Struct, frozen=True):
    imported: int
    ids: list[int]


class ImportRefused(HubError):
    code = "csv_rows_invalid"

    def __init__(self, rows: list[RowError]) -> None:
        super().__init__(f"{len(rows)} problem(s) in the file; nothing was imported", rows=rows)
        self.rows = rows


async def import_csv(records: OperationsRecords, text: str) -> list[Provider]:
    """Register every provider of a CSV file, or none (ImportRefused lists every error)."""
    news, errors = parse(text)
    if errors:
        raise ImportRefused(errors)
    return await register_many(records, news)


def report(made: list[Provider]) -> ImportReport:
    return ImportReport(len(made), [p.id for p in made])


async def export_csv(records: OperationsRecords) -> str:
    providers: list[Provider] = []
    while page := await records.providers.page(
        after_id=providers[-1].id if providers else 0, limit=1000
    ):
        providers.extend(page)
    return render(providers)


async def provider(records: OperationsRecords, provider_id: int) -> Provider:
    return _found(await records.providers.get(provider_id), provider_id)


async def issue_token(
    records: OperationsRecords, tokens: TokenIssuer, provider_id: int
) -> IssuedToken:
    found = await provider(records, provider_id)
    now = int(time.time())
    token = tokens.provider_token(found.id, found.token_version, now)
    return IssuedToken(found.id, token, now + tokens.provider_ttl_s)


async def revoke_tokens(records: OperationsRecords, provider_id: int) -> Provider:
    """Revoke every credential the provider holds: every token issued so far and the
    device key (a new one is made, returned this once), in one write.

    Reconnects, portal logins and OsmAnd fixes with the old ones are refused from now on;
    the admin API also closes the open session (the CLI's change closes it within a
    session recheck).
    """
    changed = await records.providers.set_device_key(
        provider_id, new_device_key(), revoke_tokens=True
    )
    return _found(changed, provider_id)


async def rotate_device_key(records: OperationsRecords, provider_id: int) -> Provider:
    """A new device key for the provider (the old one stops working), returned this once;
    the app's tokens stay valid."""
    changed = await records.providers.set_device_key(
        provider_id, new_device_key(), revoke_tokens=False
    )
    return _found(changed, provider_id)


async def set_active(records: OperationsRecords, provider_id: int, active: bool) -> Provider:
    return _found(await records.providers.set_active(provider_id, active), provider_id)


async def set_profile(
    records: OperationsRecords, provider_id: int, profile: DispatchProfile
) -> Provider:
    return _found(
        await records.providers.set_profile(provider_id, checked_profile(profile)), provider_id
    )
