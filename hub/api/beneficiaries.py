"""Plans and beneficiaries over REST, and the search box of a new event."""

from __future__ import annotations

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from hub.api.auth import actor_of
from hub.api.openapi import Operation, Param
from hub.api.responses import JSON, body_as, csv_body, int_param, path_id
from hub.errors import BadRequest, NotFound
from hub.operations import accounts, beneficiary_csv
from hub.operations.beneficiaries import (
    Beneficiary,
    NewBeneficiary,
    NewPlan,
    Plan,
    checked_beneficiary,
    checked_plan,
    search_kind,
)
from hub.operations.users import Role
from hub.services import services_of


class PlanList(msgspec.Struct):
    plans: list[Plan]


class Covered(msgspec.Struct):
    """A beneficiary with the plan that covers them."""

    beneficiary: Beneficiary
    plan: Plan | None


class SearchResult(msgspec.Struct):
    kind: str  # how the term was read: cpf, plate or name
    results: list[Covered]


async def plans(request: Request) -> Response:
    actor = actor_of(request)
    hub = services_of(request)
    created = await hub.records.plans.add(checked_plan(await body_as(request, NewPlan)))
    await accounts.audit(hub.records, actor.subject, "plan.add", f"plan:{created.id}")
    return JSON(created, status_code=201)


async def plans_of_client(request: Request) -> Response:
    client_id = path_id(request, "client_id")
    return JSON(PlanList(await services_of(request).records.plans.of_client(client_id)))


async def covered(request: Request, beneficiary: Beneficiary) -> Covered:
    return Covered(beneficiary, await services_of(request).records.plans.get(beneficiary.plan_id))


async def beneficiaries(request: Request) -> Response:
    actor = actor_of(request)
    hub = services_of(request)
    new = checked_beneficiary(await body_as(request, NewBeneficiary))
    plan = await hub.records.plans.get(new.plan_id)
    if plan is None or plan.client_id != new.client_id:
        raise BadRequest(f"plan {new.plan_id} is not a plan of client {new.client_id}")
    created = await hub.records.beneficiaries.add(new)
    await accounts.audit(hub.records, actor.subject, "beneficiary.add", f"beneficiary:{created.id}")
    return JSON(await covered(request, created), status_code=201)


async def one_beneficiary(request: Request) -> Response:
    found = await services_of(request).records.beneficiaries.get(path_id(request, "beneficiary_id"))
    if found is None:
        raise NotFound("no such beneficiary")
    return JSON(await covered(request, found))


async def search(request: Request) -> Response:
    """Name (any piece, accents and case ignored), plate (either format) or CPF."""
    kind, term = search_kind(request.query_params.get("q", ""))
    raw_client = request.query_params.get("client_id")
    client_id = int_param(request, "client_id", 0, 1, 2**63 - 1) if raw_client else None
    limit = int_param(request, "limit", 20, 1, 100)
    found = await services_of(request).records.beneficiaries.search(
        kind, term, client_id=client_id, limit=limit
    )
    return JSON(SearchResult(kind.value, [await covered(request, b) for b in found]))


class BaseFileReport(msgspec.Struct):
    imported: int
    ids: list[int]


async def import_base_file(request: Request) -> Response:
    """A client's base file (CSV body): every beneficiary with vehicles, or none (422)."""
    actor = actor_of(request)
    hub = services_of(request)
    client_id = path_id(request, "client_id")
    if await hub.records.clients.get(client_id) is None:
        raise NotFound(f"no client {client_id}")
    made = await beneficiary_csv.import_base_file(hub.records, client_id, await csv_body(request))
    await accounts.audit(
        hub.records, actor.subject, "beneficiary.import", f"client:{client_id}", f"{len(made)}"
    )
    return JSON(BaseFileReport(len(made), [b.id for b in made]), status_code=201)


operations = [
    Operation(
        "POST",
        "/clients/{client_id}/beneficiaries/import",
        "A client's base file (CSV body, see hub/operations/beneficiary_csv.py): all or none",
        BaseFileReport,
        201,
        errors=(400, 404, 422),
        endpoint=import_base_file,
        role=Role.SUPERVISOR,
    ),
    Operation(
        "POST",
        "/plans",
        "Add a client's plan with its coverage (admin)",
        Plan,
        201,
        NewPlan,
        errors=(409,),
        endpoint=plans,
        role=Role.ADMIN,
    ),
    Operation(
        "GET",
        "/clients/{client_id}/plans",
        "A client's plans",
        PlanList,
        endpoint=plans_of_client,
        role=Role.OPERATOR,
    ),
    Operation(
        "POST",
        "/beneficiaries",
        "Add a beneficiary with vehicles (supervisor)",
        Covered,
        201,
        NewBeneficiary,
        errors=(409,),
        endpoint=beneficiaries,
        role=Role.SUPERVISOR,
    ),
    Operation(
        "GET",
        "/beneficiaries/search",
        "Search by name (any piece), plate (either format) or CPF",
        SearchResult,
        query=(
            Param("q", "the search box (at least 3 characters)", kind="string"),
            Param("client_id", "only this client's beneficiaries", 1),
            Param("limit", "at most this many", 1, 100),
        ),
        endpoint=search,
        role=Role.OPERATOR,
    ),
    Operation(
        "GET",
        "/beneficiaries/{beneficiary_id}",
        "One beneficiary with the plan",
        Covered,
        errors=(404,),
        endpoint=one_beneficiary,
        role=Role.OPERATOR,
    ),
]
