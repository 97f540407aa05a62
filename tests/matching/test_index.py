"""The spatial index equals a brute-force reference: same filters, same order."""

from __future__ import annotations

import math
import random
from collections.abc import Mapping

import h3.api.basic_int as h3
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hub.matching import tree
from hub.matching.index import CAPACITY, SpatialIndex, brute_force
from hub.matching.sphere import unit_vector
from tests.conftest import need_compiled_index

SAO_PAULO = (-23.55, -46.63)
# A resolution-0 pentagon's centre (H3 has twelve): distortion is worst around them.
PENTAGON = h3.cell_to_latlng(h3.get_pentagons(0)[3])
SERVICES = ("taxi", "light_tow", "heavy_tow")


def offset(centre: tuple[float, float], dx_km: float, dy_km: float) -> tuple[float, float]:
    lat = centre[0] + dy_km / 111.2
    lng = centre[1] + dx_km / (111.2 * math.cos(math.radians(centre[0])))
    return max(-85.0, min(85.0, lat)), (lng + 180) % 360 - 180


def edge_points(centre: tuple[float, float], count: int) -> list[tuple[float, float]]:
    """Vertices and edge midpoints of cells near ``centre``: points on H3 cell edges."""
    points = []
    for cell in h3.grid_disk(h3.latlng_to_cell(*centre, 9), 2)[:count]:
        boundary = h3.cell_to_boundary(cell)
        points.extend(boundary[:2])
        (a, b), (c, d) = boundary[0], boundary[1]
        points.append(((a + c) / 2, (b + d) / 2))
    return points


@pytest.fixture(params=["pure", "compiled"])
def Index(request):
    """Each implementation of the index: the pure-Python tree and the compiled one."""
    if request.param == "pure":
        return tree.SpatialIndex
    need_compiled_index()
    return SpatialIndex


place = st.sampled_from([SAO_PAULO, PENTAGON, (0.0, 179.99), (60.0, 10.0)])
provider = st.tuples(
    st.floats(-30, 30),
    st.floats(-30, 30),  # km from the centre
    st.sets(st.sampled_from(SERVICES), min_size=1, max_size=2),
    st.booleans(),  # state a filter looks at
    st.integers(0, 7),  # state flags a query may exclude
    st.booleans(),  # flags set before the first position, or after
)


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    centre=place,
    providers=st.lists(provider, min_size=0, max_size=80),
    edge_count=st.integers(0, 6),
    query=st.tuples(st.floats(-30, 30), st.floats(-30, 30)),
    service=st.sampled_from(SERVICES),
    k=st.integers(1, 12),
    radius_km=st.floats(0.05, 80),
    filtered=st.booleans(),
    exclude=st.integers(0, 7),
)
def test_nearest_equals_brute_force(
    Index, centre, providers, edge_count, query, service, k, radius_km, filtered, exclude
):
    index = Index()
    flags: dict[int, bool] = {}
    states: dict[int, int] = {}
    for pid, (dx, dy, services, flag, state, early) in enumerate(providers, start=1):
        index.set_services(pid, services)
        if early:
            index.set_state(pid, state)
        index.move(pid, *offset(centre, dx, dy), live=flag)
        if not early:
            index.set_state(pid, state)
        flags[pid], states[pid] = flag, state
    base = len(providers) + 1
    for i, point in enumerate(edge_points(centre, edge_count)):
        index.set_services(base + i, {service})
        index.move(base + i, *point)
        flags[base + i], states[base + i] = True, 0
    accept = (lambda pid: flags[pid]) if filtered else None
    origin = offset(centre, *query)
    got = index.nearest(service, *origin, k, radius_km * 1000, accept, exclude)

    def reference(pid):  # the flags as this test set them, not as the index keeps them
        return not states[pid] & exclude and (accept is None or accept(pid))

    assert got == brute_force(index, service, *origin, k, radius_km * 1000, reference)


def _edge_midpoints() -> list[tuple[float, float]]:
    """Points on edges of H3's icosahedron: midway between neighbouring res-0 pentagons
    (its vertices), where cells are bent across two faces."""
    centres = [h3.cell_to_latlng(p) for p in h3.get_pentagons(0)]
    vectors = [unit_vector(*c) for c in centres]
    points = []
    for i, a in enumerate(vectors):
        for b in vectors[i + 1 :]:
            if math.dist(a, b) < 1.2:  # neighbours: 63.4 degrees apart
                m = [x + y for x, y in zip(a, b, strict=True)]
                norm = math.sqrt(sum(x * x for x in m))
                points.append(
                    (math.degrees(math.asin(m[2] / norm)), math.degrees(math.atan2(m[1], m[0])))
                )
    return points


EDGES = _edge_midpoints()


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    start=st.sampled_from([SAO_PAULO, PENTAGON, *EDGES[:6]]),
    resolution=st.sampled_from([6, 9, 12]),
    steps=st.lists(st.tuples(st.floats(-2, 2), st.floats(-2, 2)), min_size=1, max_size=30),
)
def test_the_cell_of_a_provider_is_the_one_h3_gives(Index, start, resolution, steps):
    """However a provider moves (the compiled tree skips H3 deep inside a cell), its
    finest cell is H3's: near pentagons and across the icosahedron's edges too."""
    index = Index(resolution)
    index.set_services(1, {"taxi"})
    edge_km = h3.average_hexagon_edge_length(resolution, "km")
    lat, lng = start
    for dx, dy in steps:  # in cell edges
        lat, lng = offset((lat, lng), dx * edge_km, dy * edge_km)
        index.move(1, lat, lng)
        assert index.positions[1].leaf == h3.latlng_to_cell(lat, lng, resolution)


def test_fixes_swarming_over_an_icosahedron_edge_land_in_h3s_cells(Index):
    rng = random.Random(5)
    index = Index()
    for pid, (lat, lng) in enumerate(EDGES, start=1):
        index.set_services(pid, {"taxi"})
        for _ in range(300):
            lat, lng = offset((lat, lng), rng.uniform(-0.2, 0.2), rng.uniform(-0.2, 0.2))
            index.move(pid, lat, lng)
            assert index.positions[pid].leaf == h3.latlng_to_cell(lat, lng, 9)


def test_ties_go_to_the_lower_id_and_the_radius_edge_is_included(Index):
    index = Index()
    here = SAO_PAULO
    there = offset(here, 1, 0)
    for pid in (7, 3, 5):
        index.set_services(pid, {"taxi"})
        index.move(pid, *there)
    hits = index.nearest("taxi", *here, 2, 50_000)
    assert [h.provider_id for h in hits] == [3, 5]
    exact = hits[0].distance_m
    assert [h.provider_id for h in index.nearest("taxi", *here, 5, exact)] == [3, 5, 7]
    assert index.nearest("taxi", *here, 5, exact - 0.001) == []


def test_moves_services_and_removal_keep_the_index_true(Index):
    rng = random.Random(7)
    index = Index()
    for pid in range(1, 301):
        index.set_services(pid, rng.sample(SERVICES, rng.randint(1, 2)))
        index.move(pid, *offset(SAO_PAULO, rng.uniform(-20, 20), rng.uniform(-20, 20)))
    for _ in range(2000):
        pid = rng.randint(1, 300)
        action = rng.random()
        if action < 0.8:
            index.move(
                pid,
                *offset(SAO_PAULO, rng.uniform(-20, 20), rng.uniform(-20, 20)),
                live=rng.random() < 0.5,
            )
        elif action < 0.9:
            index.set_services(pid, rng.sample(SERVICES, rng.randint(1, 2)))
        else:
            index.remove(pid)
            index.set_services(pid, [rng.choice(SERVICES)])
    for _ in range(50):
        origin = offset(SAO_PAULO, rng.uniform(-25, 25), rng.uniform(-25, 25))
        for service in SERVICES:
            assert index.nearest(service, *origin, 10, 30_000) == brute_force(
                index, service, *origin, 10, 30_000
            )


def test_a_rare_service_visits_few_cells(Index):
    """Thousands of taxis around one heavy tow: the heavy-tow walk never sees a taxi."""
    rng = random.Random(1)
    index = Index()
    for pid in range(1, 5001):
        index.set_services(pid, {"taxi"})
        index.move(pid, *offset(SAO_PAULO, rng.uniform(-30, 30), rng.uniform(-30, 30)))
    index.set_services(9999, {"heavy_tow"})
    index.move(9999, *offset(SAO_PAULO, 25, 25))
    seen: list[int] = []
    hits = index.nearest("heavy_tow", *SAO_PAULO, 10, 100_000, lambda p: seen.append(p) or True)
    assert [h.provider_id for h in hits] == [9999]
    assert seen == [9999]
    # one provider: one coarse leaf, never split
    assert [(n.res, n.members) for n in index.trees["heavy_tow"].roots.values()] == [
        (index.top, {9999})
    ]


def test_state_flags_exclude_in_the_walk_and_are_checked(Index):
    index = Index()
    for pid in (1, 2, 3):
        index.set_services(pid, {"taxi"})
        index.move(pid, *offset(SAO_PAULO, pid, 0))
    index.set_state(1, 0b01)
    index.set_state(2, 0b10)
    asked: list[int] = []
    hits = index.nearest("taxi", *SAO_PAULO, 5, 50_000, lambda p: asked.append(p) or True, 0b01)
    assert [h.provider_id for h in hits] == [2, 3]
    assert asked == [2, 3]  # provider 1 skipped without a call
    index.set_state(1, 0)
    index.move(2, *offset(SAO_PAULO, 2.01, 0))  # a fix keeps the flags
    assert [h.provider_id for h in index.nearest("taxi", *SAO_PAULO, 5, 50_000, None, 0b10)] == [
        1,
        3,
    ]
    index.remove(2)
    assert 2 not in index.states
    with pytest.raises(ValueError, match="bits 0-7"):
        index.set_state(1, 256)


def test_unknown_service_and_zero_k_find_nothing(Index):
    index = Index()
    index.set_services(1, {"taxi"})
    index.move(1, *SAO_PAULO)
    assert index.nearest("glazier", *SAO_PAULO, 5, 1000) == []
    assert index.nearest("taxi", *SAO_PAULO, 0, 1000) == []


def test_resolution_is_checked(Index):
    with pytest.raises(ValueError, match="resolution"):
        Index(resolution=3)


def test_dense_cells_split_and_empty_ones_leave_the_tree(Index):
    rng = random.Random(4)
    index = Index()
    for pid in range(1, 301):  # a crowd within a kilometre or so
        index.set_services(pid, {"taxi"})
        index.move(pid, *offset(SAO_PAULO, rng.uniform(-1, 1), rng.uniform(-1, 1)))
    tree = index.trees["taxi"]
    leaves = set(tree.leaf_of.values())
    assert {pid for leaf in leaves for pid in leaf.members} == set(range(1, 301))
    assert all(len(leaf.members) <= CAPACITY or leaf.res == index.resolution for leaf in leaves)
    assert max(leaf.res for leaf in leaves) > index.top  # it split
    for pid in range(1, 301):  # everyone drives away, one by one
        index.move(pid, *offset(SAO_PAULO, 25, 25))
    # the cells they left are gone: one branch down to the cell they all are in now
    assert [n.res for n in _nodes(tree.roots.values())] == list(range(index.top, 10))
    for pid in range(1, 301):
        index.remove(pid)
    assert tree.roots == {} and tree.leaf_of == {}


def _nodes(nodes):
    for node in nodes:
        yield node
        yield from _nodes((node.children or {}).values())


def test_positions_read_like_a_mapping(Index):
    index = Index()
    for pid in (4, 2):
        index.set_services(pid, {"taxi"})
        index.move(pid, *offset(SAO_PAULO, pid, 0), live=pid == 2)
    positions = index.positions
    assert isinstance(positions, Mapping)
    assert len(positions) == 2 and set(positions) == set(positions.keys()) == {2, 4}
    assert 2 in positions and 3 not in positions
    assert positions.get(3) is None and positions.get(3, "none") == "none"
    two = positions[2]
    assert (two.lat, two.lng, two.live) == (*offset(SAO_PAULO, 2, 0), True)
    assert two.leaf == h3.latlng_to_cell(two.lat, two.lng, index.resolution)
    assert dict(positions.items()) == {2: two, 4: positions[4]}
    with pytest.raises(KeyError):
        positions[3]
    index.remove(2)
    assert 2 not in positions and positions.get(2) is None


def test_a_query_from_inside_accept_is_answered(Index):
    index = Index()
    for pid in (1, 2, 3):
        index.set_services(pid, {"taxi"})
        index.move(pid, *offset(SAO_PAULO, pid, 0))

    def accept(pid):  # asks the index again, as a predicate might
        return len(index.nearest("taxi", *SAO_PAULO, 1, 50_000)) == 1 and pid != 2

    assert [h.provider_id for h in index.nearest("taxi", *SAO_PAULO, 3, 50_000, accept)] == [1, 3]


def test_changing_the_index_from_inside_accept_is_refused():
    need_compiled_index()  # the compiled walk borrows the index's arrays: it must know
    index = SpatialIndex()
    for pid in (1, 2):
        index.set_services(pid, {"taxi"})
        index.move(pid, *offset(SAO_PAULO, pid, 0))

    def accept(pid):
        index.move(2, *offset(SAO_PAULO, 30, 30))
        return False

    with pytest.raises(RuntimeError, match="changed during a query"):
        index.nearest("taxi", *SAO_PAULO, 2, 50_000, accept)
    assert [h.provider_id for h in index.nearest("taxi", *SAO_PAULO, 2, 50_000)] == [1, 2]
