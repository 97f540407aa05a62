"""The service catalogue: what a provider can be dispatched to do. Pure.

Codes are stable identifiers (they are stored and sent on the wire); names are the
operator console's labels in each language; ``needs_destination`` says whether the
attendance form asks for a destination; ``avg_speed_kmh`` feeds the straight-line ETA.
"""

from __future__ import annotations

import msgspec

from hub.errors import BadRequest


class ServiceType(msgspec.Struct, frozen=True, kw_only=True):
    code: str
    name_pt: str
    name_en: str
    needs_destination: bool
    avg_speed_kmh: float


CATALOGUE: dict[str, ServiceType] = {
    s.code: s
    for s in (
        ServiceType(
            code="light_tow",
            name_pt="Reboque leve",
            name_en="Light tow",
            needs_destination=True,
            avg_speed_kmh=40,
        ),
        ServiceType(
            code="heavy_tow",
            name_pt="Reboque pesado",
            name_en="Heavy tow",
            needs_destination=True,
            avg_speed_kmh=30,
        ),
        ServiceType(
            code="motorcycle_tow",
            name_pt="Reboque de moto",
            name_en="Motorcycle tow",
            needs_destination=True,
            avg_speed_kmh=40,
        ),
        ServiceType(
            code="taxi", name_pt="Táxi", name_en="Taxi", needs_destination=True, avg_speed_kmh=35
        ),
        ServiceType(
            code="locksmith",
            name_pt="Chaveiro",
            name_en="Locksmith",
            needs_destination=False,
            avg_speed_kmh=35,
        ),
        ServiceType(
            code="tyre_change",
            name_pt="Troca de pneu",
            name_en="Tyre change",
            needs_destination=False,
            avg_speed_kmh=40,
        ),
        ServiceType(
            code="battery_jump",
            name_pt="Carga de bateria",
            name_en="Battery jump",
            needs_destination=False,
            avg_speed_kmh=40,
        ),
        ServiceType(
            code="fuel_delivery",
            name_pt="Pane seca",
            name_en="Fuel delivery",
            needs_destination=False,
            avg_speed_kmh=40,
        ),
        ServiceType(
            code="mechanic",
            name_pt="Mecânico",
            name_en="Mechanic",
            needs_destination=False,
            avg_speed_kmh=40,
        ),
        ServiceType(
            code="glazier",
            name_pt="Vidraceiro",
            name_en="Glazier",
            needs_destination=False,
            avg_speed_kmh=35,
        ),
    )
}


def service(code: str) -> ServiceType:
    """The service type with this code; BadRequest naming the known codes otherwise."""
    found = CATALOGUE.get(code)
    if found is None:
        shown = code if len(code) <= 40 else code[:40] + "..."  # never echoed back whole
        raise BadRequest(
            f"unknown service {shown!r}; known: {', '.join(sorted(CATALOGUE))}",
            code="unknown_service",
        )
    return found
