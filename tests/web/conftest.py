"""Browser tests: Debian's Chromium driven by Python playwright, headless, offline."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.async_api import async_playwright

from hub.operations import accounts
from hub.operations.users import NewUser, Role
from tests.conftest import IN_CI, _missing, engine_settings, serve
from tests.dispatch.scene import Scene, admin_client

CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = Path(__file__).parents[2] / "artifacts" / "screenshots"
WEB = Path(__file__).parents[2] / "web"


def need_browser() -> None:
    missing = []
    if not os.access(CHROMIUM, os.X_OK):
        missing.append(f"{CHROMIUM} (apt install chromium)")
    if not (WEB / "node_modules" / "leaflet").is_dir():
        missing.append("web/node_modules/leaflet (npm ci --prefix web)")
    if missing:
        reason = "browser tests need " + " and ".join(missing)
        _missing["chromium"] = reason
        if IN_CI:
            pytest.fail(f"CI=true and {reason}")
        pytest.skip(f"SKIPPED FOR A MISSING TOOL: {reason}")


@pytest.fixture
async def browser():
    need_browser()
    async with async_playwright() as pw:
        launched = await pw.chromium.launch(executable_path=CHROMIUM, headless=True)
        yield launched
        await launched.close()


@pytest.fixture
async def console_hub(tmp_path):
    """A hub on the embedded engines with a client, an event and an operator."""
    async with (
        engine_settings("embedded", tmp_path, map_interval_s=0.3) as settings,
        serve(settings) as running,
        admin_client(running) as http,
    ):
        scene = Scene(running, http)
        await scene.setup()
        await accounts.add_user(
            running.hub.records,
            NewUser(login="ana", name="Ana Operadora", role=Role.OPERATOR, password="s3nha-forte"),
        )
        yield scene


async def page_for(browser, scene, lang: str | None = None, dashboard=None):
    """A page on the console, external requests blocked, signed in as the operator
    (``dashboard``: a Playwright handler its /ws/dashboard sockets go through)."""
    context = await browser.new_context(
        viewport={"width": 1400, "height": 900},
        locale=lang or "pt-BR",
        timezone_id="America/Sao_Paulo",  # an operator's browser, as the hub's days
    )
    if dashboard is not None:
        await context.route_web_socket("**/ws/dashboard", dashboard)

    async def offline(route):
        host = route.request.url.split("/")[2].split(":")[0]
        if host in ("127.0.0.1", "localhost"):
            await route.continue_()
        else:
            await route.abort()

    await context.route("**/*", offline)
    page = await context.new_page()
    await page.goto(f"{scene.running.http}/")
    if lang:
        await page.select_option("#lang", lang)
    await page.fill("#login", "ana")
    await page.fill("#password", "s3nha-forte")
    await page.click("form.login button")
    await page.wait_for_selector("#dispatch")
    return page


async def shot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def script_error(message) -> bool:
    """A console error the page's own scripts made (not a resource this offline machine
    cannot fetch, such as map tiles, nor a 404 a test asks for on purpose)."""
    return message.type == "error" and not message.text.startswith("Failed to load resource")
