"""Random JSON at every route of the OpenAPI document, with random path ids and with or
without a token: every answer is one the document names for that route, an error is
always the JSON error shape, and nothing is a 500 or a 503 (the stores are up)."""

from __future__ import annotations

import asyncio
import time
from typing import Any
from urllib.parse import quote

import httpx
import msgspec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hub.api.openapi import render
from hub.app import rest_operations
from tests.dispatch.scene import scene_on

DOCUMENT = msgspec.json.decode(render(rest_operations()))
ROUTES = sorted(
    (path, method.upper(), frozenset(int(status) for status in spec["responses"]))
    for path, methods in DOCUMENT["paths"].items()
    for method, spec in methods.items()
    if path != "/ingest/osmand"  # form or query bodies: its own tests throw those
)

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False)
    | st.text(max_size=12)
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=8,
)
path_values = (
    st.integers(min_value=-3, max_value=12).map(str)
    | st.sampled_from([str(2**63), "\u00b2", "\u0663", "1.5", "abc", "1." + "a" * 30])
    | st.text(alphabet=st.characters(blacklist_characters="/?#%"), min_size=1, max_size=6)
).filter(lambda segment: segment not in (".", ".."))  # the URL would name another path


def hostile_request(route: tuple[str, str, frozenset[int]], draw: Any) -> tuple[str, Any]:
    path, method, _ = route
    filled = path
    for name in [p.split("}")[0] for p in path.split("{")[1:]]:
        filled = filled.replace("{" + name + "}", quote(draw(path_values), safe=""))
    body = draw(json_values) if method in ("POST", "PUT", "PATCH") else None
    return filled, body


def run(base: str, token: str, cases: int) -> None:
    with httpx.Client(base_url=base, timeout=30) as http:

        @settings(
            max_examples=cases,
            deadline=None,
            derandomize=True,  # the same cases every run: CI stays repeatable
            suppress_health_check=list(HealthCheck),
        )
        @given(st.sampled_from(ROUTES), st.booleans(), st.data())
        def one(route: tuple[str, str, frozenset[int]], signed: bool, data: st.DataObject) -> None:
            path, body = hostile_request(route, data.draw)
            headers = {"Authorization": f"Bearer {token}"} if signed else {}
            answer = http.request(
                route[1],
                path,
                headers=headers,
                content=None if body is None else msgspec.json.encode(body),
            )
            where = f"{route[1]} {path} {body!r:.200} -> {answer.status_code} {answer.text[:300]}"
            assert answer.status_code < 500, where
            assert answer.status_code in route[2], "undocumented: " + where
            if answer.status_code >= 400:
                error = answer.json()["error"]
                assert isinstance(error["code"], str) and isinstance(error["message"], str), where

        one()


async def test_random_input_at_every_route_gets_a_documented_answer(engine_kind, tmp_path):
    async with scene_on(engine_kind, tmp_path) as scene:
        token = scene.hub.tokens.admin_token("fuzz", int(time.time()))
        await asyncio.to_thread(run, scene.running.http, token, 400)
