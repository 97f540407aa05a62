"""Admin REST API: the provider registry (the CLI's `hub provider ...` over HTTP).

Every route needs ``Authorization: Bearer <admin token>`` (from `hub admin token`).
"""

from __future__ import annotations

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from hub.api.auth import actor_of
from hub.api.openapi import PAGE_PARAMS, ErrorDetail, Operation, Param
from hub.api.responses import JSON, body_as, csv_body, int_param, page_params, path_id
from hub.clock import now_ms
from hub.ingest.tracks import TrackPoint
from hub.operations import accounts, registry
from hub.operations.csv_rows import RowError
from hub.operations.providers import DispatchProfile, NewProvider, Provider
from hub.operations.registry import ImportReport, IssuedToken
from hub.operations.users import AuditEntry, NewUser, Role, User
from hub.presence import LivePosition, PresenceView
from hub.services import services_of


class ProviderPatch(msgspec.Struct, forbid_unknown_fields=True):
    active: bool


class ProviderPage(msgspec.Struct):
    providers: list[Provider]


class LiveView(msgspec.Struct):
    presence: PresenceView
    position: LivePosition | None


class ImportRefusedBody(msgspec.Struct):
    """422: every problem of the file, by row and column; nothing was imported."""

    error: ErrorDetail
    rows: list[RowError]


class TrackPage(msgspec.Struct):
    """Points as arrays, in the order of ``columns`` (compact for long tracks)."""

    columns: list[str]
    points: list[TrackPoint]


TRACK_COLUMNS = list(TrackPoint.__struct_fields__)


async def providers(request: Request) -> Response:
    actor = actor_of(request)
    records = services_of(request).records
    if request.method == "POST":
        created = await registry.register(records, await body_as(request, NewProvider))
        await services_of(request).matching_feed.provider_changed(created)
        await accounts.audit(records, actor.subject, "provider.add", f"provider:{created.id}")
        return JSON(created, status_code=201)
    after, limit = page_params(request)
    return JSON(ProviderPage(await records.providers.page(after_id=after, limit=limit)))


async def import_providers(request: Request) -> Response:
    """Register every provider of a CSV file (the body), or none: 422 lists every error."""
    actor = actor_of(request)
    made = await registry.import_csv(services_of(request).records, await csv_body(request))
    for provider in made:
        await services_of(request).matching_feed.provider_changed(provider)
    await accounts.audit(
        services_of(request).records,
        actor.subject,
        "provider.import",
        f"providers:{len(made)}",
        ",".join(str(p.id) for p in made),
    )
    return JSON(registry.report(made), status_code=201)


async def export_providers(request: Request) -> Response:
    text = await registry.export_csv(services_of(request).records)
    return Response(
        text,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="providers.csv"'},
    )


async def one_provider(request: Request) -> Response:
    actor = actor_of(request)
    records = services_of(request).records
    if request.method == "PATCH":
        patch = await body_as(request, ProviderPatch)
        updated = await registry.set_active(records, path_id(request, "provider_id"), patch.active)
        await services_of(request).matching_feed.provider_changed(updated)
        await accounts.audit(
            records,
            actor.subject,
            "provider.active",
            f"provider:{updated.id}",
            str(patch.active).lower(),
        )
        if not updated.active:
            await services_of(request).session_router.end(updated.id, "provider_inactive")
            await services_of(request).dispatcher.withdraw_pending(updated.id, "provider_inactive")
        return JSON(updated)
    return JSON(await registry.provider(records, path_id(request, "provider_id")))


async def profile(request: Request) -> Response:
    """Replace the dispatch profile (services, prices, channels, hours, client relations)."""
    actor = actor_of(request)
    new = await body_as(request, DispatchProfile)
    updated = await registry.set_profile(
        services_of(request).records, path_id(request, "provider_id"), new
    )
    await services_of(request).matching_feed.provider_changed(updated)
    await accounts.audit(
        services_of(request).records, actor.subject, "provider.profile", f"provider:{updated.id}"
    )
    return JSON(updated)


async def token(request: Request) -> Response:
    actor = actor_of(request)
    hub = services_of(request)
    issued = await registry.issue_token(hub.records, hub.tokens, path_id(request, "provider_id"))
    await accounts.audit(
        hub.records, actor.subject, "provider.token", f"provider:{issued.provider_id}"
    )
    return JSON(issued, 201)


async def rotate_key(request: Request) -> Response:
    """A new device key for the provider, in the answer only."""
    actor = actor_of(request)
    hub = services_of(request)
    rotated = await registry.rotate_device_key(hub.records, path_id(request, "provider_id"))
    await accounts.audit(
        hub.records, actor.subject, "provider.device_key", f"provider:{rotated.id}"
    )
    return JSON(rotated)


async def revoke(request: Request) -> Response:
    """Revoke every credential (tokens and device key) and close the open session now."""
    actor = actor_of(request)
    revoked = await registry.revoke_tokens(
        services_of(request).records, path_id(request, "provider_id")
    )
    await services_of(request).session_router.end(revoked.id, "token_revoked")
    await accounts.audit(
        services_of(request).records, actor.subject, "provider.revoke", f"provider:{revoked.id}"
    )
    return JSON(revoked)


async def live(request: Request) -> Response:
    """Presence (connectivity, duty, owner node) and live position of one provider."""
    hub = services_of(request)
    found = await registry.provider(hub.records, path_id(request, "provider_id"))
    view = await hub.live.presence.view(found.id, now_ms())
    position = await hub.live.positions.get(found.id)
    return JSON(LiveView(view, position))


async def track(request: Request) -> Response:
    hub = services_of(request)
    found = await registry.provider(hub.records, path_id(request, "provider_id"))
    since = int_param(request, "since_ms", 0, 0, 2**53)
    limit = int_param(request, "limit", 1000, 1, 10_000)
    points = await hub.records.tracks.history(found.id, since_ms=since, limit=limit)
    return JSON(TrackPage(TRACK_COLUMNS, points))


class UserPage(msgspec.Struct):
    users: list[User]


class AuditPage(msgspec.Struct):
    entries: list[AuditEntry]


async def users(request: Request) -> Response:
    actor = actor_of(request)
    records = services_of(request).records
    if request.method == "POST":
        created = await accounts.add_user(records, await body_as(request, NewUser))
        await accounts.audit(
            records, actor.subject, "user.add", f"user:{created.id}", created.role.value
        )
        return JSON(created, status_code=201)
    after, limit = page_params(request)
    return JSON(UserPage(await records.users.page(after_id=after, limit=limit)))


async def one_user(request: Request) -> Response:
    """Change a user's role or active flag (PATCH), or remove the user (DELETE)."""
    actor = actor_of(request)
    records = services_of(request).records
    user_id = path_id(request, "user_id")
    if request.method == "DELETE":
        await accounts.delete_user(records, user_id)
        await accounts.audit(records, actor.subject, "user.delete", f"user:{user_id}")
        return Response(status_code=204)
    patch = await body_as(request, accounts.UserPatch)
    changed = await accounts.change_user(records, user_id, patch)
    detail = ",".join(
        f"{name}={value}"
        for name, value in (("role", patch.role), ("active", patch.active))
        if value is not None
    )
    await accounts.audit(records, actor.subject, "user.change", f"user:{user_id}", detail)
    return JSON(changed)


async def audit_log(request: Request) -> Response:
    limit = int_param(request, "limit", 100, 1, 1000)
    return JSON(AuditPage(await services_of(request).records.audit.recent(limit=limit)))


_ONE = "/admin/providers/{provider_id}"
operations = [
    Operation(
        "PATCH",
        "/admin/users/{user_id}",
        "Change a user's role or active flag (deactivating ends its sessions; audited)",
        User,
        body=accounts.UserPatch,
        errors=(400, 404),
        endpoint=one_user,
        role=Role.ADMIN,
    ),
    Operation(
        "DELETE",
        "/admin/users/{user_id}",
        "Remove a user (its audit entries stay; audited)",
        None,
        204,
        errors=(404,),
        endpoint=one_user,
        role=Role.ADMIN,
    ),
    Operation(
        "POST",
        "/admin/users",
        "Add a console user (operator, supervisor, admin)",
        User,
        201,
        NewUser,
        errors=(409,),
        endpoint=users,
        role=Role.ADMIN,
    ),
    Operation(
        "GET",
        "/admin/users",
        "List console users by id",
        UserPage,
        query=PAGE_PARAMS,
        endpoint=users,
        role=Role.ADMIN,
    ),
    Operation(
        "GET",
        "/admin/audit",
        "Who did what, newest first",
        AuditPage,
        query=(Param("limit", "at most this many", 1, 1000),),
        endpoint=audit_log,
        role=Role.ADMIN,
    ),
    Operation(
        "POST",
        "/admin/providers/import",
        "Register the providers of a CSV file (text/csv body), all or none",
        ImportReport,
        201,
        request_media_type="text/csv",
        refusals={422: ImportRefusedBody},
        endpoint=import_providers,
        role=Role.ADMIN,
    ),
    Operation(
        "GET",
        "/admin/providers/export",
        "All providers as CSV, in the import format",
        media_type="text/csv",
        endpoint=export_providers,
        role=Role.ADMIN,
    ),
    Operation(
        "POST",
        "/admin/providers",
        "Register a provider",
        Provider,
        201,
        NewProvider,
        endpoint=providers,
        role=Role.ADMIN,
    ),
    Operation(
        "GET",
        "/admin/providers",
        "List providers by id",
        ProviderPage,
        query=PAGE_PARAMS,
        endpoint=providers,
        role=Role.ADMIN,
    ),
    Operation(
        "GET", _ONE, "One provider", Provider, errors=(404,), endpoint=one_provider, role=Role.ADMIN
    ),
    Operation(
        "PATCH",
        _ONE,
        "Activate or deactivate (closes an open session)",
        Provider,
        body=ProviderPatch,
        errors=(404,),
        endpoint=one_provider,
        role=Role.ADMIN,
    ),
    Operation(
        "PUT",
        _ONE + "/profile",
        "Replace the dispatch profile",
        Provider,
        body=DispatchProfile,
        errors=(404,),
        endpoint=profile,
        role=Role.ADMIN,
    ),
    Operation(
        "POST",
        _ONE + "/token",
        "Issue an app token",
        IssuedToken,
        201,
        errors=(404,),
        endpoint=token,
        role=Role.ADMIN,
    ),
    Operation(
        "POST",
        _ONE + "/revoke",
        "Revoke every credential: every token and the device key (a new key is returned"
        " this once; closes an open session)",
        Provider,
        errors=(404,),
        endpoint=revoke,
        role=Role.ADMIN,
    ),
    Operation(
        "POST",
        _ONE + "/device-key",
        "A new device key (returned this once); the old one stops working, tokens stay",
        Provider,
        errors=(404,),
        endpoint=rotate_key,
        role=Role.ADMIN,
    ),
    Operation(
        "GET",
        _ONE + "/live",
        "Presence and live position",
        LiveView,
        errors=(404,),
        endpoint=live,
        role=Role.ADMIN,
    ),
    Operation(
        "GET",
        _ONE + "/track",
        "Stored GPS history, oldest first",
        TrackPage,
        errors=(404,),
        query=(
            Param("since_ms", "device time from (Unix ms)"),
            Param("limit", "at most this many points", 1, 10_000),
        ),
        endpoint=track,
        role=Role.ADMIN,
    ),
]
