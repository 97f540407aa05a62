"""Road travel times for the top candidates, from a routing backend (OSRM's table service).

Matching ranks on straight-line ETAs (distance x road factor / speed), which costs nothing;
when ``HUB_ROUTING_URL`` names an OSRM server, the candidates of the page the operator sees
get road ETAs from one table request.  A backend that fails or is slow leaves the
straight-line figures in place: the operator always gets an answer.
"""

from __future__ import annotations

import logging
from typing import Protocol

import httpx

log = logging.getLogger(__name__)


class RoadRouter(Protocol):
    async def minutes(
        self, origin: tuple[float, float], points: list[tuple[float, float]]
    ) -> list[float | None]:
        """Driving minutes from each (lat, lng) point to ``origin``; None where unroutable.

        Raises RoutingUnavailable when the backend cannot answer.
        """

    async def close(self) -> None: ...


class RoutingUnavailable(Exception):
    pass


class OsrmRouter:
    """OSRM ``/table/v1/driving``: one request for all points (sources) to the origin."""

    def __init__(self, url: str, timeout_s: float) -> None:
        self.client = httpx.AsyncClient(base_url=url.rstrip("/"), timeout=timeout_s)

    async def minutes(
        self, origin: tuple[float, float], points: list[tuple[float, float]]
    ) -> list[float | None]:
        if not points:
            return []
        coordinates = ";".join(f"{lng:.6f},{lat:.6f}" for lat, lng in [*points, origin])
        sources = ";".join(str(i) for i in range(len(points)))
        try:
            response = await self.client.get(
                f"/table/v1/driving/{coordinates}",
                params={
                    "sources": sources,
                    "destinations": str(len(points)),
                    "annotations": "duration",
                },
            )
            body = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise RoutingUnavailable(f"routing backend failed: {exc}") from None
        if response.status_code != 200 or body.get("code") != "Ok":
            raise RoutingUnavailable(f"routing backend answered {body.get('code', response)}")
        try:
            return [None if row[0] is None else row[0] / 60 for row in body["durations"]]
        except (KeyError, IndexError, TypeError):
            raise RoutingUnavailable("routing backend answered without durations") from None

    async def close(self) -> None:
        await self.client.aclose()
