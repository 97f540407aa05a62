"""Clients over REST: any console user reads them; admins create and change them."""

from __future__ import annotations

import msgspec
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from hub.api.auth import require
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


async def clients(request: Request) -> Response:
    hub = services_of(request)
    if request.method == "POST":
        actor = await require(request, Role.ADMIN)
        new = checked_client(await body_as(request, NewClient))
        created = await hub.records.clients.add(new, now_ms())
        await hub.matching_feed.client_changed(created)
        await accounts.audit(hub.records, actor.subject, "client.add", f"client:{created.id}")
        return JSON(created, status_code=201)
    await require(request, Role.OPERATOR)
    after, limit = page_params(request)
    return JSON(ClientPage(await hub.records.clients.page(after_id=after, limit=limit)))


async def one_client(request: Request) -> Response:
    hub = services_of(request)
    if request.method == "PUT":
        actor = await require(request, Role.ADMIN)
        new = checked_client(await body_as(request, NewClient))
        found = await hub.records.clients.replace(path_id(request, "client_id"), new)
        if found is None:
            raise NotFound(f"no client {path_id(request, 'client_id')}")
        await hub.matching_feed.client_changed(found)
        await accounts.audit(hub.records, actor.subject, "client.replace", f"client:{found.id}")
        return JSON(found)
    await require(request, Role.OPERATOR)
    found = await hub.records.clients.get(path_id(request, "client_id"))
    if found is None:
        raise NotFound(f"no client {path_id(request, 'client_id')}")
    return JSON(found)


class PartnerList(msgspec.Struct):
    partners: list[Partner]


async def partners(request: Request) -> Response:
    hub = services_of(request)
    client_id = path_id(request, "client_id")
    if request.method == "POST":
        actor = await require(request, Role.ADMIN)
        new = checked_partner(await body_as(request, NewPartner))
        if await hub.records.clients.get(client_id) is None:
            raise NotFound(f"no client {client_id}")
        created = await hub.records.clients.add_partner(client_id, new)
        await accounts.audit(hub.records, actor.subject, "partner.add", f"partner:{created.id}")
        return JSON(created, status_code=201)
    await require(request, Role.OPERATOR)
    return JSON(PartnerList(await hub.records.clients.partners(client_id)))


routes = [
    Route("/clients", clients, methods=["GET", "POST"]),
    Route("/clients/{client_id}", one_client, methods=["GET", "PUT"]),
    Route("/clients/{client_id}/partners", partners, methods=["GET", "POST"]),
]

operations = [
    Operation(
        "POST",
        "/clients",
        "Add a client with its script and dispatch rules (admin)",
        Client,
        201,
        NewClient,
        admin=True,
    ),
    Operation(
        "GET",
        "/clients",
        "List clients by id",
        ClientPage,
        admin=True,
        query=PAGE_PARAMS,
    ),
    Operation("GET", "/clients/{client_id}", "One client", Client, admin=True, errors=(404,)),
    Operation(
        "PUT",
        "/clients/{client_id}",
        "Replace a client (admin)",
        Client,
        body=NewClient,
        admin=True,
        errors=(404,),
    ),
    Operation(
        "POST",
        "/clients/{client_id}/partners",
        "Add a partner establishment of the client (admin)",
        Partner,
        201,
        NewPartner,
        admin=True,
        errors=(404,),
    ),
    Operation(
        "GET",
        "/clients/{client_id}/partners",
        "The client's partner establishments, by name",
        PartnerList,
        admin=True,
    ),
]
