"""The records contract, run against SQLite and the real PostgreSQL."""

import asyncio

import msgspec
import pytest

from hub.errors import Conflict
from hub.ingest.tracks import Chunk, TrackPoint, chunk_of
from hub.operations.beneficiaries import (
    Address,
    Limit,
    NewBeneficiary,
    NewPlan,
    NewVehicle,
    checked_beneficiary,
    search_kind,
)
from hub.operations.clients import Cascade, DispatchRules, NewClient
from hub.operations.events import EventAction, EventState, EventType, NewEvent, apply
from hub.operations.pricing import PriceRule
from hub.operations.providers import (
    Channel,
    DispatchProfile,
    NewProvider,
    WorkingHours,
    device_key_hash,
)
from hub.operations.users import AuditEntry, NewUser, Role

NOW = 1_800_000_000_000


def point(pid: int, t: int, flag: int = 0, lat: float = -23.5) -> TrackPoint:
    return TrackPoint(pid, t, lat, -46.6, 5.0, 12.5, 90.0, flag, t + 3)


def pack(points: list[TrackPoint]) -> list[Chunk]:
    """One chunk per provider, as the track writer would store them."""
    by_provider: dict[int, list[TrackPoint]] = {}
    for p in points:
        by_provider.setdefault(p.provider_id, []).append(p)
    return [chunk_of(group) for group in by_provider.values()]


async def add(records, name="Guincho", key="k1"):
    return await records.providers.add(NewProvider(name=name, phone="+5511999990000"), key, NOW)


async def test_migrations_are_recorded_and_not_applied_twice(records):
    assert await records.migrate() == []


async def test_provider_round_trip_and_lookups(records):
    p = await add(records)
    assert (p.name, p.phone, p.active, p.token_version, p.created_ms) == (
        "Guincho",
        "+5511999990000",
        True,
        1,
        NOW,
    )
    assert p.device_key == "k1"  # in the answer that made it, and nowhere after
    kept = msgspec.structs.replace(p, device_key="")
    assert await records.providers.get(p.id) == kept
    assert await records.providers.by_device_key("k1") == kept
    assert await records.providers.get(p.id + 1000) is None
    assert await records.providers.by_device_key("nope") is None


async def test_device_keys_are_kept_as_hashes_and_rotate(records):
    p = await add(records)
    db = records.providers.db
    (row,) = await db.fetch("SELECT device_key FROM providers WHERE id = ?", p.id)
    assert row["device_key"] == device_key_hash("k1") != "k1"
    rotated = await records.providers.set_device_key(p.id, "k2", revoke_tokens=False)
    assert (rotated.device_key, rotated.token_version) == ("k2", 1)
    assert await records.providers.by_device_key("k1") is None
    assert (await records.providers.by_device_key("k2")).id == p.id
    revoked = await records.providers.set_device_key(p.id, "k3", revoke_tokens=True)
    assert (revoked.device_key, revoked.token_version) == ("k3", 2)
    assert await records.providers.set_device_key(p.id + 99, "k4", revoke_tokens=True) is None


async def test_device_keys_are_unique(records):
    await add(records)
    with pytest.raises(Conflict):
        await add(records, name="Other")


async def test_pages_in_id_order(records):
    ids = [(await add(records, f"P{i}", f"key{i}")).id for i in range(5)]
    first = await records.providers.page(limit=2)
    rest = await records.providers.page(after_id=first[-1].id, limit=10)
    assert [p.id for p in first + rest] == ids


async def test_token_version_bumps_atomically(records):
    p = await add(records)
    await asyncio.gather(*(records.providers.bump_token_version(p.id) for _ in range(10)))
    assert (await records.providers.get(p.id)).token_version == 11
    assert await records.providers.bump_token_version(9999) is None


async def test_deactivate(records):
    p = await add(records)
    assert (await records.providers.set_active(p.id, False)).active is False
    assert await records.providers.set_active(9999, False) is None


async def test_track_append_is_durable_ordered_and_idempotent(records):
    batch = [point(1, NOW + i * 1000, flag=i % 3) for i in range(50)]
    await records.tracks.append(pack(batch[25:] + batch[:25]))  # order within a batch is free
    # a resend of stored fixes (with other values) plus one new fix
    resent = [point(1, p.t_ms, lat=0.0) for p in batch[:10]]
    await records.tracks.append(pack([*resent, point(1, NOW + 99_000)]))
    history = await records.tracks.history(1)
    assert len(history) == 51
    assert history[:50] == batch
    assert [p.t_ms for p in await records.tracks.history(1, since_ms=NOW + 48_000)] == [
        NOW + 48_000,
        NOW + 49_000,
        NOW + 99_000,
    ]
    assert await records.tracks.count() == 51
    assert await records.tracks.count([1, 2]) == 51
    assert await records.tracks.count([2]) == 0
    assert len(await records.tracks.history(1, limit=7)) == 7


async def test_late_fixes_interleave_in_time_order(records):
    await records.tracks.append(pack([point(4, NOW + 10_000), point(4, NOW + 20_000)]))
    await records.tracks.append(pack([point(4, NOW + 15_000, flag=1), point(5, NOW)]))
    assert [p.t_ms for p in await records.tracks.history(4)] == [
        NOW + 10_000,
        NOW + 15_000,
        NOW + 20_000,
    ]
    assert await records.tracks.count() == 4


async def test_track_nulls_survive(records):
    p = TrackPoint(3, NOW, 1.0, 2.0, None, None, None, 0, NOW)
    await records.tracks.append(pack([p]))
    assert await records.tracks.history(3) == [p]
    await records.tracks.append(pack([]))
    assert await records.tracks.count() == 1


async def test_secret_is_created_once(records):
    first = await records.secret("s", "one")
    assert await records.secret("s", "two") == first == "one"


async def test_ping(records):
    await records.ping()


async def test_add_many_is_all_or_nothing_and_in_order(records):
    news = [NewProvider(name=f"P{i}", phone="+5511999990000") for i in range(5)]
    added = await records.providers.add_many(news, [f"key{i}" for i in range(5)], NOW)
    assert [p.name for p in added] == [f"P{i}" for i in range(5)]
    assert [p.device_key for p in added] == [f"key{i}" for i in range(5)]
    with pytest.raises(Conflict):
        await records.providers.add_many(news[:2], ["fresh", "key0"], NOW)  # key0 is taken
    assert await records.providers.by_device_key("fresh") is None
    assert await records.providers.add_many([], [], NOW) == []


PROFILE = DispatchProfile(
    services=frozenset({"light_tow", "taxi"}),
    prices={"light_tow": PriceRule(base_fee_cents=15_000, per_km_cents=350, included_km=40)},
    city="São Paulo",
    base=(-23.55, -46.63),
    channels=frozenset({Channel.APP, Channel.LINK}),
    preferred=True,
    partner_of=frozenset({3}),
    excluded_by=frozenset({9}),
    working_hours=WorkingHours([[(480, 1080)]] * 5 + [[(480, 720)], []]),
    suspended_until_ms=NOW + 3600_000,
    suspension_reason="documentos vencidos",
    on_time_pct=87.5,
    acceptance_pct=92.0,
)


async def test_dispatch_profiles_round_trip(records):
    plain = await add(records)
    assert plain.profile == DispatchProfile()
    rich = await records.providers.add(
        NewProvider(name="Rich", phone="+5511999990000", profile=PROFILE), "k2", NOW
    )
    assert rich.profile == PROFILE
    assert (await records.providers.get(rich.id)).profile == PROFILE
    updated = await records.providers.set_profile(plain.id, PROFILE)
    assert updated.profile == PROFILE
    many = await records.providers.add_many(
        [NewProvider(name="M", phone="+5511999990000", profile=PROFILE)], ["k3"], NOW
    )
    assert many[0].profile == PROFILE
    assert await records.providers.set_profile(9999, PROFILE) is None


async def test_users_and_their_credentials(records):
    new = NewUser(login="ana", name="Ana", role=Role.SUPERVISOR, password="x" * 12)
    user = await records.users.add(new, "$argon2id$fake", NOW)
    assert (user.login, user.role, user.active, user.token_version) == (
        "ana",
        Role.SUPERVISOR,
        True,
        1,
    )
    assert await records.users.get(user.id) == user
    assert await records.users.credentials("ana") == (user, "$argon2id$fake")
    assert await records.users.credentials("bob") is None
    with pytest.raises(Conflict):
        await records.users.add(new, "h", NOW)
    assert [u.login for u in await records.users.page()] == ["ana"]


async def test_audit_is_appended_and_read_newest_first(records):
    for i in range(3):
        await records.audit.append(
            AuditEntry(at_ms=NOW + i, actor="user:1", action="provider.add", target=f"provider:{i}")
        )
    recent = await records.audit.recent(limit=2)
    assert [e.target for e in recent] == ["provider:2", "provider:1"]
    assert recent[0].at_ms == NOW + 2


async def test_clients_round_trip_and_replace(records):
    rules = DispatchRules(
        automatic=True,
        radius_km=25,
        offer_deadline_s=90,
        max_attempts=3,
        cascade=Cascade.STAGGERED,
        stagger_s=20,
    )
    made = await records.clients.add(NewClient(name="Seguradora X", script="Olá", rules=rules), NOW)
    assert (made.name, made.script, made.rules, made.active) == ("Seguradora X", "Olá", rules, True)
    assert await records.clients.get(made.id) == made
    changed = await records.clients.replace(made.id, NewClient(name="Y", active=False))
    assert (changed.name, changed.rules, changed.active) == ("Y", DispatchRules(), False)
    assert await records.clients.replace(9999, NewClient(name="Z")) is None
    assert [c.id for c in await records.clients.page()] == [made.id]


async def seeded_plan(records):
    client = await records.clients.add(NewClient(name="Seguradora"), NOW)
    plan = await records.plans.add(
        NewPlan(
            client_id=client.id,
            name="Básico",
            coverage={"light_tow": Limit(uses_per_period=2, km_limit=100)},
        )
    )
    return client, plan


def person(client_id: int, plan_id: int, name: str, cpf: str, *plates: str) -> NewBeneficiary:
    return checked_beneficiary(
        NewBeneficiary(
            client_id=client_id,
            plan_id=plan_id,
            name=name,
            cpf=cpf,
            phones=["11999990000"],
            address=Address(
                street="Avenida Paulista", number="1578", city="São Paulo", lat=-23.56, lng=-46.65
            ),
            vehicles=[NewVehicle(plate=p, model="Gol", year=2015, colour="prata") for p in plates],
        )
    )


async def test_plans_belong_to_existing_clients(records):
    client, plan = await seeded_plan(records)
    assert plan.coverage["light_tow"].km_limit == 100
    assert await records.plans.get(plan.id) == plan
    assert await records.plans.of_client(client.id) == [plan]
    with pytest.raises(Conflict):
        await records.plans.add(NewPlan(client_id=999, name="X", coverage={}))


async def test_beneficiaries_are_found_by_cpf_plate_or_name(records):
    client, plan = await seeded_plan(records)
    joao = await records.beneficiaries.add(
        person(client.id, plan.id, "João da Conceição", "529.982.247-25", "abc-1234")
    )
    ana = await records.beneficiaries.add(
        person(client.id, plan.id, "Ana Conceição", "111.444.777-35", "BRA2E19")
    )
    assert joao.vehicles[0].plate == "ABC1234"
    assert await records.beneficiaries.get(joao.id) == joao
    by = records.beneficiaries.search
    assert [b.id for b in await by(*search_kind("52998224725"))] == [joao.id]
    assert [b.id for b in await by(*search_kind("ABC1C34"))] == [joao.id]  # Mercosul twin
    assert [b.id for b in await by(*search_kind("bra-2e19"))] == [ana.id]
    assert [b.id for b in await by(*search_kind("conceicao"))] == [ana.id, joao.id]
    assert [b.id for b in await by(*search_kind("JOÃO"), client_id=client.id)] == [joao.id]
    assert await by(*search_kind("joão"), client_id=client.id + 1) == []
    assert await by(*search_kind("100%")) == []  # LIKE wildcards are taken literally


async def test_a_cpf_is_unique_per_client_and_references_must_exist(records):
    client, plan = await seeded_plan(records)
    await records.beneficiaries.add(person(client.id, plan.id, "A", "529.982.247-25"))
    with pytest.raises(Conflict):
        await records.beneficiaries.add(person(client.id, plan.id, "B", "529.982.247-25"))
    with pytest.raises(Conflict):
        await records.beneficiaries.add(person(client.id, 999, "C", "111.444.777-35"))
    assert [b.name for b in await records.beneficiaries.search(*search_kind("52998224725"))] == [
        "A"
    ]


async def test_events_open_change_conditionally_and_log(records):
    client, plan = await seeded_plan(records)
    ben = await records.beneficiaries.add(
        person(client.id, plan.id, "João", "529.982.247-25", "ABC1234")
    )
    new = NewEvent(beneficiary_id=ben.id, vehicle_id=ben.vehicles[0].id, type=EventType.OUT_OF_FUEL)
    first = await records.events.open(new, client.id, "user:1", NOW)
    assert (first.state, first.opened_ms, first.client_id) == (EventState.OPEN, NOW, client.id)
    closed = apply(first, EventAction.CLOSE, "ok", NOW + 5)
    assert (
        await records.events.change(first, closed, "close", "user:2", "ok", NOW + 5)
    ).state is EventState.CLOSED
    # a second writer that read the open event loses
    assert await records.events.change(first, closed, "close", "user:3", "x", NOW + 6) is None
    assert [(e.action, e.actor, e.reason) for e in await records.events.log(first.id)] == [
        ("open", "user:1", ""),
        ("close", "user:2", "ok"),
    ]
    second = await records.events.open(new, client.id, "user:1", NOW + 10)
    assert [e.id for e in await records.events.of_beneficiary(ben.id)] == [second.id, first.id]
    with pytest.raises(Conflict):
        await records.events.open(
            NewEvent(beneficiary_id=999, type=EventType.OTHER), client.id, "user:1", NOW
        )


async def test_partners_belong_to_a_client_and_list_by_name(records):
    from hub.operations.beneficiaries import Address
    from hub.operations.clients import NewPartner

    client = await records.clients.add(NewClient(name="C"), NOW)
    garage = NewPartner(
        name="Oficina Zeta", address=Address(street="Rua A", city="SP"), lat=-23.5, lng=-46.6
    )
    dealer = NewPartner(
        name="Concessionária Alfa", address=Address(street="Rua B"), lat=-23.6, lng=-46.7
    )
    made = [await records.clients.add_partner(client.id, p) for p in (garage, dealer)]
    found = await records.clients.partners(client.id)
    assert [p.name for p in found] == ["Concessionária Alfa", "Oficina Zeta"]
    assert found[1] == made[0] and found[1].address.city == "SP"
    assert await records.clients.partners(client.id + 1) == []
    with pytest.raises(Conflict):
        await records.clients.add_partner(client.id + 1, garage)


async def test_name_search_puts_names_starting_with_the_piece_first(records):
    from hub.operations.beneficiaries import NewBeneficiary, SearchKind

    client, plan = await seeded_plan(records)
    cpfs = iter(["52998224725", "11144477735", "39053344705", "86288366757", "71428793860"])
    for name in ("Maria Silva", "Silvana Costa", "Ana Silveira", "Silvio Santos", "Pedro Souza"):
        await records.beneficiaries.add(
            NewBeneficiary(client_id=client.id, plan_id=plan.id, name=name, cpf=next(cpfs))
        )
    found = [b.name for b in await records.beneficiaries.search(SearchKind.NAME, "silv")]
    assert found == ["Silvana Costa", "Silvio Santos", "Ana Silveira", "Maria Silva"]
    assert [
        b.name for b in await records.beneficiaries.search(SearchKind.NAME, "silv", limit=2)
    ] == ["Silvana Costa", "Silvio Santos"]
    assert (
        await records.beneficiaries.search(SearchKind.NAME, "silv", client_id=client.id + 1) == []
    )


async def test_keys_stored_in_clear_before_are_hashed_by_the_migration(records):
    p = await add(records)
    db = records.providers.db
    await db.execute("UPDATE providers SET device_key = ? WHERE id = ?", "k1", p.id)  # as before
    await db.execute("DELETE FROM schema_migrations WHERE name = ?", "0015_device_key_hashes")
    assert await records.migrate() == ["0015_device_key_hashes"]
    (row,) = await db.fetch("SELECT device_key FROM providers WHERE id = ?", p.id)
    assert row["device_key"] == device_key_hash("k1")
    assert (await records.providers.by_device_key("k1")).id == p.id
