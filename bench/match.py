"""``python -m bench match``: k nearest eligible providers, the index against its rivals.

100,000 providers in a ~70 x 70 km metro area (uniform, and a clustered variant), a mix of
services and states (off duty, engaged, offline: flags the index keeps, as the hub's
matching service sets them); k = 10 eligible queries for common services, for a rare service
(heavy tow) and from sparse outskirts.  On the same data and in the same run: a redis-py
GEOSEARCH round trip to the local Redis (COUNT k ASC, the radius that yields k) and a
numpy brute force, which also checks every answer (``mismatches_vs_bruteforce``).
"""

from __future__ import annotations

import math
import random
import time
from typing import Any

import numpy as np
import redis

from bench.common import REDIS_URL, percentile, say
from hub.geo import EARTH_RADIUS_M
from hub.matching.eligibility import Flag, excluded
from hub.matching.index import SpatialIndex
from hub.operations.providers import Channel

CENTRE = (-23.55, -46.63)  # São Paulo
HALF_KM = 35.0
SERVICES = (
    ("taxi", 0.45),
    ("light_tow", 0.30),
    ("locksmith", 0.10),
    ("tyre_change", 0.08),
    ("battery_jump", 0.05),
    ("heavy_tow", 0.02),
)
K = 10
RADIUS_M = 50_000.0
FOR_THE_APP = excluded([Channel.APP])  # the flags that rule a provider out of an app offer


def offset(dx_km: float, dy_km: float) -> tuple[float, float]:
    lat = CENTRE[0] + dy_km / 111.2
    return lat, CENTRE[1] + dx_km / (111.2 * math.cos(math.radians(CENTRE[0])))


class World:
    """Providers, their services and states, as the index and as numpy arrays."""

    def __init__(self, count: int, clustered: bool, seed: int = 1) -> None:
        rng = random.Random(seed)
        hubs = [(rng.uniform(-25, 25), rng.uniform(-25, 25)) for _ in range(25)]
        names = [name for name, _ in SERVICES]
        weights = [share for _, share in SERVICES]
        self.lat = np.empty(count)
        self.lng = np.empty(count)
        self.service = np.empty(count, dtype=np.int8)
        self.flags = np.zeros(count, dtype=np.int8)  # off duty, engaged, no session
        for pid in range(count):
            if clustered and rng.random() < 0.8:
                hx, hy = rng.choice(hubs)
                dx, dy = rng.gauss(hx, 3), rng.gauss(hy, 3)
            else:
                dx, dy = rng.uniform(-HALF_KM, HALF_KM), rng.uniform(-HALF_KM, HALF_KM)
            dx, dy = max(-HALF_KM, min(HALF_KM, dx)), max(-HALF_KM, min(HALF_KM, dy))
            self.lat[pid], self.lng[pid] = offset(dx, dy)
            self.service[pid] = names.index(rng.choices(names, weights)[0])
            for flag, share in ((Flag.OFF_DUTY, 0.2), (Flag.ENGAGED, 0.1), (Flag.NO_SESSION, 0.3)):
                if rng.random() < share:
                    self.flags[pid] |= flag
        self.ok = self.flags == 0  # eligible for an app offer: on duty, free, online
        self.names = names

    def index(self) -> SpatialIndex:
        index = SpatialIndex()
        for pid in range(len(self.lat)):
            index.set_services(pid, {self.names[self.service[pid]]})
            index.move(pid, float(self.lat[pid]), float(self.lng[pid]))
            index.set_state(pid, int(self.flags[pid]))
        return index

    def brute(self, service: str, lat: float, lng: float) -> tuple[np.ndarray, np.ndarray]:
        """Ids and distances of the k nearest eligible, by the same haversine."""
        p1, p2 = math.radians(lat), np.radians(self.lat)
        h = (
            np.sin((p2 - p1) / 2) ** 2
            + math.cos(p1) * np.cos(p2) * np.sin(np.radians(self.lng - lng) / 2) ** 2
        )
        d = 2 * EARTH_RADIUS_M * np.arcsin(np.minimum(1.0, np.sqrt(h)))
        mask = (self.service == self.names.index(service)) & self.ok & (d <= RADIUS_M)
        ids = np.flatnonzero(mask)
        order = np.lexsort((ids, d[ids]))[:K]
        return ids[order], d[ids][order]


def queries(rng: random.Random, count: int) -> list[tuple[str, float, float, str]]:
    made = []
    for _ in range(count):
        kind = rng.random()
        if kind < 0.1:  # a rare service
            made.append(("heavy_tow", *offset(rng.uniform(-30, 30), rng.uniform(-30, 30)), "rare"))
        elif kind < 0.2:  # a sparse outskirt, near the edge of the area
            side = rng.choice((-1, 1)) * rng.uniform(32, 35)
            made.append(("taxi", *offset(side, rng.uniform(-35, 35)), "outskirt"))
        else:
            service = rng.choice(("taxi", "light_tow", "locksmith"))
            made.append((service, *offset(rng.uniform(-30, 30), rng.uniform(-30, 30)), "common"))
    return made


def run_variant(clustered: bool, quick: bool, client: redis.Redis) -> dict[str, Any]:
    count = 20_000 if quick else 100_000
    say(f"{'clustered' if clustered else 'uniform'}: building {count} providers")
    world = World(count, clustered)
    started = time.perf_counter()
    index = world.index()
    say(f"index built in {time.perf_counter() - started:.1f} s")
    rng = random.Random(2)
    asked = queries(rng, 300 if quick else 2000)
    timings, by_kind = [], {"common": [], "rare": [], "outskirt": []}
    for service, lat, lng, kind in asked:
        t0 = time.perf_counter()
        index.nearest(service, lat, lng, K, RADIUS_M, None, FOR_THE_APP)
        spent = (time.perf_counter() - t0) * 1e6
        timings.append(spent)
        by_kind[kind].append(spent)
    # The same queries with the states judged by a Python predicate, as the hub judges
    # its other rules, instead of by the index's flags: what each call costs.
    by_predicate = []
    accept = world.ok.tolist().__getitem__
    for service, lat, lng, _ in asked:
        t0 = time.perf_counter()
        index.nearest(service, lat, lng, K, RADIUS_M, accept)
        by_predicate.append((time.perf_counter() - t0) * 1e6)
    # The answers are checked from a third, untimed pass: kept from a timed one, they
    # would set the garbage collector off inside it (a collection every ~60 queries).
    answers = [
        index.nearest(service, lat, lng, K, RADIUS_M, None, FOR_THE_APP)
        for service, lat, lng, _ in asked
    ]
    mismatches = 0
    checked = min(len(asked), 1000)
    brute_times = []
    for (service, lat, lng, _), hits in zip(asked[:checked], answers, strict=False):
        t0 = time.perf_counter()
        ids, dists = world.brute(service, lat, lng)
        brute_times.append((time.perf_counter() - t0) * 1e6)
        ours = [(h.provider_id, h.distance_m) for h in hits]
        theirs = list(zip(ids.tolist(), dists.tolist(), strict=True))
        if len(ours) != len(theirs) or any(
            a != b and abs(da - db) > 1e-6 for (a, da), (b, db) in zip(ours, theirs, strict=True)
        ):
            mismatches += 1
    redis_times = geosearch(world, client, asked, answers, quick)
    moves = [
        (rng.randrange(count), rng.uniform(-0.05, 0.05), rng.uniform(-0.05, 0.05))
        for _ in range(50_000 if quick else 200_000)
    ]
    t0 = time.perf_counter()
    for pid, dx, dy in moves:
        here = index.positions[pid]
        index.move(pid, here.lat + dy / 111.2, here.lng + dx / 111.2)
    updates_per_s = len(moves) / (time.perf_counter() - t0)
    return {
        "match_p50_us": round(percentile(timings, 0.5), 1),
        "match_p99_us": round(percentile(timings, 0.99), 1),
        "common_p50_us": round(percentile(by_kind["common"], 0.5), 1),
        "rare_p50_us": round(percentile(by_kind["rare"], 0.5), 1),
        "outskirt_p50_us": round(percentile(by_kind["outskirt"], 0.5), 1),
        "by_predicate_p50_us": round(percentile(by_predicate, 0.5), 1),
        "by_predicate_p99_us": round(percentile(by_predicate, 0.99), 1),
        "redis_geosearch_p50_us": round(percentile(redis_times, 0.5), 1),
        "bruteforce_p50_us": round(percentile(brute_times, 0.5), 1),
        "index_updates_per_s": round(updates_per_s),
        "mismatches_vs_bruteforce": mismatches,
        "checked_queries": checked,
    }


def geosearch(
    world: World, client: redis.Redis, asked: list[Any], answers: list[Any], quick: bool
) -> list[float]:
    """One GEO set per service; each query asks for k with the radius that yields them."""
    key = f"bench:geo:{random.getrandbits(32):x}"
    pipe = client.pipeline(transaction=False)
    for pid in range(len(world.lat)):
        name = world.names[world.service[pid]]
        pipe.geoadd(f"{key}:{name}", (float(world.lng[pid]), float(world.lat[pid]), pid))
    pipe.execute()
    times = []
    try:
        for (service, lat, lng, _), hits in zip(asked, answers, strict=True):
            radius = (hits[-1].distance_m if hits else RADIUS_M) + 1
            t0 = time.perf_counter()
            client.geosearch(
                f"{key}:{service}",
                longitude=lng,
                latitude=lat,
                radius=radius,
                unit="m",
                count=K,
                sort="ASC",
            )
            times.append((time.perf_counter() - t0) * 1e6)
    finally:
        client.delete(*(f"{key}:{name}" for name in world.names))
    return times


def main(quick: bool) -> dict[str, Any]:
    client = redis.Redis.from_url(REDIS_URL)
    uniform = run_variant(False, quick, client)
    clustered = run_variant(True, quick, client)
    client.close()
    p99 = max(uniform["match_p99_us"], clustered["match_p99_us"])
    redis_p50 = min(uniform["redis_geosearch_p50_us"], clustered["redis_geosearch_p50_us"])
    return {
        "scenario": "match",
        "providers": 20_000 if quick else 100_000,
        "k": K,
        "match_p50_us": uniform["match_p50_us"],
        "match_p99_us": p99,
        "redis_geosearch_p50_us": redis_p50,
        "ratio_p99_vs_redis_p50": round(p99 / redis_p50, 3),
        "bruteforce_p50_us": uniform["bruteforce_p50_us"],
        "index_updates_per_s": min(
            uniform["index_updates_per_s"], clustered["index_updates_per_s"]
        ),
        "mismatches_vs_bruteforce": uniform["mismatches_vs_bruteforce"]
        + clustered["mismatches_vs_bruteforce"],
        "uniform": uniform,
        "clustered": clustered,
    }
