"""The console in a real browser: log in, the live panels, reconnecting, the map, languages."""

from __future__ import annotations

import time

from hub.operations import accounts
from hub.operations.users import NewUser, Role
from tests.dispatch.scene import TOW
from tests.web.conftest import page_for, shot


async def row_text(page, panel: str, attendance_id: int, timeout_ms: float = 5000) -> str:
    locator = page.locator(f"#{panel} tr[data-attendance='{attendance_id}']")
    await locator.wait_for(timeout=timeout_ms)
    return await locator.inner_text()


async def test_log_in_and_watch_an_attendance_cross_the_panels(browser, console_hub):
    scene = console_hub
    pid = await scene.provider("Guincho Rápido")
    page = await page_for(browser, scene)
    assert await page.inner_text("#dispatch-title") == "Painel de Acionamento"
    await page.wait_for_selector("#link-status[data-up='true']")
    started = time.monotonic()
    tow = await scene.tow()
    text = await row_text(page, "dispatch", tow["id"], timeout_ms=1000)  # live, within 1 s
    elapsed = time.monotonic() - started
    assert "Aguardando acionamento" in text and "Bela Vista" in text
    assert elapsed < 1.0
    await shot(page, "panels-dispatch")
    other = await browser.new_page()  # a second console on the same panels
    await other.goto(page.url)
    await scene.http.post(
        f"/attendances/{tow['id']}/verbal", json={"provider_id": pid, "eta_min": 25}
    )
    tracking = await row_text(page, "tracking", tow["id"])
    assert "Guincho Rápido" in tracking and "Acionado" in tracking
    await page.locator(f"#dispatch tr[data-attendance='{tow['id']}']").wait_for(state="detached")
    await shot(page, "panels-tracking")


async def test_a_dropped_stream_resumes_without_missing_anything(browser, console_hub):
    """The console's socket drops and, while it cannot reach the hub, attendances are
    registered: back, it resumes from its last offset and shows them."""
    scene = console_hub
    hub_reachable = [True]
    links = []  # the console's sockets, newest last

    def link(socket):
        if hub_reachable[0]:
            socket.connect_to_server()
        links.append(socket)  # else open, but the hub never hears of it

    page = await page_for(browser, scene, dashboard=link)
    await page.wait_for_selector("#link-status[data-up='true']")
    hub_reachable[0] = False
    await links[-1].close(code=1001)  # going away: the console dials again
    await page.wait_for_selector("#link-status[data-up='false']")
    missed = [await scene.tow(), await scene.tow()]  # while the console is away
    hub_reachable[0] = True
    await links[-1].close(code=1001)  # the socket that reached nothing: dial again
    await page.wait_for_selector("#link-status[data-up='true']")
    for tow in missed:
        assert "Aguardando acionamento" in await row_text(page, "dispatch", tow["id"])


async def test_english_on_demand_and_the_map_without_tiles(browser, console_hub):
    scene = console_hub
    pid = await scene.provider("Mapa")
    page = await page_for(browser, scene, lang="en")
    assert await page.inner_text("#dispatch-title") == "Painel de Acionamento (dispatch)"
    assert await page.get_attribute("html", "lang") == "en"
    tow = await scene.tow()
    async with scene.app(pid):
        await page.goto(page.url.split("#")[0] + f"#/map/{tow['id']}")
        await page.wait_for_selector("#map")
        await page.wait_for_selector(f"path[data-provider='{pid}'][data-candidate]", timeout=5000)
        await page.wait_for_selector(f"path[data-attendance='{tow['id']}']", timeout=5000)
        await shot(page, "map")
    await page.select_option("#lang", "pt-BR")
    assert await page.inner_text("h1") == "Mapa ao vivo"


async def test_a_wrong_password_is_refused_in_the_page(browser, console_hub):
    page = await browser.new_page()
    await page.goto(f"{console_hub.running.http}/console/")
    await page.fill("#login", "ana")
    await page.fill("#password", "errada")
    await page.click("form.login button")
    alert = page.locator("form.login .error")
    await alert.wait_for()
    assert await alert.inner_text() == "Usuário ou senha incorretos."


async def test_client_first_scopes_the_search_and_shows_the_script(browser, tmp_path):
    from hub.operations import accounts
    from hub.operations.users import NewUser, Role
    from tests.conftest import engine_settings, serve
    from tests.dispatch.scene import Scene, admin_client

    async with (
        engine_settings("embedded", tmp_path, client_first=True) as settings,
        serve(settings) as running,
        admin_client(running) as http,
    ):
        scene = Scene(running, http)
        await scene.setup()
        await http.put(
            f"/clients/{scene.client_id}",
            json={"name": "Seguradora", "script": "Bom dia! Seguradora, fala Ana."},
        )
        other = (await http.post("/clients", json={"name": "Outra"})).json()
        plan = (
            await http.post(
                "/plans", json={"client_id": other["id"], "name": "P", "coverage": {"taxi": {}}}
            )
        ).json()
        await http.post(
            "/beneficiaries",
            json={
                "client_id": other["id"],
                "plan_id": plan["id"],
                "name": "João Outro",
                "cpf": "11144477735",
            },
        )
        await accounts.add_user(
            running.hub.records,
            NewUser(login="ana", name="Ana", role=Role.OPERATOR, password="s3nha-forte"),
        )
        page = await page_for(browser, scene)
        await page.click("nav a[href='#/new']")
        await page.select_option("#client", label="Seguradora")
        assert "Bom dia! Seguradora" in await page.inner_text(".script")
        await page.fill("#search", "Joã")
        await page.click("form[role=search] button[type=submit]")
        await page.wait_for_selector(".results li")
        results = await page.inner_text(".results")
        assert "João" in results and "João Outro" not in results  # the other client's


async def test_a_write_whose_answer_is_lost_is_sent_again_and_done_once(browser, console_hub):
    scene = console_hub
    page = await page_for(browser, scene)
    path = f"/events/{scene.event_id}/attendances"
    keys: list[str] = []

    async def lose_the_first_answer(route):
        keys.append(route.request.headers.get("idempotency-key", ""))
        if len(keys) == 1:
            await route.fetch()  # the hub registers it...
            await route.abort("connectionreset")  # ...and the answer never arrives
        else:
            await route.continue_()

    await page.route(f"**{path}", lose_the_first_answer)
    made = await page.evaluate(
        """async ([path, body]) => {
            const { api } = await import("/console/api.js");
            return api("POST", path, body);
        }""",
        [path, TOW],
    )
    assert len(keys) == 2 and keys[0] and keys[0] == keys[1]  # the same key, twice
    listed = await scene.http.get(path)
    assert [a["id"] for a in listed.json()["attendances"]] == [made["id"]]


async def test_an_admin_manages_users_in_the_console_and_logging_out_ends_the_session(
    browser, console_hub
):
    hub = console_hub.hub
    await accounts.add_user(
        hub.records,
        NewUser(login="root", name="Rita Admin", role=Role.ADMIN, password="s3nha-forte-adm"),
    )
    operator = await page_for(browser, console_hub)  # ana: no Usuários for her
    await operator.wait_for_selector("#link-status[data-up='true']")
    assert await operator.locator("#nav-users").is_hidden()

    page = await browser.new_page()
    await page.goto(f"{console_hub.running.http}/console/")
    await page.fill("#login", "root")
    await page.fill("#password", "s3nha-forte-adm")
    await page.click("form.login button")
    await page.locator("#nav-users").wait_for()
    await page.click("#nav-users")
    ana = page.locator("tr", has_text="Ana Operadora")
    await ana.wait_for()
    await ana.locator("select").select_option("supervisor")
    await ana.locator("button.toggle").click()
    await page.locator("tr", has_text="Ana Operadora").filter(has_text="Não").wait_for()
    users = {u["login"]: u for u in (await console_hub.http.get("/admin/users")).json()["users"]}
    assert (users["ana"]["role"], users["ana"]["active"]) == ("supervisor", False)
    await operator.locator("form.login").wait_for(timeout=10000)  # her console closed: signed out
    await shot(page, "users")

    token = await page.evaluate("sessionStorage.getItem('hub.token')")
    await page.click("#logout")
    await page.locator("form.login").wait_for()
    after = await console_hub.http.get("/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert after.status_code == 401  # the hub ended the session, not only the page


async def test_a_job_scheduled_for_tomorrow_is_not_late_and_comes_after_the_jobs_for_now(
    browser, console_hub
):
    scene = console_hub
    now_ms = int(time.time() * 1000)
    path = f"/events/{scene.event_id}/attendances"
    forty_ago = now_ms - 40 * 60_000
    later = await scene.http.post(
        path, json={**TOW, "at_ms": forty_ago, "scheduled_ms": now_ms + 86_400_000}
    )
    now = await scene.http.post(path, json={**TOW, "at_ms": forty_ago})
    assert (later.status_code, now.status_code) == (201, 201), later.text
    page = await page_for(browser, scene)
    scheduled = await row_text(page, "dispatch", later.json()["id"])
    assert "Agendado para" in scheduled and "min" not in scheduled
    row = page.locator(f"#dispatch tr[data-attendance='{later.json()['id']}']")
    assert await row.get_attribute("class") == "scheduled"  # not "late"
    urgent = page.locator(f"#dispatch tr[data-attendance='{now.json()['id']}']")
    assert await urgent.get_attribute("class") == "late"  # 40 min waiting
    order = await page.locator("#dispatch tbody tr").evaluate_all(
        "rows => rows.map(r => Number(r.dataset.attendance))"
    )
    assert order.index(now.json()["id"]) < order.index(later.json()["id"])


async def test_a_mode_button_is_enabled_for_a_provider_outside_that_modes_first_20(
    browser, console_hub
):
    scene = console_hub
    for i in range(21):  # link-only providers right at the origin: the link list's first 20
        await scene.provider(f"Link {i:02}", channels=["link"], base=[-23.5614, -46.6559])
    target = await scene.provider("Alvo", channels=["app", "link"])
    tow = await scene.tow()
    async with scene.app(target, lat=-23.575, lng=-46.66):  # in session, 1.5 km away
        page = await page_for(browser, scene)
        await page.goto(page.url.split("#")[0] + f"#/attendance/{tow['id']}")
        row = page.locator(f"#candidates tr[data-provider='{target}']")
        await row.wait_for()
        assert await row.locator("button:has-text('Link')").is_enabled()
        assert await row.locator("button:has-text('GPS')").is_enabled()
        await page.fill("#why-provider", "Alvo")  # picked by name, not by id
        await page.locator("#provider-names option[value='Alvo']").wait_for(state="attached")
        await page.click("text=Explicar")
        await page.locator("#why li").wait_for()
        assert await page.inner_text("#why") == "Elegível."  # listed: in the GPS list


async def test_a_verbal_dispatch_asks_the_eta_in_a_dialog_that_checks_it(browser, console_hub):
    scene = console_hub
    pid = await scene.provider("Guincho Verbal", channels=["verbal"], base=[-23.55, -46.64])
    tow = await scene.tow()
    page = await page_for(browser, scene)
    await page.goto(page.url.split("#")[0] + f"#/attendance/{tow['id']}")
    await page.click(f"#candidates tr[data-provider='{pid}'] button:has-text('Verbal')")
    dialog = page.locator("#verbal-dialog")
    await dialog.wait_for()
    assert "Guincho Verbal" in await dialog.inner_text()
    await dialog.locator("input").fill("0")  # out of range: the dialog stays, nothing sent
    await dialog.locator("button[type=submit]").click()
    assert await dialog.is_visible()
    assert (await scene.attendance(tow["id"]))["attendance"]["state"] == "awaiting_dispatch"
    await dialog.locator("input").fill("25")
    await dialog.locator("button[type=submit]").click()
    await page.wait_for_selector("#attendance-state:has-text('Acionado')")
    made = (await scene.attendance(tow["id"]))["attendance"]
    assert (made["state"], made["provider_id"]) == ("assigned", pid)
    assert "Guincho Verbal" in await page.inner_text("#attendance-state")


async def test_the_dispatch_panel_filters_sorts_and_dispatches_from_the_row(browser, console_hub):
    scene = console_hub
    pid = await scene.provider("Guincho da Fila", base=[-23.55, -46.64])
    tow = await scene.tow()
    other = await scene.http.post("/clients", json={"name": "Outra Seguradora"})
    page = await page_for(browser, scene)
    assert "Reboque leve" in await row_text(page, "dispatch", tow["id"])
    await page.select_option("#service-filter", "taxi")
    await page.locator("#dispatch td.empty").wait_for()  # no taxi waiting
    await page.select_option("#service-filter", "")
    await page.select_option("#client-filter", str(other.json()["id"]))
    await page.locator("#dispatch td.empty").wait_for()  # nothing of the other client
    await page.select_option("#client-filter", str(scene.client_id))
    await page.select_option("#panel-order", "service")
    row = page.locator(f"#dispatch tr[data-attendance='{tow['id']}']")
    async with scene.app(pid) as app:  # the client's cascade offers it from the row's click
        await row.locator("button:has-text('Acionamento automático')").click()
        offer = await app.until(lambda f: f["type"] == "offer")
        assert offer["attendance_id"] == tow["id"]
    await row.locator("a:has-text('Acionar')").click()
    await page.wait_for_selector("#attendance-state")
    assert page.url.endswith(f"#/attendance/{tow['id']}")


async def test_the_map_says_when_its_tiles_cannot_be_loaded_and_names_providers(browser, tmp_path):
    from tests.conftest import engine_settings, serve
    from tests.dispatch.scene import Scene, admin_client

    unreachable = "https://tiles.invalid/{z}/{x}/{y}.png"  # the page's requests stay offline
    async with (
        engine_settings(
            "embedded", tmp_path, map_tiles_url=unreachable, map_interval_s=0.3
        ) as settings,
        serve(settings) as running,
        admin_client(running) as http,
    ):
        scene = Scene(running, http)
        await scene.setup()
        await accounts.add_user(
            running.hub.records,
            NewUser(login="ana", name="Ana", role=Role.OPERATOR, password="s3nha-forte"),
        )
        pid = await scene.provider("Guincho do Mapa")
        async with scene.app(pid):
            page = await page_for(browser, scene)
            await page.click("nav a[href='#/map']")
            notice = page.locator("#tiles-failed")
            await notice.wait_for()
            assert "mapa de fundo" in await notice.inner_text()
            marker = page.locator(f"[data-provider='{pid}']")
            await marker.wait_for()
            await marker.hover()
            tooltip = page.locator(".leaflet-tooltip")
            await tooltip.wait_for()
            assert await tooltip.inner_text() == "Guincho do Mapa · online · em serviço"


async def test_an_event_is_closed_and_reopened_from_the_console(browser, console_hub):
    scene = console_hub
    page = await page_for(browser, scene)
    await page.goto(page.url.split("#")[0] + f"#/event/{scene.event_id}")
    await page.wait_for_selector("#attendance-form")
    await page.click("#event-state button")  # no reason: the browser asks for one first
    assert (await scene.http.get(f"/events/{scene.event_id}")).json()["event"]["state"] == "open"
    await page.fill("#event-reason", "cliente resolveu sozinho")
    await page.click("#event-state button:has-text('Fechar evento')")
    await page.wait_for_selector("h1:has-text('Fechado')")
    assert await page.locator("#attendance-form").is_hidden()  # a closed event takes none
    await page.fill("#event-reason", "ligou de novo")
    await page.click("#event-state button:has-text('Reabrir evento')")
    await page.wait_for_selector("h1:has-text('Aberto')")
    assert await page.locator("#attendance-form").is_visible()
    log = (await scene.http.get(f"/events/{scene.event_id}")).json()["log"]
    assert [(e["action"], e["reason"]) for e in log][-2:] == [
        ("close", "cliente resolveu sozinho"),
        ("reopen", "ligou de novo"),
    ]
