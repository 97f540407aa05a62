"""The operator console's files (web/: static ES modules, Leaflet from npm) and its
settings."""

from __future__ import annotations

import os
from pathlib import Path

import msgspec
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles

from hub.api.openapi import Operation
from hub.api.responses import JSON
from hub.config import Settings
from hub.errors import RECONNECT, Close
from hub.services import services_of


class CloseCode(msgspec.Struct):
    code: int
    reconnect: bool  # whether a client should dial again after it


class ConsoleConfig(msgspec.Struct):
    tiles_url: str  # empty: the map shows markers on a blank background
    tiles_attribution: str
    client_first: bool  # a new event starts by choosing the client
    # The hub's close codes by name (auth_failed, token_revoked, ...): what the console
    # reconnects after, and signs out on, without numbers of its own.
    closes: dict[str, CloseCode]


CLOSES = {close.name.lower(): CloseCode(close.value, RECONNECT[close]) for close in Close}


async def config(request: Request) -> Response:
    settings: Settings = services_of(request).settings
    return JSON(
        ConsoleConfig(
            settings.map_tiles_url, settings.map_tiles_attribution, settings.client_first, CLOSES
        )
    )


async def home(request: Request) -> Response:
    return RedirectResponse("/console/")


def web_dir(settings: Settings) -> Path:
    return Path(settings.web_dir) if settings.web_dir else Path(__file__).parents[2] / "web"


class ConsoleFiles(StaticFiles):
    """The console's own pages, scripts and styles, and nothing else of its folder (not its
    package.json, lock file or node_modules)."""

    SERVED = frozenset({".html", ".js", ".css", ".png", ".svg", ".ico", ".woff2"})

    def lookup_path(self, path: str) -> tuple[str, os.stat_result | None]:
        asked = Path(path)
        hidden = asked.parts[:1] == ("node_modules",)
        if hidden or (asked.suffix and asked.suffix not in self.SERVED):  # a folder: its index
            return "", None  # as if it did not exist: 404
        return super().lookup_path(path)


def mounts(settings: Settings) -> list[BaseRoute]:
    """The console's files, and Leaflet's (its routes are ``operations``)."""
    folder = web_dir(settings)
    made: list[BaseRoute] = []
    if folder.is_dir():
        made.append(Mount("/console", ConsoleFiles(directory=folder, html=True)))
        for vendor in ("leaflet", "uplot"):  # the map, the reports' charts (web/package.json)
            dist = folder / "node_modules" / vendor / "dist"
            if dist.is_dir():
                made.append(Mount(f"/vendor/{vendor}", StaticFiles(directory=dist)))
    return made


operations = [
    Operation("GET", "/", "Redirects to the operator console", None, 307, endpoint=home),
    Operation(
        "GET",
        "/console/config.json",
        "What the console needs to know (map tiles, the close codes)",
        ConsoleConfig,
        endpoint=config,
    ),
]
