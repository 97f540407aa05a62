"""Coordinates out of a Google Maps URL, in every form operators paste. Pure.

Recognised, in this order of trust: the place's own ``!3d<lat>!4d<lng>`` data, the
``@lat,lng,zoom`` map centre, and the ``q=``, ``query=``, ``ll=``, ``destination=``
parameters when they hold coordinates.  Short links (maps.app.goo.gl, goo.gl/maps) must be
resolved by following their redirect first (an I/O step for the async shell).
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, unquote, urlparse

from hub.errors import BadRequest

_NUMBER = r"(-?\d{1,3}(?:\.\d+)?)"
_DATA = re.compile(rf"!3d{_NUMBER}!4d{_NUMBER}")
_AT = re.compile(rf"@{_NUMBER},{_NUMBER}")
_PAIR = re.compile(rf"^\s*{_NUMBER}\s*,\s*{_NUMBER}\s*$")
_PARAMETERS = ("q", "query", "ll", "destination", "daddr", "center")
SHORT_HOSTS = ("maps.app.goo.gl", "goo.gl")


def is_short_link(url: str) -> bool:
    host = urlparse(url.strip()).hostname or ""
    return host in SHORT_HOSTS


def coordinates(url: str) -> tuple[float, float]:
    """(lat, lng) from a Google Maps URL; BadRequest naming what was wrong otherwise."""
    text = unquote(url.strip())
    parsed = urlparse(text)
    host = parsed.hostname or ""
    if is_short_link(text):
        raise BadRequest("a short Maps link must be resolved (its redirect followed) first")
    is_google = "google." in host or host.startswith("maps.")
    if parsed.scheme not in ("http", "https") or not is_google:
        raise BadRequest(f"not a Google Maps URL: {url[:200]!r}")
    for pattern in (_DATA, _AT):
        found = pattern.search(text)
        if found:
            return _checked(found.group(1), found.group(2))
    parameters = parse_qs(parsed.query)
    for name in _PARAMETERS:
        for value in parameters.get(name, ()):
            pair = _PAIR.match(value)
            if pair:
                return _checked(pair.group(1), pair.group(2))
    raise BadRequest("the URL holds no coordinates (an address-only link needs the search)")


def _checked(lat_text: str, lng_text: str) -> tuple[float, float]:
    lat, lng = float(lat_text), float(lng_text)
    if not (-90 <= lat <= 90 and -180 <= lng <= 180):
        raise BadRequest(f"coordinates out of range: {lat}, {lng}")
    return lat, lng
