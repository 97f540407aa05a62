"""The provider's pages in a real browser: the web portal and the link page."""

from __future__ import annotations

import asyncio

from tests.dispatch.scene import link_path
from tests.web.conftest import shot


async def provider_with_key(scene, name: str, **profile) -> tuple[int, str]:
    created = await scene.http.post(
        "/admin/providers",
        json={
            "name": name,
            "phone": "+5511988880000",
            "profile": {
                "services": ["light_tow"],
                "channels": ["web", "link"],
                "base": [-23.565, -46.65],
                **profile,
            },
        },
    )
    assert created.status_code == 201, created.text
    return created.json()["id"], created.json()["device_key"]


async def portal(browser, scene, key: str, geolocation=None):
    options = {"viewport": {"width": 480, "height": 900}}
    if geolocation:
        options |= {"geolocation": geolocation, "permissions": ["geolocation"]}
    context = await browser.new_context(**options)
    page = await context.new_page()
    await page.goto(f"{scene.running.http}/console/portal.html")
    await page.fill("#phone", "(11) 98888-0000")
    await page.fill("#key", key)
    await page.click("form.login button")
    await page.wait_for_selector("#link-status[data-up='true']")
    return page


async def test_the_portal_gets_an_offer_with_its_countdown_accepts_and_reports(
    browser, console_hub
):
    scene = console_hub
    pid, key = await provider_with_key(scene, "Guincho do Portal")
    page = await portal(browser, scene, key)
    await page.wait_for_selector("#no-offers")
    assert "null" not in await page.inner_text("main")  # no job yet, nothing in its place
    tow = await scene.tow()
    made = await scene.http.post(
        f"/attendances/{tow['id']}/offers", json={"provider_id": pid, "mode": "web"}
    )
    assert made.status_code == 201, made.text
    card = page.locator(f".offer[data-offer='{made.json()['id']}']")
    await card.wait_for()
    left = int(await card.locator("[role=timer]").get_attribute("data-left"))
    assert 0 < left <= 60
    assert "Bela Vista" in await card.inner_text()
    assert "Ana" not in await card.inner_text()  # who called comes with the assignment only
    assert "null" not in await page.inner_text("main")
    await shot(page, "portal-offer")
    await card.locator("input[type=number]").fill("18")
    await card.locator("text=Aceitar").click()
    job = page.locator(f".assignment[data-attendance='{tow['id']}']")
    await job.wait_for()
    assert "Ana" in await job.inner_text()
    steps = job.locator(".modes button")
    assert await steps.all_inner_texts() == ["A caminho", "Cheguei"]  # what the state allows
    await job.locator("text=A caminho").click()
    await page.wait_for_selector(".job-state:has-text('A caminho')")
    assert await steps.all_inner_texts() == ["Cheguei"]
    view = await scene.attendance(tow["id"])
    assert (view["attendance"]["state"], view["attendance"]["provider_id"]) == ("en_route", pid)
    await shot(page, "portal-job")


async def test_a_browser_shares_its_own_location_over_the_provider_protocol(browser, console_hub):
    scene = console_hub
    pid, key = await provider_with_key(scene, "Só Navegador")
    page = await portal(
        browser, scene, key, geolocation={"latitude": -23.5489, "longitude": -46.6388}
    )
    await page.check("#share-location")
    async with asyncio.timeout(10):
        while True:
            live = (await scene.http.get(f"/admin/providers/{pid}/live")).json()
            if live.get("position"):
                break
            await asyncio.sleep(0.2)
    assert abs(live["position"]["lat"] + 23.5489) < 1e-6
    here = scene.hub.matching.index.positions[pid]
    assert (round(here.lat, 4), here.live) == (-23.5489, True)  # what the map shows


async def test_link_pages_accept_refuse_and_expire(browser, console_hub):
    scene = console_hub
    one, _ = await provider_with_key(scene, "Link Um")
    two, _ = await provider_with_key(scene, "Link Dois")
    tow = await scene.tow()

    async def link_for(pid):
        made = await scene.http.post(
            f"/attendances/{tow['id']}/offers", json={"provider_id": pid, "mode": "link"}
        )
        assert made.status_code == 201, made.text
        notes = (await scene.http.get("/notifications")).json()["notifications"]
        body = next(n["body"] for n in notes if n["offer_id"] == made.json()["id"])
        return body.rsplit(" ", 1)[-1].replace(scene.hub.settings.public_url, scene.running.http)

    page = await browser.new_page()
    await page.goto(await link_for(one))
    await page.wait_for_selector(".offer")
    await page.select_option(".offer select", "too_far")
    await page.click("text=Recusar")
    await page.wait_for_selector("#closed:has-text('Você recusou')")
    second = await link_for(two)
    assert link_path(f"x {second}").startswith("/links/")
    await page.goto(second)
    await page.wait_for_selector(".offer")
    await shot(page, "link-offer")
    await page.fill("input[type=number]", "25")
    await page.click("text=Aceitar")
    await page.wait_for_selector(f".assignment[data-attendance='{tow['id']}']")
    await page.click("text=A caminho")
    async with asyncio.timeout(5):
        while (await scene.attendance(tow["id"]))["attendance"]["state"] != "en_route":
            await asyncio.sleep(0.1)
    # an expired link: the client's deadline made short, the offer left to lapse
    rules = {"name": "Seguradora", "rules": {"offer_deadline_s": 1}}
    assert (await scene.http.put(f"/clients/{scene.client_id}", json=rules)).status_code == 200
    lapsing = await scene.tow()
    made = await scene.http.post(
        f"/attendances/{lapsing['id']}/offers", json={"provider_id": one, "mode": "link"}
    )
    notes = (await scene.http.get("/notifications")).json()["notifications"]
    lapsed = next(n["body"] for n in notes if n["offer_id"] == made.json()["id"])
    await asyncio.sleep(1.5)
    await page.goto(
        lapsed.rsplit(" ", 1)[-1].replace(scene.hub.settings.public_url, scene.running.http)
    )
    await page.wait_for_selector("#closed:has-text('O prazo desta oferta acabou')")
    late = await scene.http.post(link_path(lapsed) + "/accept", json={"eta_min": 5})
    assert late.json()["error"]["code"] == "offer_expired"
