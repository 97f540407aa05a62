"""The supervisor's reports against hand-computed figures, on both stores.

Four attendances go through the real flow (registered with their times, dispatched by
phone or refused by link, completed or cancelled, rated on the live page); then their
assigned, promised and arrival times are set to round figures, so every duration below is
known by hand:

    a1  day 1  light tow  P1  dispatched in 10 min, arrived 20 min later (promise 30)  rated 5
    a2  day 1  light tow  P1  dispatched in 20 min, arrived 40 min later (promise 30)  rated 3
    a3  day 2  taxi       P2  dispatched in 30 min, arrived 10 min later (promise 30)  avulso R$ 150
    a4  day 1  light tow  --  refused by P2's link, then cancelled ("desistiu")
"""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from hub.clock import now_ms
from tests.api.test_track_pages import page_token, public
from tests.dispatch.conftest import scene  # noqa: F401  (the fixture)
from tests.dispatch.scene import TOW, link_path

MIN = 60_000


def midnight_days_ago(days: int) -> int:
    zone = ZoneInfo("America/Sao_Paulo")
    today = datetime.now(zone).replace(hour=0, minute=0, second=0, microsecond=0)
    return int((today - timedelta(days=days)).timestamp() * 1000)


async def dataset(scene):  # noqa: F811
    http = scene.http  # the scene's plan covers the light tow; the taxi goes avulso
    p1 = await scene.provider("Prestador Um", channels=["verbal"])
    p2 = await scene.provider(
        "=Prestador Dois", channels=["verbal", "link"], services=["light_tow", "taxi"]
    )
    day1, day2 = midnight_days_ago(2), midnight_days_ago(1)
    made = {}
    for name, at, extra in (
        ("a1", day1 + 60 * MIN, {}),
        ("a2", day1 + 120 * MIN, {}),
        (
            "a3",
            day2 + 60 * MIN,
            {"service": "taxi", "avulso": True, "avulso_reason": "sem cobertura"},
        ),
        ("a4", day1 + 180 * MIN, {}),
    ):
        answer = await http.post(
            f"/events/{scene.event_id}/attendances", json={**TOW, "at_ms": at, **extra}
        )
        assert answer.status_code == 201, answer.text
        made[name] = answer.json()
    for name, pid in (("a1", p1), ("a2", p1), ("a3", p2)):
        aid = made[name]["id"]
        assert (
            await http.post(f"/attendances/{aid}/verbal", json={"provider_id": pid, "eta_min": 30})
        ).status_code == 201
        for step in ("arrive", "complete"):
            done = await http.post(f"/attendances/{aid}/steps", json={"step": step})
            assert done.status_code == 200, done.text
    offer = await http.post(
        f"/attendances/{made['a4']['id']}/offers", json={"provider_id": p2, "mode": "link"}
    )
    notes = (await http.get("/notifications")).json()["notifications"]
    body = next(n["body"] for n in notes if n["offer_id"] == offer.json()["id"])
    async with public(scene) as browser:
        refused = await browser.post(link_path(body) + "/refuse", json={"reason": "busy"})
        assert refused.status_code == 200, refused.text
        for name, stars in (("a1", 5), ("a2", 3)):
            token = await page_token(scene, made[name]["id"])
            rated = await browser.post(f"/track/{token}/rating", json={"stars": stars})
            assert rated.status_code == 200, rated.text
    cancel = await http.post(
        f"/attendances/{made['a4']['id']}/steps", json={"step": "cancel", "reason": "desistiu"}
    )
    assert cancel.status_code == 200
    # round figures for every duration
    db = scene.hub.records
    for name, to_dispatch, to_arrival in (("a1", 10, 20), ("a2", 20, 40), ("a3", 30, 10)):
        a = made[name]
        assigned = a["at_ms"] + to_dispatch * MIN
        await db.execute(
            "UPDATE attendances SET assigned_ms = ?, promised_ms = ?, arrived_ms = ? WHERE id = ?",
            assigned,
            assigned + 30 * MIN,
            assigned + to_arrival * MIN,
            a["id"],
        )
    await db.execute("UPDATE attendances SET price_cents = ? WHERE id = ?", 15000, made["a3"]["id"])
    return day1, {"p1": p1, "p2": p2}


def period(day1: int) -> dict:
    return {"from": day1, "to": midnight_days_ago(-1)}  # to the end of today, whatever the hour


async def test_the_summary_matches_the_figures_by_hand(scene):  # noqa: F811
    day1, _ = await dataset(scene)
    report = (await scene.http.get("/reports/summary", params=period(day1))).json()
    assert (report["attendances"], report["by_service"]) == (4, {"light_tow": 3, "taxi": 1})
    assert (report["avulso"], report["avulso_value_cents"], report["cancelled"]) == (1, 15000, 1)
    assert report["to_dispatch"] == {"count": 3, "p50_min": 20, "p90_min": 30, "mean_min": 20.0}
    assert report["to_arrival"] == {"count": 3, "p50_min": 20, "p90_min": 40, "mean_min": 23.3}
    assert report["on_time_pct"] == 66.7
    assert (report["acceptance_pct"], report["offers_per_assignment"]) == (75.0, 1.33)
    assert report["cancellations"] == {"desistiu": 1}
    assert report["ratings"] == {"count": 2, "mean": 4.0, "by_stars": {"3": 1, "5": 1}}
    days = report["over_time"]
    assert [d["attendances"] for d in days] == [3, 1, 0]  # day 1, day 2, today
    assert [d["to_dispatch_p50_min"] for d in days] == [10, 30, None]
    assert days[0]["start_ms"] == day1
    only_taxi = (
        await scene.http.get("/reports/summary", params={**period(day1), "service": "taxi"})
    ).json()
    assert (only_taxi["attendances"], only_taxi["to_arrival"]["p50_min"]) == (1, 10)
    hours = (
        await scene.http.get("/reports/summary", params={**period(day1), "bucket": "hour"})
    ).json()["over_time"]
    assert sum(h["attendances"] for h in hours) == 4 and len(hours) >= 48


async def test_the_provider_and_client_tables_and_their_csv(scene):  # noqa: F811
    day1, ids = await dataset(scene)
    table = (await scene.http.get("/reports/providers", params=period(day1))).json()["providers"]
    by_id = {p["provider_id"]: p for p in table}
    assert by_id[ids["p1"]] | {"provider_id": 0} == {
        "provider_id": 0,
        "name": "Prestador Um",
        "jobs": 2,
        "offers": 2,
        "acceptance_pct": 100.0,
        "on_time_pct": 50.0,
        "arrival_mean_min": 30.0,
        "rating_mean": 4.0,
        "ratings": 2,
        "value_cents": 0,
    }
    two = by_id[ids["p2"]]
    assert (two["jobs"], two["offers"], two["acceptance_pct"], two["value_cents"]) == (
        1,
        2,
        50.0,
        15000,
    )
    clients = (await scene.http.get("/reports/clients", params=period(day1))).json()["clients"]
    assert [
        (c["attendances"], c["covered"], c["avulso"], c["cancelled"], c["on_time_pct"])
        for c in clients
    ] == [(4, 3, 1, 1, 66.7)]
    exported = await scene.http.get("/reports/providers.csv", params=period(day1))
    assert exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert {r["name"] for r in rows} == {"Prestador Um", "'=Prestador Dois"}  # made inert
    assert {r["jobs"] for r in rows} == {str(p["jobs"]) for p in table}
    over_time = await scene.http.get("/reports/over-time.csv", params=period(day1))
    assert over_time.text.splitlines()[0].startswith("start_ms,events,attendances")


async def test_bad_report_queries_are_refused_and_operators_may_not_read_them(scene):  # noqa: F811
    start = now_ms() - 86_400_000
    for params in (
        {},
        {"from": start},
        {"from": start, "to": start - 1},
        {"from": start, "to": start + 400 * 86_400_000},
        {"from": start, "to": start + 40 * 86_400_000, "bucket": "hour"},
        {"from": start, "to": now_ms(), "bucket": "week"},
        {"from": start, "to": now_ms(), "service": "jetpack"},
        {"from": "x", "to": now_ms()},
    ):
        answer = await scene.http.get("/reports/summary", params=params)
        assert answer.status_code == 400, params
    made = await scene.http.post(
        "/admin/users",
        json={"login": "opera", "name": "Opera", "role": "operator", "password": "s3nha-longa-ok"},
    )
    assert made.status_code == 201
    login = await scene.http.post(
        "/auth/login", json={"login": "opera", "password": "s3nha-longa-ok"}
    )
    operator = {"Authorization": f"Bearer {login.json()['token']}"}
    refused = await scene.http.get(
        "/reports/summary", params={"from": start, "to": now_ms()}, headers=operator
    )
    assert refused.status_code == 403
