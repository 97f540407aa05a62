"""Every control of every console page has a name a screen reader can say, and the pages
can be worked from the keyboard."""

from __future__ import annotations

from tests.web.conftest import page_for
from tests.web.test_walkthrough import seed

UNNAMED = """() => [...document.querySelectorAll('input, select, textarea, button')]
  .filter((el) => el.offsetParent !== null)
  .filter((el) => {
    if (el.getAttribute('aria-label') || el.getAttribute('title')) return false;
    if (el.tagName === 'BUTTON') return !el.textContent.trim();
    if (el.id && document.querySelector(`label[for="${el.id}"]`)) return false;
    return !el.closest('label');
  })
  .map((el) => el.outerHTML.slice(0, 120))"""


async def test_every_control_is_named_on_every_page(browser, console_hub):
    scene = console_hub
    await seed(scene)
    tow = await scene.tow()
    page = await page_for(browser, scene)
    base = page.url.split("#")[0]
    for hash_, ready in [
        ("#/panels", "#dispatch"),
        ("#/new", "#search"),
        (f"#/event/{scene.event_id}", "#attendance-form"),
        (f"#/attendance/{tow['id']}", "#candidates"),
        ("#/map", "#map"),
    ]:
        await page.goto(base + hash_)
        await page.wait_for_selector(ready)
        assert await page.evaluate(UNNAMED) == [], hash_
    await page.evaluate("document.querySelector('main').append(document.createElement('input'))")
    assert len(await page.evaluate(UNNAMED)) == 1  # the check does catch a nameless control
    portal = await browser.new_page()
    await portal.goto(f"{scene.running.http}/console/portal.html")
    await portal.wait_for_selector("#phone")
    assert await portal.evaluate(UNNAMED) == []


async def test_logging_in_with_the_keyboard_alone(browser, console_hub):
    page = await browser.new_page()
    await page.goto(f"{console_hub.running.http}/")
    await page.wait_for_selector("#login:focus")  # the form starts focused
    await page.keyboard.type("ana")
    await page.keyboard.press("Tab")
    await page.keyboard.type("s3nha-forte")
    await page.keyboard.press("Enter")
    await page.wait_for_selector("#dispatch")
