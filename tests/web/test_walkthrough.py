"""The seed's whole walkthrough in the browser, with a simulated provider app."""

from __future__ import annotations

import re

from hub.operations.beneficiaries import Address
from tests.web.conftest import page_for, shot

MAPS_URL = (
    "https://www.google.com/maps/place/Av.+Paulista,+1000/@-23.5614,-46.6559,17z/"
    "data=!3d-23.5614!4d-46.6559"
)


async def seed(scene):
    """A plan with a tow and a taxi, a beneficiary with a car, a partner garage."""
    http = scene.http
    plan = await http.post(
        "/plans",
        json={
            "client_id": scene.client_id,
            "name": "Ouro",
            "coverage": {"light_tow": {}, "taxi": {}},
        },
    )
    home = Address(
        street="Rua Harmonia",
        number="10",
        district="Vila Madalena",
        city="São Paulo",
        lat=-23.556,
        lng=-46.69,
    )
    ben = await http.post(
        "/beneficiaries",
        json={
            "client_id": scene.client_id,
            "plan_id": plan.json()["id"],
            "name": "Maria Souza",
            "cpf": "11144477735",
            "phones": ["11988887777"],
            "address": {f: getattr(home, f) for f in home.__struct_fields__},
            "vehicles": [{"plate": "ABC1D23", "model": "Onix", "year": 2020, "colour": "prata"}],
        },
    )
    assert ben.status_code == 201, ben.text
    garage = await http.post(
        f"/clients/{scene.client_id}/partners",
        json={
            "name": "Oficina Parceira Augusta",
            "address": {"street": "Rua Augusta", "number": "900", "city": "São Paulo"},
            "lat": -23.556,
            "lng": -46.66,
        },
    )
    assert garage.status_code == 201, garage.text


async def test_the_seed_walkthrough(browser, console_hub):
    scene = console_hub
    await seed(scene)
    pid = await scene.provider("Guincho Paulista", services=["light_tow", "taxi"])
    watcher = await page_for(browser, scene)  # a second console, on the panels
    page = await page_for(browser, scene)
    failures: list[str] = []
    page.on("pageerror", lambda error: failures.append(str(error)))
    async with scene.app(pid) as app:
        # find the beneficiary by plate, typed the old way with a hyphen
        await page.click("nav a[href='#/new']")
        await page.fill("#search", "abc-1d23")
        await page.click("form[role=search] button[type=submit]")
        await page.click("text=Selecionar")
        await page.wait_for_selector("text=Maria Souza")
        await page.select_option("#event-type", "out_of_fuel")
        await shot(page, "intake")
        await page.click("text=Abrir evento")
        await page.wait_for_selector("#attendance-form")
        assert re.search(r"TMA \d\d:\d\d", await page.inner_text("main"))
        # a light tow: origin from a Google Maps URL, destination from a partner garage
        await page.select_option("#service", "light_tow")
        await page.fill("#origin-url", MAPS_URL)
        await page.click("#origin-place >> text=Usar URL")
        await page.wait_for_function("document.querySelector('#origin-lat').value !== ''")
        await page.fill("#origin-street", "Avenida Paulista")
        await page.fill("#origin-number", "1000")
        await page.fill("#origin-district", "Bela Vista")
        await page.select_option("#destination-partner", label="Oficina Parceira Augusta")
        await page.click("#destination-place >> text=Usar parceiro")
        assert await page.input_value("#destination-lat") == "-23.556"
        await shot(page, "attendance-form")
        await page.click("text=Registrar atendimento")
        await page.wait_for_selector("#candidates")
        attendance_id = int(page.url.rsplit("/", 1)[1])
        row = await watcher.locator(f"#dispatch tr[data-attendance='{attendance_id}']").inner_text()
        assert "Aguardando acionamento" in row  # the other console saw it appear
        await shot(page, "acionamento")
        # dispatch it to the provider app, which accepts
        await page.click(f"#candidates tr[data-provider='{pid}'] button:has-text('GPS')")
        offer = await app.until(lambda f: f["type"] == "offer")
        assert offer["attendance_id"] == attendance_id
        await app.send({"type": "accept", "offer_id": offer["offer_id"], "eta_min": 20})
        await app.until(lambda f: f["type"] == "assignment")
        await app.send({"type": "step", "attendance_id": attendance_id, "step": "depart"})
        await app.until(lambda f: f["type"] == "status")
        await page.wait_for_selector("#attendance-state:has-text('A caminho')")
        tracked = watcher.locator(f"#tracking tr[data-attendance='{attendance_id}']")
        assert "A caminho" in await tracked.inner_text()
        await watcher.locator(f"#dispatch tr[data-attendance='{attendance_id}']").wait_for(
            state="detached"
        )  # ...and saw it leave the dispatch panel
        await shot(watcher, "panels-en-route")
        # a taxi for the same event, from the beneficiary's address
        await page.click("text=Evento #")
        await page.wait_for_selector("#attendance-form")
        await page.select_option("#service", "taxi")
        await page.click("#origin-place >> text=Endereço do beneficiário")
        await page.click("#destination-place >> text=Usar parceiro")
        await page.click("text=Registrar atendimento")
        await page.wait_for_selector("#candidates")
        await page.click("text=Evento #")
        listed = await page.inner_text("#attendances")
        assert "light_tow" in listed and "taxi" in listed
    assert failures == []  # no uncaught error (a pan still running as the form re-rendered)


async def test_the_origin_from_an_address_search(browser, tmp_path):
    from hub.operations import accounts
    from hub.operations.users import NewUser, Role
    from tests.api.test_geocoding import stand_in
    from tests.conftest import engine_settings, serve
    from tests.dispatch.scene import Scene, admin_client

    async with (
        stand_in() as (base, _),
        engine_settings("embedded", tmp_path, geocoder_url=base, cep_url=f"{base}/ws") as settings,
        serve(settings) as running,
        admin_client(running) as http,
    ):
        scene = Scene(running, http)
        await scene.setup()
        await accounts.add_user(
            running.hub.records,
            NewUser(login="ana", name="Ana", role=Role.OPERATOR, password="s3nha-forte"),
        )
        page = await page_for(browser, scene)
        await page.goto(page.url.split("#")[0] + f"#/event/{scene.event_id}")
        await page.wait_for_selector("#attendance-form")
        await page.fill("#origin-cep", "01310-100")
        await page.click("#origin-place >> text=Buscar CEP")
        await page.click("#origin-place .results button")
        assert await page.input_value("#origin-street") == "Avenida Paulista"
        assert await page.input_value("#origin-lat") == "-23.5613"
        await page.fill("#origin-number", "1000")
        await page.select_option("#service", "light_tow")
        await page.fill("#destination-street", "Avenida Paulista")
        await page.click("#destination-place >> text=Buscar endereço")
        await page.click("#destination-place .results button")
        await page.fill("#requester-phone", "11 97777-6666")  # required: the form says so
        await page.click("text=Registrar atendimento")
        await page.wait_for_selector("#candidates")
        attendance_id = int(page.url.rsplit("/", 1)[1])
        made = (await scene.attendance(attendance_id))["attendance"]
        assert (made["origin"]["address"]["cep"], made["origin"]["lat"]) == ("01310-100", -23.5613)
