"""A living demo: fictional data around São Paulo, and providers that move.

``hub demo`` loads (once) an admin user, a client with a plan, a thousand beneficiaries
with their cars, and a few hundred providers with services, prices and base addresses.
``HUB_DEMO=true hub serve`` then moves the providers that use the app a little every few
seconds, as if their phones were streaming GPS, so matching and presence have life in them;
and their people answer: an app offer is accepted (or now and then refused) a few seconds
after it came, and an accepted job goes through its steps, so the whole loop is seen.
"""

from __future__ import annotations

import asyncio
import logging
import math
import random
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from hub.clock import now_ms
from hub.dispatch.lifecycle import Step
from hub.dispatch.offers import OfferState
from hub.errors import HubError
from hub.operations import accounts, registry
from hub.operations.beneficiaries import (
    Address,
    Limit,
    NewBeneficiary,
    NewPlan,
    NewVehicle,
    checked_beneficiary,
)
from hub.operations.clients import DispatchRules, NewClient, NewPartner
from hub.operations.pricing import PriceRule
from hub.operations.providers import Channel, DispatchProfile, NewProvider
from hub.operations.users import NewUser, Role
from hub.presence import LivePosition
from hub.state.records import Records

if TYPE_CHECKING:
    from hub.dispatch.service import Dispatcher
    from hub.feeds import PositionFeed
    from hub.matching.service import MatchService

log = logging.getLogger(__name__)

CENTRE = (-23.5505, -46.6333)  # Praça da Sé
CLIENT_NAME = "Seguradora Exemplo (demo)"
ADMIN_LOGIN, ADMIN_PASSWORD = "admin", "demo-admin-password"
FIRST = (
    "Ana",
    "João",
    "Maria",
    "José",
    "Antônio",
    "Francisca",
    "Carlos",
    "Paulo",
    "Lúcia",
    "Pedro",
    "Juliana",
    "Fernanda",
    "Rafael",
    "Beatriz",
    "Sérgio",
    "Camila",
    "Thiago",
)
LAST = (
    "Silva",
    "Santos",
    "Oliveira",
    "Souza",
    "Rodrigues",
    "Ferreira",
    "Alves",
    "Pereira",
    "Lima",
    "Gomes",
    "Costa",
    "Ribeiro",
    "Martins",
    "Carvalho",
    "Conceição",
    "Araújo",
)
SERVICE_MIX = (
    ({"light_tow"}, 0.3),
    ({"light_tow", "heavy_tow"}, 0.05),
    ({"taxi"}, 0.3),
    ({"locksmith"}, 0.1),
    ({"tyre_change", "battery_jump", "fuel_delivery"}, 0.25),
)
PRICES = {
    "light_tow": PriceRule(base_fee_cents=18_000, per_km_cents=400, included_km=40),
    "heavy_tow": PriceRule(base_fee_cents=45_000, per_km_cents=900, included_km=40),
    "taxi": PriceRule(base_fee_cents=2_000, per_km_cents=350),
    "locksmith": PriceRule(base_fee_cents=12_000),
    "tyre_change": PriceRule(base_fee_cents=9_000, per_km_cents=200, included_km=10),
    "battery_jump": PriceRule(base_fee_cents=9_000, per_km_cents=200, included_km=10),
    "fuel_delivery": PriceRule(base_fee_cents=8_000, per_km_cents=200, included_km=10),
}


def near(rng: random.Random, km: float) -> tuple[float, float]:
    """A point within ``km`` of the centre."""
    distance, angle = km * math.sqrt(rng.random()), rng.uniform(0, 2 * math.pi)
    lat = CENTRE[0] + distance * math.sin(angle) / 111.2
    lng = CENTRE[1] + distance * math.cos(angle) / (111.2 * math.cos(math.radians(CENTRE[0])))
    return round(lat, 6), round(lng, 6)


def cpf(rng: random.Random) -> str:
    digits = [rng.randrange(10) for _ in range(9)]
    for length in (9, 10):
        total = sum(d * w for d, w in zip(digits, range(length + 1, 1, -1), strict=False))
        digits.append(total * 10 % 11 % 10)
    return "".join(map(str, digits))


def plate(rng: random.Random) -> str:
    letters = "".join(rng.choice("ABCDEFGHJKLMNPRSTUVWXYZ") for _ in range(3))
    fifth = str(rng.randrange(10)) if rng.random() < 0.4 else rng.choice("ABCDEFGHIJ")
    return f"{letters}{rng.randrange(10)}{fifth}{rng.randrange(100):02d}"


def demo_providers(rng: random.Random, count: int) -> list[NewProvider]:
    sets = [s for s, _ in SERVICE_MIX]
    weights = [w for _, w in SERVICE_MIX]
    made = []
    for i in range(count):
        services = rng.choices(sets, weights)[0]
        channels = (
            {Channel.APP, Channel.VERBAL} if rng.random() < 0.7 else {Channel.LINK, Channel.VERBAL}
        )
        made.append(
            NewProvider(
                name=f"{rng.choice(('Guincho', 'Auto Socorro', 'Táxi', 'Chaveiro', 'Pneus'))} "
                f"{rng.choice(LAST)} {i + 1}",
                phone=f"+55119{rng.randrange(10**8):08d}",
                profile=DispatchProfile(
                    services=frozenset(services),
                    prices={s: PRICES[s] for s in services},
                    city="São Paulo",
                    base=near(rng, 30),
                    channels=frozenset(channels),
                    preferred=rng.random() < 0.1,
                    on_time_pct=round(rng.uniform(70, 100), 1),
                    acceptance_pct=round(rng.uniform(60, 100), 1),
                ),
            )
        )
    return made


def _quiet(line: str) -> None:
    return None


# The client's partner garages (fictional names, real streets).
PARTNERS = (
    ("Oficina Parceira Augusta", "Rua Augusta", "900", "Consolação", -23.5536, -46.6576),
    ("Auto Center Mooca", "Rua da Mooca", "2000", "Mooca", -23.5559, -46.5996),
    ("Mecânica Santo Amaro", "Avenida Santo Amaro", "4500", "Brooklin", -23.6158, -46.6822),
)


async def load(
    records: Records,
    *,
    beneficiaries: int = 1000,
    providers: int = 300,
    progress: Callable[[str], None] = _quiet,
) -> dict[str, Any]:
    """Load the demo data unless it is there already; say what exists."""
    existing = [c for c in await records.clients.page(limit=1000) if c.name == CLIENT_NAME]
    if existing:
        return {
            "loaded": False,
            "reason": "the demo data is already there",
            "client_id": existing[0].id,
        }
    rng = random.Random(2026)
    if not await records.users.page(limit=1):
        await accounts.add_user(
            records,
            NewUser(
                login=ADMIN_LOGIN,
                name="Administrador demo",
                role=Role.ADMIN,
                password=ADMIN_PASSWORD,
            ),
        )
    client = await records.clients.add(
        NewClient(
            name=CLIENT_NAME,
            script="Bom dia! Central de Assistência 24h.",
            rules=DispatchRules(radius_km=40),
        ),
        now_ms(),
    )
    plan = await records.plans.add(
        NewPlan(
            client_id=client.id,
            name="Essencial",
            coverage={
                "light_tow": Limit(uses_per_period=2, km_limit=100),
                "taxi": Limit(uses_per_period=2),
                "locksmith": Limit(uses_per_period=1),
                "tyre_change": Limit(),
                "battery_jump": Limit(),
                "fuel_delivery": Limit(uses_per_period=2),
            },
        )
    )
    for name, street, number, district, lat, lng in PARTNERS:
        await records.clients.add_partner(
            client.id,
            NewPartner(
                name=name,
                address=Address(
                    street=street, number=number, district=district, city="São Paulo", state="SP"
                ),
                lat=lat,
                lng=lng,
            ),
        )
    seen: set[str] = set()
    for i in range(beneficiaries):
        if i and i % 250 == 0:
            progress(f"{i} of {beneficiaries} beneficiaries loaded")
        number = cpf(rng)
        if number in seen:
            continue
        seen.add(number)
        lat, lng = near(rng, 25)
        await records.beneficiaries.add(
            checked_beneficiary(
                NewBeneficiary(
                    client_id=client.id,
                    plan_id=plan.id,
                    name=f"{rng.choice(FIRST)} {rng.choice(LAST)} {rng.choice(LAST)}",
                    cpf=number,
                    phones=[f"+55119{rng.randrange(10**8):08d}"],
                    address=Address(
                        street=f"Rua Exemplo {i + 1}",
                        number=str(rng.randrange(1, 2000)),
                        city="São Paulo",
                        state="SP",
                        lat=lat,
                        lng=lng,
                    ),
                    vehicles=[
                        NewVehicle(
                            plate=plate(rng),
                            model=rng.choice(("Gol", "Onix", "HB20", "Corolla", "Uno")),
                            year=rng.randrange(2008, 2026),
                            colour="prata",
                        )
                    ],
                )
            )
        )
    progress(f"{len(seen)} beneficiaries loaded; registering {providers} providers")
    made = await registry.register_many(records, demo_providers(rng, providers))
    return {
        "loaded": True,
        "client_id": client.id,
        "plan_id": plan.id,
        "beneficiaries": len(seen),
        "providers": len(made),
        "admin": {"login": ADMIN_LOGIN, "password": ADMIN_PASSWORD},
    }


# How the demo's people answer: after ANSWER_S seconds, ACCEPTED of the offers are taken
# with an ETA in ETA_MIN minutes; a job's steps follow each other after STEP_S seconds.
ANSWER_S = (3.0, 8.0)
ACCEPTED = 0.8
ETA_MIN = (8, 35)
STEP_S = {Step.DEPART: 5.0, Step.ARRIVE: 25.0, Step.START: 5.0, Step.COMPLETE: 40.0}


class Crew:
    """The people behind the demo's simulated apps: they answer app offers and report the
    steps of the jobs they took, through the dispatcher like a real app's frames."""

    def __init__(self, dispatcher: Dispatcher, records: Records, rng: random.Random) -> None:
        self.dispatcher = dispatcher
        self.records = records
        self.rng = rng
        self.answer_at: dict[int, float] = {}  # offer id -> when its provider answers
        self.jobs: dict[int, tuple[int, Step, float]] = {}  # attendance -> (provider, next, when)

    async def tick(self, simulated: set[int], now_s: float) -> None:
        await self._answer(simulated, now_s)
        await self._steps(now_s)

    async def _answer(self, simulated: set[int], now_s: float) -> None:
        far = now_ms() + 86_400_000
        for attendance_id in await self.records.dispatch.due(far, limit=1000):
            for offer in await self.records.dispatch.offers_of(attendance_id):
                mine = offer.mode is Channel.APP and offer.provider_id in simulated
                if offer.state is not OfferState.PENDING or not mine:
                    continue
                when = self.answer_at.setdefault(offer.id, now_s + self.rng.uniform(*ANSWER_S))
                if when <= now_s:
                    await self._answer_one(offer.id, offer.provider_id, attendance_id, now_s)

    async def _answer_one(
        self, offer_id: int, provider_id: int, attendance_id: int, now_s: float
    ) -> None:
        actor = f"provider:{provider_id}"
        try:
            if self.rng.random() < ACCEPTED:
                eta = self.rng.randint(*ETA_MIN)
                await self.dispatcher.accept(offer_id, provider_id, eta, actor)
                self.jobs[attendance_id] = (provider_id, Step.DEPART, now_s + STEP_S[Step.DEPART])
            else:
                reason = self.rng.choice(["busy", "too_far"])
                await self.dispatcher.refuse(offer_id, provider_id, reason, actor)
        except HubError as exc:  # taken by another, expired, withdrawn meanwhile
            log.info("demo: offer not answered", extra={"offer": offer_id, "err": exc.message})
        self.answer_at.pop(offer_id, None)

    async def _steps(self, now_s: float) -> None:
        for attendance_id, (provider_id, step, when) in list(self.jobs.items()):
            if when > now_s:
                continue
            del self.jobs[attendance_id]
            try:
                await self.dispatcher.step(
                    attendance_id, step, f"provider:{provider_id}", provider_id=provider_id
                )
            except HubError as exc:  # cancelled or reassigned meanwhile: the job is over
                log.info("demo: step not taken", extra={"step": step.value, "err": exc.message})
                continue
            following = list(STEP_S)
            if step is not following[-1]:
                after = following[following.index(step) + 1]
                self.jobs[attendance_id] = (provider_id, after, now_s + STEP_S[after])


async def simulate(
    matching: MatchService,
    feed: PositionFeed,
    crew: Crew | None = None,
    every_s: float = 2.0,
) -> None:
    """Move the app providers a few tens of metres per tick, online and on duty; with a
    ``crew``, their people answer offers and report steps."""
    rng = random.Random()
    while True:
        simulated = set()
        now = now_ms()
        for known in list(matching.known.values()):
            provider = known.provider
            if Channel.APP not in provider.profile.channels or not provider.active:
                continue
            here = matching.index.positions.get(provider.id)
            lat, lng = (here.lat, here.lng) if here else (provider.profile.base or CENTRE)
            if known.session_id is None:
                matching.session(provider.id, "demo", True)
                matching.duty(provider.id, True)
            if known.session_id == "demo":
                simulated.add(provider.id)
            feed.changed(
                LivePosition(
                    provider.id,
                    lat + rng.uniform(-3e-4, 3e-4),
                    lng + rng.uniform(-3e-4, 3e-4),
                    now,
                    now,
                )
            )
        if crew is not None:
            await crew.tick(simulated, time.monotonic())
        await asyncio.sleep(every_s)
