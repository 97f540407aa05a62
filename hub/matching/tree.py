"""The in-process spatial index: nearest eligible providers by H3 cell. Pure Python.

``ctree.pyx`` is this module compiled: the same cells, visited in the same order, with
the same answers; ``index.py`` picks it when it was built and falls back to this one
(~10 times slower) when it was not.

Each service has its own tree of H3 cells that grows where its providers are dense: a
cell is a leaf holding up to ``CAPACITY`` providers, and splits into its (at most seven)
children one resolution finer when it holds more, down to ``resolution``.  A dense
centre is thus walked in small cells and a rare service or a sparse outskirt in large
ones: a walk measures about as many providers as it needs, never crawling through empty
cells or through other services' providers.

A query is a best-first walk: cells come off a heap in order of a lower bound on the
distance from the origin to anything inside them (centre distance minus the cell's
*reach*); a leaf's providers go on the same heap with their exact distance, so they come
off it nearest first, and only then is ``accept`` asked about them: the walk ends at the
k-th provider accepted (or the radius), and no provider's eligibility is judged that a
nearer one would have displaced.  A caller's state flags (``set_state``) that a query
``exclude``s skip a provider without asking.  Positions and cell centres are unit vectors
(``sphere.py``): the chord between two orders exactly as their great-circle distance,
and the distance in metres follows from it with one ``asin`` per hit.

Reach is an upper bound on the chord from a cell's centre to any provider below it: a
leaf's covers the whole finest cell of every provider it has held, a parent's is the
largest centre-to-centre chord plus the child's reach.  It only ever grows, so it stays
valid as providers come and go; and since a provider's cell at each resolution is its
finest cell's ancestor (H3 children may stick out of their parent), every cell on its
path covers it.

Updates are O(1): a fix inside the provider's finest cell (~175 m across at resolution
9) moves its vector and touches no tree; a new finest cell grows its leaf's reach, or
moves it to another leaf.  Results are ordered by (distance, provider id): equal distances
break ties by id.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable, Iterable
from itertools import count
from typing import NamedTuple

import h3.api.basic_int as h3

from hub.matching.sphere import RADIANS, SLACK, Vector, arc_m, chord, chord_of, unit_vector

cos, sin, sqrt = math.cos, math.sin, math.sqrt

CAPACITY = 24  # providers in a leaf before it splits
DEPTH = 6  # the coarsest cells are this many resolutions above the finest
CELL, PROVIDER = 0, 1  # kinds of entry on a walk's frontier, in the order they go at a tie
CACHED_CELLS = 200_000  # finest cells' geometry kept, ~260 bytes each (dropped whole past this)


class Hit(NamedTuple):
    distance_m: float
    provider_id: int
    live: bool  # from live GPS, or from the base address


class Position(NamedTuple):
    lat: float
    lng: float
    leaf: int  # the finest cell: at the index's resolution
    live: bool


class _Node:
    """A cell of one service's tree: a leaf (``members``) or a parent (``children``)."""

    __slots__ = ("cell", "centre", "children", "members", "parent", "reach", "res")

    def __init__(self, cell: int, res: int, parent: _Node | None) -> None:
        self.cell = cell
        self.res = res
        self.parent = parent
        self.centre = unit_vector(*h3.cell_to_latlng(cell))
        self.reach = 0.0
        self.members: set[int] | None = set()
        self.children: dict[int, _Node] | None = None

    def grow(self, span: float) -> None:
        """Make the reach cover ``span`` (a chord) from the centre, and the ancestors'
        theirs."""
        node: _Node = self
        while span > node.reach:
            node.reach = span
            parent = node.parent
            if parent is None:
                return
            span = chord(parent.centre, node.centre) + node.reach
            node = parent


class _Tree:
    """One service's cells, and the leaf each of its providers is in."""

    __slots__ = ("leaf_of", "roots")

    def __init__(self) -> None:
        self.roots: dict[int, _Node] = {}
        self.leaf_of: dict[int, _Node] = {}


class SpatialIndex:
    def __init__(self, resolution: int = 9) -> None:
        if not DEPTH <= resolution <= 15:
            raise ValueError(f"leaf resolution must be {DEPTH}..15, got {resolution}")
        self.resolution = resolution
        self.top = resolution - DEPTH
        self.positions: dict[int, Position] = {}
        self.vectors: dict[int, Vector] = {}
        self.services: dict[int, frozenset[str]] = {}
        self.states: dict[int, int] = {}  # the caller's flags; a query may exclude some
        self.trees: dict[str, _Tree] = {}
        self._fine: dict[int, tuple[Vector, float]] = {}  # finest cell: centre, circumradius

    # --- updates -------------------------------------------------------------------------

    def set_services(self, provider_id: int, services: Iterable[str]) -> None:
        """(Re)index a provider under the services it offers."""
        new = frozenset(services)
        old = self.services.get(provider_id, frozenset())
        self.services[provider_id] = new
        if provider_id in self.positions:
            for service in old - new:
                self._leave(self.trees[service], provider_id)
            for service in new - old:
                self._enter(self._tree(service), provider_id, None)

    def set_state(self, provider_id: int, state: int) -> None:
        """A provider's state flags (bits 0-7, the caller's meaning): a query that
        ``exclude``s any of them skips the provider in the walk, with no ``accept``
        asked. The matching service flags what rules out every provider of some modes."""
        if not 0 <= state <= 255:
            raise ValueError(f"state flags are bits 0-7, got {state}")
        if state:
            self.states[provider_id] = state
        else:
            self.states.pop(provider_id, None)

    def move(self, provider_id: int, lat: float, lng: float, live: bool = True) -> None:
        """Set a provider's position: O(1), and no tree touched unless it changes its
        finest cell (every leaf's reach covers its members' finest cells whole)."""
        fine = h3.latlng_to_cell(lat, lng, self.resolution)
        positions = self.positions
        old = positions.get(provider_id)
        positions[provider_id] = Position(lat, lng, fine, live)
        phi, lam = lat * RADIANS, lng * RADIANS  # unit_vector, inlined on this per-fix path
        c = cos(phi)
        self.vectors[provider_id] = (c * cos(lam), c * sin(lam), sin(phi))
        if old is not None and old.leaf == fine:
            return
        finest = self.resolution
        for service in self.services.get(provider_id, ()):
            tree = self.trees.get(service) or self._tree(service)
            leaf = tree.leaf_of.get(provider_id)
            if leaf is None:
                self._enter(tree, provider_id, None)
            elif (fine if leaf.res == finest else h3.cell_to_parent(fine, leaf.res)) == leaf.cell:
                leaf.grow(self._covering(leaf, fine))
            else:
                self._relocate(tree, provider_id, leaf, fine)

    def remove(self, provider_id: int) -> None:
        if self.positions.pop(provider_id, None) is not None:
            for service in self.services.get(provider_id, ()):
                self._leave(self.trees[service], provider_id)
        self.vectors.pop(provider_id, None)
        self.services.pop(provider_id, None)
        self.states.pop(provider_id, None)

    def _tree(self, service: str) -> _Tree:
        tree = self.trees.get(service)
        if tree is None:
            tree = self.trees[service] = _Tree()
        return tree

    def _relocate(self, tree: _Tree, provider_id: int, old: _Node, fine: int) -> None:
        """Into the leaf of its new cell, searched from the nearest common ancestor."""
        anchor = old.parent
        while anchor is not None and h3.cell_to_parent(fine, anchor.res) != anchor.cell:
            anchor = anchor.parent
        self._enter(tree, provider_id, anchor)
        self._drop(tree, provider_id, old)

    def _enter(self, tree: _Tree, provider_id: int, node: _Node | None) -> None:
        """Put a provider in the leaf of its finest cell, descending from ``node`` (a cell
        that holds it) or from the top."""
        fine = self.positions[provider_id].leaf
        if node is None:
            cell = h3.cell_to_parent(fine, self.top)
            node = tree.roots.get(cell)
            if node is None:
                node = tree.roots[cell] = _Node(cell, self.top, None)
        while node.children is not None:
            res = node.res + 1
            cell = fine if res == self.resolution else h3.cell_to_parent(fine, res)
            child = node.children.get(cell)
            if child is None:
                child = node.children[cell] = _Node(cell, res, node)
            node = child
        self._put(tree, node, provider_id, fine)

    def _put(self, tree: _Tree, leaf: _Node, provider_id: int, fine: int) -> None:
        members = leaf.members
        assert members is not None
        members.add(provider_id)
        tree.leaf_of[provider_id] = leaf
        leaf.grow(self._covering(leaf, fine))
        if len(members) > CAPACITY and leaf.res < self.resolution:
            self._split(tree, leaf, members)

    def _split(self, tree: _Tree, leaf: _Node, members: set[int]) -> None:
        """A leaf past capacity becomes the parent of its members' cells one finer."""
        leaf.members, leaf.children = None, {}
        res = leaf.res + 1
        positions = self.positions
        for provider_id in members:
            fine = positions[provider_id].leaf
            cell = fine if res == self.resolution else h3.cell_to_parent(fine, res)
            child = leaf.children.get(cell)
            if child is None:
                child = leaf.children[cell] = _Node(cell, res, leaf)
            self._put(tree, child, provider_id, fine)

    def _covering(self, leaf: _Node, fine: int) -> float:
        """A chord from the leaf's centre that covers all of a finest cell."""
        bound = self._fine.get(fine)
        if bound is None:
            if len(self._fine) >= CACHED_CELLS:
                self._fine.clear()
            centre = unit_vector(*h3.cell_to_latlng(fine))
            vertices = (unit_vector(lat, lng) for lat, lng in h3.cell_to_boundary(fine))
            bound = self._fine[fine] = (centre, max(chord(centre, v) for v in vertices))
        centre, radius = bound
        return chord(leaf.centre, centre) + radius + SLACK

    def _leave(self, tree: _Tree, provider_id: int) -> None:
        self._drop(tree, provider_id, tree.leaf_of.pop(provider_id))

    def _drop(self, tree: _Tree, provider_id: int, leaf: _Node) -> None:
        """Take a provider out of a leaf; cells left empty leave the tree."""
        assert leaf.members is not None
        leaf.members.discard(provider_id)
        node: _Node | None = leaf
        while node is not None and not (node.members or node.children):
            parent = node.parent  # an empty cell leaves the tree, and so may its parent
            if parent is None:
                del tree.roots[node.cell]
            else:
                assert parent.children is not None
                del parent.children[node.cell]
            node = parent

    # --- queries -------------------------------------------------------------------------

    def nearest(
        self,
        service: str,
        lat: float,
        lng: float,
        k: int,
        radius_m: float,
        accept: Callable[[int], bool] | None = None,
        exclude: int = 0,
    ) -> list[Hit]:
        """Up to ``k`` providers of ``service`` within ``radius_m``, with none of the
        ``exclude`` state flags, that ``accept``, nearest first (ties by id)."""
        tree = self.trees.get(service)
        if tree is None or k <= 0:
            return []
        origin, vectors, states = unit_vector(lat, lng), self.vectors, self.states
        ox, oy, oz = origin
        heappush, heappop = heapq.heappush, heapq.heappop
        edge = chord_of(radius_m)
        near_edge = edge * (1 - 1e-9)  # past this, the radius is checked in metres
        bound = edge * (1 + 1e-9) + SLACK  # chords beyond cannot matter
        order = count()  # ties between cells: whichever came first
        # The frontier: cells as (bound, CELL, order, node), providers as (chord, PROVIDER,
        # id); at equal bounds cells come first, as one may hold a provider as near with a
        # lower id.
        frontier: list[tuple[float, int, int, _Node] | tuple[float, int, int]] = [
            (chord(origin, root.centre) - root.reach, CELL, next(order), root)
            for root in tree.roots.values()
        ]
        heapq.heapify(frontier)
        found: list[tuple[float, int]] = []
        while frontier and frontier[0][0] <= bound:
            entry = heappop(frontier)
            if entry[1] == PROVIDER:  # the nearest left: every other one is farther
                if accept is None or accept(entry[2]):
                    found.append((entry[0], entry[2]))
                    if len(found) == k:
                        break
                continue
            node = entry[3]  # type: ignore[misc]
            children = node.children
            if children is not None:
                for child in children.values():
                    low = chord(origin, child.centre) - child.reach
                    if low <= bound:
                        heappush(frontier, (low, CELL, next(order), child))
                continue
            assert node.members is not None
            for provider_id in node.members:
                if exclude and states.get(provider_id, 0) & exclude:
                    continue
                x, y, z = vectors[provider_id]
                dx, dy, dz = ox - x, oy - y, oz - z  # sphere.chord, inlined on the hot loop
                span = sqrt(dx * dx + dy * dy + dz * dz)
                if span <= bound and (span <= near_edge or arc_m(span) <= radius_m):
                    heappush(frontier, (span, PROVIDER, provider_id))
        positions = self.positions
        return [Hit(arc_m(c), pid, positions[pid].live) for c, pid in found]


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
    for provider_id, here in index.positions.items():
        if service not in index.services.get(provider_id, ()):
            continue
        span = chord(origin, unit_vector(here.lat, here.lng))
        if arc_m(span) <= radius_m and (accept is None or accept(provider_id)):
            found.append((span, provider_id))
    found.sort()
    return [Hit(arc_m(c), pid, index.positions[pid].live) for c, pid in found[:k]]
