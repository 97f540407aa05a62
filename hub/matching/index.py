"""The in-process spatial index: nearest eligible providers by H3 cell. Pure.

Each service has its own tree of occupied H3 cells: roots at ``resolution - 6``, a level
per resolution (each cell has at most seven children: a walk measures few it does not
need), and leaves at ``resolution`` holding provider ids.  A query is a best-first walk:
cells come off a heap in order of a lower bound on the distance from the origin to
anything inside them (centre distance minus the cell's *reach*), providers in a leaf are
measured exactly, and the walk stops once the next bound exceeds the k-th best distance
or the radius.  Positions and cell centres are kept as unit vectors: the chord between
two orders exactly as their great-circle distance, ``math.dist`` measures it in C, and
the great-circle distance follows from it with one ``asin``.  Only cells occupied by the
service are ever visited, so a rare service or a sparse outskirt costs a few coarse
cells, not a crawl through empty ones.

Reach is an upper bound on the chord from a cell's centre to any point of its occupied
descendants: a leaf's is its circumradius (its farthest vertex), a parent's the largest
centre-to-centre distance plus the child's reach.  It only ever grows, so it stays valid
as providers come and go (H3 children may stick out of their parent; reach covers that).

Results are ordered by (distance, provider id): equal distances break ties by id.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable, Iterable
from itertools import pairwise
from typing import NamedTuple

import h3.api.basic_int as h3

from hub.geo import EARTH_RADIUS_M

SLACK = 1.0 / EARTH_RADIUS_M  # float error in bounds (1 m as a chord), far below any that matters


Vector = tuple[float, float, float]


RADIANS = math.pi / 180


def unit_vector(lat: float, lng: float, cos: Callable[[float], float] = math.cos) -> Vector:
    """A position as a unit vector: chords between them order as great-circle distances,
    and ``math.dist`` measures a chord in C.  (On every fix: hence the bound ``cos``.)"""
    phi, lam = lat * RADIANS, lng * RADIANS
    c = cos(phi)
    return (c * cos(lam), c * math.sin(lam), math.sin(phi))


def arc_m(chord: float) -> float:
    """The great-circle distance, in metres, of a chord of the unit sphere."""
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, chord / 2))


def chord_of(distance_m: float) -> float:
    """The chord of the unit sphere a great-circle distance spans (at most 2)."""
    return 2 * math.sin(min(distance_m / (2 * EARTH_RADIUS_M), math.pi / 2))


class Hit(NamedTuple):
    distance_m: float
    provider_id: int
    live: bool  # from live GPS, or from the base address


class Position(NamedTuple):
    lat: float
    lng: float
    leaf: int
    live: bool


class _Tree:
    """One service's occupied cells."""

    __slots__ = ("children", "reach", "roots")

    def __init__(self) -> None:
        self.children: dict[int, set[int]] = {}  # node -> occupied children; leaf -> ids
        self.reach: dict[int, float] = {}
        self.roots: set[int] = set()


class SpatialIndex:
    def __init__(self, resolution: int = 9) -> None:
        if not 6 <= resolution <= 15:
            raise ValueError(f"leaf resolution must be 6..15, got {resolution}")
        self.resolution = resolution
        self.levels = tuple(range(resolution - 6, resolution + 1))
        self.positions: dict[int, Position] = {}
        self.vectors: dict[int, Vector] = {}
        self.services: dict[int, frozenset[str]] = {}
        self.trees: dict[str, _Tree] = {}
        self._centres: dict[int, Vector] = {}
        self._radius: dict[int, float] = {}  # leaf circumradius
        self._chains: dict[int, tuple[int, ...]] = {}  # leaf -> (leaf, ancestors...)

    # --- updates -------------------------------------------------------------------------

    def set_services(self, provider_id: int, services: Iterable[str]) -> None:
        """(Re)index a provider under the services it offers."""
        new = frozenset(services)
        old = self.services.get(provider_id, frozenset())
        position = self.positions.get(provider_id)
        if position is not None:
            for service in old - new:
                self._leave(service, provider_id, position.leaf)
            for service in new - old:
                self._enter(service, provider_id, position.leaf)
        self.services[provider_id] = new

    def move(self, provider_id: int, lat: float, lng: float, live: bool = True) -> None:
        """Set a provider's position: O(1) unless it changes leaf cell."""
        leaf = h3.latlng_to_cell(lat, lng, self.resolution)
        positions = self.positions
        old = positions.get(provider_id)
        positions[provider_id] = Position(lat, lng, leaf, live)
        self.vectors[provider_id] = unit_vector(lat, lng)
        if old is not None and old.leaf == leaf:
            return
        for service in self.services.get(provider_id, ()):
            if old is not None:
                self._leave(service, provider_id, old.leaf)
            self._enter(service, provider_id, leaf)

    def remove(self, provider_id: int) -> None:
        position = self.positions.pop(provider_id, None)
        self.vectors.pop(provider_id, None)
        if position is not None:
            for service in self.services.get(provider_id, ()):
                self._leave(service, provider_id, position.leaf)
        self.services.pop(provider_id, None)

    def _chain(self, leaf: int) -> tuple[int, ...]:
        """The leaf and its ancestors at the tree's levels, leaf first (cached per leaf)."""
        chain = self._chains.get(leaf)
        if chain is None:
            parents = (h3.cell_to_parent(leaf, r) for r in reversed(self.levels[:-1]))
            chain = self._chains[leaf] = (leaf, *parents)
        return chain

    def _enter(self, service: str, provider_id: int, leaf: int) -> None:
        tree = self.trees.get(service)
        if tree is None:
            tree = self.trees[service] = _Tree()
        occupants = tree.children.get(leaf)
        if occupants is not None:  # the leaf is already in the tree: nothing else changes
            occupants.add(provider_id)
            return
        chain = self._chain(leaf)
        member = provider_id
        for cell in chain:
            siblings = tree.children.get(cell)
            if siblings is not None:  # its ancestors are in the tree already
                siblings.add(member)
                break
            tree.children[cell] = {member}
            member = cell
        else:
            tree.roots.add(chain[-1])
        # reach grows upward from the leaf
        reach = self._leaf_radius(leaf)
        tree.reach[leaf] = reach
        for child, parent in pairwise(chain):
            bound = self._between(parent, child) + reach
            if bound <= tree.reach.get(parent, -1.0):
                break
            tree.reach[parent] = reach = bound

    def _leave(self, service: str, provider_id: int, leaf: int) -> None:
        tree = self.trees[service]
        member = provider_id
        for cell in self._chain(leaf):
            siblings = tree.children[cell]
            siblings.discard(member)
            if siblings:
                return
            del tree.children[cell]
            member = cell
        tree.roots.discard(member)

    # --- geometry (cached per cell) ------------------------------------------------------

    def _centre(self, cell: int) -> Vector:
        centre = self._centres.get(cell)
        if centre is None:
            centre = self._centres[cell] = unit_vector(*h3.cell_to_latlng(cell))
        return centre

    def _between(self, a: int, b: int) -> float:
        return math.dist(self._centre(a), self._centre(b))

    def _leaf_radius(self, leaf: int) -> float:
        """The chord from the leaf's centre to its farthest vertex, and a little more."""
        radius = self._radius.get(leaf)
        if radius is None:
            centre = self._centre(leaf)
            vertices = (unit_vector(lat, lng) for lat, lng in h3.cell_to_boundary(leaf))
            radius = self._radius[leaf] = max(math.dist(centre, v) for v in vertices) + SLACK
        return radius

    # --- queries -------------------------------------------------------------------------

    def nearest(
        self,
        service: str,
        lat: float,
        lng: float,
        k: int,
        radius_m: float,
        accept: Callable[[int], bool] | None = None,
    ) -> list[Hit]:
        """Up to ``k`` providers of ``service`` within ``radius_m`` that ``accept``,
        nearest first (ties by id)."""
        tree = self.trees.get(service)
        if tree is None or k <= 0:
            return []
        children, reach, centres, vectors = tree.children, tree.reach, self._centres, self.vectors
        origin = unit_vector(lat, lng)
        dist, heappush, heappop = math.dist, heapq.heappush, heapq.heappop
        leaf_level = len(self.levels) - 1
        edge = chord_of(radius_m)
        near_edge = edge * (1 - 1e-9)  # past this, the radius is checked in metres
        bound = edge * (1 + 1e-9) + SLACK  # chords beyond cannot matter (shrinks to the k-th)
        heap = [(dist(origin, centres[root]) - reach[root], 0, root) for root in tree.roots]
        heapq.heapify(heap)
        best: list[tuple[float, int]] = []  # max-heap of the k best as (-chord, -id)
        while heap and heap[0][0] <= bound:
            _, level, cell = heappop(heap)
            if level < leaf_level:
                level += 1
                for child in children[cell]:
                    low = dist(origin, centres[child]) - reach[child]
                    if low <= bound:
                        heappush(heap, (low, level, child))
                continue
            for provider_id in children[cell]:
                chord = dist(origin, vectors[provider_id])
                if chord > bound:
                    continue
                if len(best) == k and (chord, provider_id) >= (-best[0][0], -best[0][1]):
                    continue
                if chord > near_edge and arc_m(chord) > radius_m:
                    continue
                if accept is not None and not accept(provider_id):
                    continue
                if len(best) == k:
                    heapq.heapreplace(best, (-chord, -provider_id))
                else:
                    heappush(best, (-chord, -provider_id))
                if len(best) == k:
                    bound = -best[0][0]
        ordered = sorted((-nc, -npid) for nc, npid in best)
        positions = self.positions
        return [Hit(arc_m(c), pid, positions[pid].live) for c, pid in ordered]


def brute_force(
    index: SpatialIndex,
    service: str,
    lat: float,
    lng: float,
    k: int,
    radius_m: float,
    accept: Callable[[int], bool] | None = None,
) -> list[Hit]:
    """The reference: every provider of the service measured, same filters and order."""
    origin = unit_vector(lat, lng)
    found = []
    for provider_id in index.positions:
        if service not in index.services.get(provider_id, ()):
            continue
        chord = math.dist(origin, index.vectors[provider_id])
        if arc_m(chord) <= radius_m and (accept is None or accept(provider_id)):
            found.append((chord, provider_id))
    found.sort()
    return [Hit(arc_m(c), pid, index.positions[pid].live) for c, pid in found[:k]]
