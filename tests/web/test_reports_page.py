"""Relatórios in the browser: the hand-computed dataset's figures on the page, the charts
drawn, every table exported as the CSV it shows, in pt-BR and in English."""

from __future__ import annotations

import csv
import io

import pytest

from tests.api.test_reports import dataset
from tests.web.conftest import page_for, script_error, shot
from tests.web.test_walkthrough import scan


async def as_supervisor(scene) -> None:
    users = (await scene.http.get("/admin/users")).json()["users"]
    ana = next(u for u in users if u["login"] == "ana")
    changed = await scene.http.patch(f"/admin/users/{ana['id']}", json={"role": "supervisor"})
    assert changed.status_code == 200, changed.text


@pytest.mark.parametrize("lang", ["pt-BR", "en"])
async def test_the_reports_page_shows_charts_tables_and_exports_them(browser, console_hub, lang):
    scene = console_hub
    day1, _ = await dataset(scene)
    await as_supervisor(scene)
    page = await page_for(browser, scene, lang)
    failures: list[str] = []
    page.on("pageerror", lambda error: failures.append(str(error)))
    page.on("console", lambda m: script_error(m) and failures.append(m.text))
    await page.click("#nav-reports")
    await page.wait_for_selector("#report-figures")
    await page.evaluate(
        """day1 => { const d = new Date(day1);
            const pad = n => String(n).padStart(2, '0');
            document.querySelector('#report-from').value =
              `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`; }""",
        day1,
    )
    await page.click("#report-filters button[type=submit]")
    await page.wait_for_function(
        "document.querySelector('#fig-attendances strong')?.textContent === '4'"
    )
    figures = await page.inner_text("#report-figures")
    assert ("66,7%" if lang == "pt-BR" else "66.7%") in figures  # on time, in the language's format
    assert ("R$\xa0150,00" if lang == "pt-BR" else "R$150.00") in figures
    for chart in ("#volume-chart canvas", "#times-chart canvas"):
        await page.locator(chart).first.wait_for()  # uPlot drew it
    await scan(page, "reports")
    if lang == "pt-BR":
        await shot(page, "reports")
    # the provider table's CSV is the table, names made inert
    shown = await page.locator("#providers tbody tr").evaluate_all(
        "rows => rows.map(r => r.cells[0].textContent)"
    )
    async with page.expect_download() as download:
        await page.click("#providers [data-csv]")
    text = (await (await download.value).path()).read_text()
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][:2] == ["provider", "jobs"]
    assert [r[0] for r in rows[1:]] == [("'" + n if n.startswith("=") else n) for n in shown]
    # one provider's figures: picked by name
    await page.fill("#report-provider", "Prestador Um")
    await page.locator("#report-provider-names option").first.wait_for(state="attached")
    await page.click("#report-filters button[type=submit]")
    await page.wait_for_function(
        "document.querySelector('#fig-attendances strong')?.textContent === '2'"
    )
    assert failures == []


async def test_an_operator_has_no_reports(browser, console_hub):
    page = await page_for(browser, console_hub)
    assert await page.locator("#nav-reports").is_hidden()
