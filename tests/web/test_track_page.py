"""The beneficiary's live page in a phone-sized browser, through a whole attendance:
position confirmed and taken by the operator, the provider's marker moving as the app
streams GPS, the steps, the rating, and the link dead once revoked."""

from __future__ import annotations

import asyncio

from hub.clock import now_ms
from hub.operations import track_pages
from tests.api.test_track_pages import page_token
from tests.web.conftest import page_for, script_error, shot
from tests.web.test_walkthrough import scan

PHONE = {"width": 390, "height": 844}


async def test_the_live_page_through_a_whole_attendance(browser, console_hub, monkeypatch):
    scene = console_hub
    pid = await scene.provider("Carlos Guincheiro", base=[-23.58, -46.67])
    tow = await scene.tow()
    token = await page_token(scene, tow["id"])
    phone = await browser.new_context(
        viewport=PHONE,
        locale="pt-BR",
        geolocation={"latitude": -23.5625, "longitude": -46.6545},
        permissions=["geolocation"],
    )
    page = await phone.new_page()
    failures: list[str] = []
    page.on("pageerror", lambda error: failures.append(str(error)))
    page.on("console", lambda m: script_error(m) and failures.append(m.text))
    url = f"{scene.running.http}/console/track.html#{token}"
    await page.goto(url)
    await page.wait_for_selector("#request h1:has-text('Reboque leve')")
    await scan(page, "track page")
    await page.click("#share")
    await page.wait_for_selector("#confirmed")
    await shot(page, "track-confirm")
    # the operator sees it, with the distance, and takes it as the origin
    console = await page_for(browser, scene)
    await console.goto(console.url.split("#")[0] + f"#/attendance/{tow['id']}")
    await console.wait_for_selector("#track-confirmed:has-text('Posição confirmada')")
    await console.click("#track-accept")
    await console.wait_for_selector("#track-confirmed:has-text('A origem passou')")
    origin = (await scene.attendance(tow["id"]))["attendance"]["origin"]
    assert (origin["lat"], origin["lng"]) == (-23.5625, -46.6545)
    async with scene.app(pid, lat=-23.58, lng=-46.67) as app:
        await scene.http.post(
            f"/attendances/{tow['id']}/offers", json={"provider_id": pid, "mode": "app"}
        )
        offer = await app.until(lambda f: f["type"] == "offer")
        await app.send({"type": "accept", "offer_id": offer["offer_id"], "eta_min": 15})
        await app.until(lambda f: f["type"] == "assignment")
        await app.send({"type": "step", "attendance_id": tow["id"], "step": "depart"})
        await app.until(lambda f: f["type"] == "status")
        helper = page.locator("#helper-marker")
        await helper.wait_for()  # the stream brought the provider and the map shows him
        assert "Carlos" in await page.inner_text("#helper")
        assert "Guincheiro" not in await page.inner_text("body")
        first = await helper.get_attribute("data-lat")
        await app.send(
            {
                "type": "fixes",
                "fixes": [{"seq": 2, "t": now_ms(), "lat": -23.5798, "lng": -46.67, "acc": 5.0}],
            }
        )
        async with asyncio.timeout(15):  # the marker moves toward them
            while await page.locator("#helper-marker").get_attribute("data-lat") == first:
                await asyncio.sleep(0.3)
        assert await page.locator("#helper-marker").get_attribute("data-lat") == "-23.5798"
        await page.wait_for_selector("#eta")
        await shot(page, "track-coming")
        await scan(page, "track page, provider coming")
        for step in ("arrive", "complete"):
            await app.send({"type": "step", "attendance_id": tow["id"], "step": step})
            await app.until(lambda f: f["type"] == "status" and f["state"] != "en_route")
    await page.wait_for_selector("#rate", timeout=15000)
    steps = await page.inner_text("#timeline")
    for text in ("Pedido registrado", "Prestador acionado", "A caminho", "Chegou", "Concluído"):
        assert text in steps
    await page.select_option("#stars", "4")
    await page.fill("#comment", "Rápido e educado")
    await page.click("#rate button[type=submit]")
    await page.wait_for_selector("#rated")
    await shot(page, "track-rated")
    await scan(page, "track page, rated")
    view = (await scene.attendance(tow["id"]))["track_page"]
    assert (view["rating"], view["comment"]) == (4, "Rápido e educado")
    # some hours after the end the link is dead, as is one naming another attendance
    monkeypatch.setattr(track_pages, "KEPT_AFTER_END_MS", 0)
    await page.goto("about:blank")
    await page.goto(url)
    await page.wait_for_selector("#gone")
    assert "não é válido" in await page.inner_text("#gone")
    monkeypatch.undo()
    other = await scene.tow()
    secret = token.split(".", 1)[1]
    await page.goto("about:blank")
    await page.goto(f"{scene.running.http}/console/track.html#{other['id']}.{secret}")
    await page.wait_for_selector("#gone")
    await phone.close()
    assert failures == []
