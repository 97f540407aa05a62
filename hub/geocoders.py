"""The geocoder and the CEP lookup over HTTP: the true outside boundary of address search.

``Nominatim`` speaks OpenStreetMap's search API (``HUB_GEOCODER_URL``; the public server
asks for an identifying User-Agent and at most one request a second: run your own for
volume); ``ViaCep`` speaks ViaCEP's (``HUB_CEP_URL``).  Failures become a clear 503
(``geocoder_unavailable``): the operator still has the three other address sources.
"""

from __future__ import annotations

from typing import Any

import httpx

from hub.errors import HubError
from hub.operations.beneficiaries import Address
from hub.operations.geocoding import Found, from_nominatim, from_viacep

USER_AGENT = "dispatch-hub/0.1 (roadside assistance call centre)"


class GeocoderUnavailable(HubError):
    code = "geocoder_unavailable"


class Nominatim:
    def __init__(self, url: str, timeout_s: float) -> None:
        self.client = httpx.AsyncClient(
            base_url=url.rstrip("/"), timeout=timeout_s, headers={"User-Agent": USER_AGENT}
        )

    async def search(self, address: Address, *, limit: int = 5) -> list[Found]:
        params: dict[str, Any] = {
            "format": "jsonv2",
            "addressdetails": 1,
            "countrycodes": "br",
            "limit": limit,
        }
        street = " ".join(p for p in (address.number, address.street) if p)
        for name, value in (
            ("street", street),
            ("city", address.city),
            ("state", address.state),
            ("postalcode", address.cep),
        ):
            if value:
                params[name] = value
        if address.district and not address.city:
            params["city"] = address.district
        return from_nominatim(await self._get("/search", params))

    async def _get(self, path: str, params: dict[str, Any]) -> Any:
        try:
            response = await self.client.get(path, params=params)
            response.raise_for_status()
            return response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise GeocoderUnavailable(f"the geocoder did not answer: {exc}") from None

    async def close(self) -> None:
        await self.client.aclose()


class ViaCep:
    def __init__(self, url: str, timeout_s: float) -> None:
        self.client = httpx.AsyncClient(
            base_url=url.rstrip("/"), timeout=timeout_s, headers={"User-Agent": USER_AGENT}
        )

    async def lookup(self, cep_digits: str) -> Address | None:
        try:
            response = await self.client.get(f"/{cep_digits}/json/")
            if response.status_code == 400:
                return None
            response.raise_for_status()
            return from_viacep(response.json())
        except (httpx.HTTPError, ValueError) as exc:
            raise GeocoderUnavailable(f"the CEP lookup did not answer: {exc}") from None

    async def close(self) -> None:
        await self.client.aclose()


async def final_url(url: str, timeout_s: float, *, hops: int = 5) -> str:
    """Where a short link leads: its redirects followed one by one until one names a full
    Google Maps URL (which is not fetched: only its address matters)."""
    async with httpx.AsyncClient(
        follow_redirects=False, timeout=timeout_s, headers={"User-Agent": USER_AGENT}
    ) as client:
        for _ in range(hops):
            try:
                response = await client.head(url)
                if response.status_code == 405:  # some shorteners answer only GET
                    response = await client.get(url)
            except httpx.HTTPError as exc:
                raise GeocoderUnavailable(f"the short link could not be followed: {exc}") from None
            location = response.headers.get("location")
            if not response.is_redirect or not location:
                return url
            url = str(response.url.join(location))
            host = httpx.URL(url).host
            if "google." in host and "/maps" in url:
                return url
    return url
