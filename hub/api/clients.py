"""Clients over REST: any console user reads them; admins create and change them."""

from __future__ import annotations

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from hub.api.auth import actor_of
from hub.api.openapi import PAGE_PARAMS, Operation
from hub.api.responses import JSON, body_as, page_params, path_id
from hub.clock import now_ms
from hub.errors import NotFound
from hub.operations import accounts
from hub.operations.clients import (
    Client,
    NewClient,
    NewPartner,
    Partner,
    checked_client,
    checked_partner,
)
from hub.operations.users import Role
from hub.services import services_of


class ClientPage(msgspec.Struct):
    clients: list[Client]


async def add_client(request: Request) -> Response:
    hub, actor = services_of(request), actor_of(request)
    new = checked_client(await body_as(request, NewClient))
    created = await hub.records.clients.add(new, now_ms())
    await hub.matching_feed.client_changed(created)
    await accounts.audit(hub.records, actor.subject, "client.add", f"client:{created.id}")
    return JSON(created, status_code=201)


async def clients(request: Request) -> Response:
    after, limit = page_params(request)
    records = services_of(request).records
    return JSON(ClientPage(await records.clients.page(after_id=after, limit=limit)))


async def replace_client(request: Request) -> Response:
    hub, actor = services_of(request), actor_of(request)
    new = checked_client(await body_as(request, NewClient))
    found = await hub.records.clients.replace(path_id(request, "client_id"), new)
    if found is None:
        raise NotFound(f"no client {path_id(request, 'client_id')}")
    await hub.matching_feed.client_changed(found)
    await accounts.audit(hub.records, actor.subject, "client.replace", f"client:{found.id}")
    return JSON(found)


async def one_client(request: Request) -> Response:
    found = await services_of(request).records.clients.get(path_id(request, "client_id"))
    if found is None:
        raise NotFound(f"no client {path_id(request, 'client_id')}")
    return JSON(found)


class PartnerList(msgspec.Struct):
    partners: list[Partner]


async def add_partner(request: Request) -> Response:
    hub, actor = services_of(request), actor_of(request)
    client_id = path_id(request, "client_id")
    new = checked_partner(await body_as(request, NewPartner))
    if await hub.records.clients.get(client_id) is None:
        raise NotFound(f"no client {client_id}")
    created = await hub.records.clients.add_partner(client_id, new)
    await accounts.audit(hub.records, actor.subject, "partner.add", f"partner:{created.id}")
    return JSON(created, status_code=201)


async def partners(request: Request) -> Response:
    client_id = path_id(request, "client_id")
    return JSON(PartnerList(await services_of(request).records.clients.partners(client_id)))


operations = [
    Operation(
        "POST",
        "/clients",
        "Add a client with its script and dispatch rules (admin)",
        Client,
        201,
        NewClient,
        endpoint=add_client,
        role=Role.ADMIN,
    ),
    Operation(
        "GET",
        "/clients",
        "List clients by id",
        ClientPage,
        query=PAGE_PARAMS,
        endpoint=clients,
        role=Role.OPERATOR,
    ),
    Operation(
        "GET",
        "/clients/{client_id}",
        "One client",
        Client,
        errors=(404,),
        endpoint=one_client,
        role=Role.OPERATOR,
    ),
    Operation(
        "PUT",
        "/clients/{client_id}",
        "Replace a client (admin)",
        Client,
        body=NewClient,
        errors=(404,),
        endpoint=replace_client,
        role=Role.ADMIN,
    ),
    Operation(
        "POST",
        "/clients/{client_id}/partners",
        "Add a partner establishment of the client (admin)",
        Partner,
        201,
        NewPartner,
        errors=(404,),
        endpoint=add_partner,
        role=Role.ADMIN,
    ),
    Operation(
        "GET",
        "/clients/{client_id}/partners",
        "The client's partner establishments, by name",
        PartnerList,
        endpoint=partners,
        role=Role.OPERATOR,
    ),
]
