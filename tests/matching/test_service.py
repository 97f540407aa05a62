"""The matching service: candidates from positions, sessions, duty and profiles."""

from __future__ import annotations

import msgspec
import pytest

from hub.errors import BadRequest, NotFound
from hub.matching.queries import ExplainQuery, MatchQuery, Point, checked_query
from hub.matching.service import MatchService
from hub.operations.clients import Client, DispatchRules
from hub.operations.pricing import PriceRule
from hub.operations.providers import Channel, DispatchProfile, Provider
from hub.presence import Connectivity, LivePosition

NOW = 1_800_000_000_000  # a Friday, 05:20 in São Paulo
ORIGIN = Point(lat=-23.55, lng=-46.63)


def provider(pid: int, **profile) -> Provider:
    defaults = {"services": frozenset({"light_tow"}), "channels": frozenset(Channel)}
    return Provider(
        id=pid,
        name=f"P{pid}",
        phone="+5511999990000",
        active=True,
        device_key=f"k{pid}",
        token_version=1,
        created_ms=0,
        profile=DispatchProfile(**{**defaults, **profile}),
    )


def service_with(*providers: Provider) -> MatchService:
    matching = MatchService(
        resolution=9, stale_after_ms=60_000, road_factor=1.5, timezone="America/Sao_Paulo"
    )
    for p in providers:
        matching.provider_changed(p)
    return matching


def online(matching: MatchService, pid: int, lat: float, lng: float) -> None:
    matching.position(LivePosition(pid, lat, lng, NOW - 1000, NOW - 1000))
    matching.session(pid, f"s{pid}", True)
    matching.duty(pid, True)


def query(**changes) -> MatchQuery:
    return msgspec.structs.replace(MatchQuery(origin=ORIGIN, service="light_tow"), **changes)


def test_online_providers_ranked_with_every_figure():
    rule = PriceRule(base_fee_cents=15_000, per_km_cents=300, included_km=2)
    matching = service_with(provider(1, prices={"light_tow": rule}, city="São Paulo"), provider(2))
    online(matching, 1, -23.56, -46.63)  # ~1.1 km
    online(matching, 2, -23.58, -46.63)  # ~3.3 km
    page = matching.candidates(query(destination=Point(lat=-23.55, lng=-46.60)), NOW)
    first, second = page.candidates
    assert [first.provider_id, second.provider_id] == [1, 2]
    assert (first.source, first.connectivity, first.city) == (
        "gps",
        Connectivity.ONLINE,
        "São Paulo",
    )
    assert first.distance_m == pytest.approx(1112, abs=2)
    # (1.1 km to the origin + 3.1 km to the destination) x 1.5 road factor = 6.27 km
    assert 15_000 + 4 * 300 < first.price_cents < 15_000 + 5 * 300
    assert first.eta_min == pytest.approx(1.112 * 1.5 / 40 * 60, abs=0.1)
    assert second.price_cents is None
    assert not page.more


def test_offline_providers_need_a_link_or_verbal_mode_and_use_their_base():
    matching = service_with(provider(3, base=(-23.552, -46.63)))
    assert matching.candidates(query(), NOW).candidates == []  # app mode needs a session
    hit = matching.candidates(query(mode=Channel.LINK), NOW).candidates[0]
    assert (hit.provider_id, hit.source, hit.connectivity) == (3, "base", Connectivity.OFFLINE)


def test_stale_providers_are_not_offered_by_app_but_are_listed_as_stale_for_web():
    matching = service_with(provider(4))
    matching.position(LivePosition(4, -23.551, -46.63, NOW - 120_000, NOW - 120_000))
    matching.session(4, "s4", True)
    matching.duty(4, True)
    assert matching.candidates(query(), NOW).candidates == []
    web = matching.candidates(query(mode=Channel.WEB), NOW).candidates
    assert web[0].connectivity is Connectivity.STALE


def client(cid: int, radius_km: float = 50.0, active: bool = True) -> Client:
    return Client(
        id=cid,
        name=f"C{cid}",
        script="",
        rules=DispatchRules(radius_km=radius_km),
        active=active,
        created_ms=0,
    )


def test_pages_and_partner_ranking():
    matching = service_with(*(provider(i) for i in range(1, 8)), provider(9, partner_of={5}))
    matching.client_changed(client(5))
    for i in range(1, 8):
        online(matching, i, -23.55 - i * 0.001, -46.63)
    online(matching, 9, -23.55 - 0.02, -46.63)  # far, but the client's partner
    first = matching.candidates(query(limit=3, client_id=5), NOW)
    assert [c.provider_id for c in first.candidates] == [9, 1, 2]  # 3 km of partner bonus
    assert first.more
    rest = matching.candidates(query(limit=10, offset=3, client_id=5), NOW)
    assert [c.provider_id for c in rest.candidates] == [3, 4, 5, 6, 7]  # same pool, next page
    assert not rest.more
    assert [c.provider_id for c in matching.candidates(query(limit=3), NOW).candidates] == [
        1,
        2,
        3,
    ]  # without the client, no partner


def test_explain_names_every_failed_rule():
    matching = service_with(provider(6, services=frozenset({"taxi"})))
    online(matching, 6, -23.55, -46.63)
    matching.duty(6, False)
    why = matching.explain(ExplainQuery(origin=ORIGIN, service="light_tow", provider_id=6), NOW)
    assert not why.eligible
    assert [r.rule for r in why.reasons] == ["service", "on_duty"]
    assert why.distance_m == 0
    nowhere = service_with(provider(7))
    assert [
        r.rule
        for r in nowhere.explain(
            ExplainQuery(origin=ORIGIN, service="light_tow", provider_id=7), NOW
        ).reasons
    ] == ["radius"]
    with pytest.raises(NotFound):
        matching.explain(ExplainQuery(origin=ORIGIN, service="light_tow", provider_id=99), NOW)


def test_working_hours_use_the_configured_zone():
    from hub.operations.providers import WorkingHours

    nine_to_six = WorkingHours([[(540, 1080)]] * 7)
    matching = service_with(provider(8, working_hours=nine_to_six))
    online(matching, 8, -23.55, -46.63)
    assert matching.candidates(query(), NOW).candidates == []  # 05:20 local time
    noon = NOW + int(6.7 * 3600_000)
    online(matching, 8, -23.55, -46.63)
    matching.position(LivePosition(8, -23.55, -46.63, noon, noon))
    assert [c.provider_id for c in matching.candidates(query(), noon).candidates] == [8]


def test_unknown_service_and_page_bounds():
    matching = service_with()
    with pytest.raises(BadRequest) as caught:
        matching.candidates(query(service="rocket"), NOW)
    assert caught.value.code == "unknown_service"
    with pytest.raises(BadRequest, match="offset"):
        checked_query(query(offset=45, limit=10))


def test_the_clients_radius_applies_unless_the_query_names_one():
    matching = service_with(provider(1), provider(2))
    online(matching, 1, -23.56, -46.63)  # ~1.1 km
    online(matching, 2, -23.60, -46.63)  # ~5.6 km
    matching.client_changed(client(3, radius_km=2))
    by_client = matching.candidates(query(client_id=3), NOW).candidates
    assert [c.provider_id for c in by_client] == [1]
    wider = matching.candidates(query(client_id=3, radius_km=10), NOW).candidates
    assert [c.provider_id for c in wider] == [1, 2]
    assert [c.provider_id for c in matching.candidates(query(), NOW).candidates] == [1, 2]


def test_unknown_or_inactive_clients_are_refused():
    matching = service_with()
    matching.client_changed(client(4, active=False))
    for cid in (4, 99):
        with pytest.raises(BadRequest) as caught:
            matching.candidates(query(client_id=cid), NOW)
        assert caught.value.code == "unknown_client"


def test_pick_takes_the_best_ranked_over_every_mode_and_names_the_mode():
    app_only = provider(1, channels=frozenset({Channel.APP}))
    link_only = provider(2, channels=frozenset({Channel.LINK}), base=(-23.551, -46.63))
    partner = provider(3, channels=frozenset({Channel.APP}), partner_of=frozenset({7}))
    matching = service_with(app_only, link_only, partner)
    matching.client_changed(client(7))
    online(matching, 1, -23.56, -46.63)  # ~1.1 km
    online(matching, 3, -23.565, -46.63)  # ~1.7 km, but the client's partner
    modes = (Channel.APP, Channel.WEB, Channel.LINK)
    assert matching.pick(query(), modes, (), NOW) == (2, Channel.LINK)  # nearest, by link
    assert matching.pick(query(), modes, {2}, NOW) == (1, Channel.APP)
    assert matching.pick(query(client_id=7), modes, {2}, NOW) == (3, Channel.APP)  # bonus
    assert matching.pick(query(), (Channel.APP,), {1, 3}, NOW) is None
    best = matching.candidates(query(client_id=7), NOW).candidates[0]
    assert best.provider_id == 3  # the same order candidates() gives


def test_the_newest_device_time_wins_whichever_position_comes_last():
    """Two nodes take one provider's fixes: an older fix that arrives later (through the
    other node's batch) does not move the index back."""
    matching = service_with(provider(7))
    online(matching, 7, -23.56, -46.63)  # device time NOW - 1000
    matching.position(LivePosition(7, -23.60, -46.70, NOW - 5000, NOW))  # older, later
    here = matching.index.positions[7]
    assert (round(here.lat, 4), round(here.lng, 4)) == (-23.56, -46.63)
    matching.position(LivePosition(7, -23.57, -46.64, NOW, NOW))  # newer
    here = matching.index.positions[7]
    assert (round(here.lat, 4), round(here.lng, 4)) == (-23.57, -46.64)


def test_a_base_removed_leaves_the_index_at_once():
    matching = service_with(provider(8, base=(-23.552, -46.63)))
    assert [c.provider_id for c in matching.candidates(query(mode=Channel.LINK), NOW).candidates]
    matching.provider_changed(provider(8, base=None))
    assert matching.candidates(query(mode=Channel.LINK), NOW).candidates == []
    assert 8 not in matching.index.positions


def test_sessions_on_a_node_whose_heartbeat_lapsed_count_as_closed():
    matching = service_with(provider(9))
    matching.position(LivePosition(9, -23.56, -46.63, NOW - 1000, NOW - 1000))
    matching.session(9, "s9", True, node="b")
    matching.duty(9, True)
    assert [c.provider_id for c in matching.candidates(query(), NOW).candidates] == [9]
    assert matching.session_nodes() == {"b"}
    matching.nodes_down({"b"})
    assert matching.candidates(query(), NOW).candidates == []  # app mode needs a session
    offline = matching.candidates(query(mode=Channel.LINK), NOW).candidates[0]
    assert offline.connectivity is Connectivity.OFFLINE
    matching.nodes_down(set())  # b beats again (it was only stopped)
    assert [c.provider_id for c in matching.candidates(query(), NOW).candidates] == [9]


def test_the_nodes_holding_sessions_follow_opens_takeovers_and_closes():
    matching = service_with(provider(10), provider(11))
    matching.session(10, "s10", True, node="b")
    matching.session(11, "s11", True, node="b")
    assert matching.session_nodes() == {"b"}
    matching.session(10, "s10c", True, node="c")  # taken over on node c
    assert matching.session_nodes() == {"b", "c"}
    matching.session(10, "s10", False)  # the replaced session's late close: no change
    matching.session(11, "s11", False)
    assert matching.session_nodes() == {"c"}
    matching.session(10, "s10c", False)
    assert matching.session_nodes() == set()
