# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""The spatial index of ``tree.py``, compiled: the same cells, the same walk, the same
answers to the last bit (the same property tests run against both), at C speed.

Read ``tree.py`` for the idea; this file follows it method by method.  What differs is
where things live.  The walk is bound by memory, not by arithmetic: each cache miss
costs as much as measuring a hundred providers.  So what it reads sits in one C array
per cell, a leaf's members (unit vector, id, live flag) or a parent's children (centre,
reach, and the child's own array and count); an entry on the frontier carries the array
of its cell, so a walk reads a few contiguous arrays and never a node object, and the
arrays of the cells it pushes are fetched ahead, while it works on nearer ones.  The
frontier holds runs (a cell's entries, sorted) rather than entries.

Updates differ in two shortcuts: a provider's ``Position`` is read off its record (one
table per fix), and a fix well inside its finest cell (``_Cell.inner``) is known to be
in it without asking H3.
"""

from cpython.object cimport PyTypeObject
from cpython.ref cimport Py_INCREF, PyObject
from cpython.tuple cimport PyTuple_SET_ITEM
from libc.math cimport M_PI, asin, cos, sin, sqrt
from libc.stdlib cimport free, qsort, realloc

from collections.abc import Mapping

import h3.api.basic_int as h3

from hub.geo import EARTH_RADIUS_M
from hub.matching.sphere import SLACK as _SLACK
from hub.matching.tree import CACHED_CELLS as _CACHED_CELLS
from hub.matching.tree import CAPACITY as _CAPACITY
from hub.matching.tree import DEPTH as _DEPTH
from hub.matching.tree import Hit, Position

cdef double RADIUS = EARTH_RADIUS_M
cdef double RADIANS = M_PI / 180
cdef double SLACK = _SLACK
cdef Py_ssize_t CAPACITY = _CAPACITY
cdef int DEPTH = _DEPTH
cdef Py_ssize_t CACHED_CELLS = _CACHED_CELLS


cdef extern from *:
    void prefetch "__builtin_prefetch" (const void* address) noexcept nogil


cdef extern from "Python.h":
    object PyType_GenericAlloc(PyTypeObject* type, Py_ssize_t items)


cdef inline double _chord(double ax, double ay, double az,
                          double bx, double by, double bz) noexcept nogil:
    """``sphere.chord``, the same operations in the same order."""
    cdef double dx = ax - bx, dy = ay - by, dz = az - bz
    return sqrt(dx * dx + dy * dy + dz * dz)


cdef inline double _arc_m(double c) noexcept nogil:
    """``sphere.arc_m``."""
    cdef double half = c / 2
    return 2 * RADIUS * asin(half if half < 1.0 else 1.0)


cdef inline double _chord_of(double distance_m) noexcept nogil:
    """``sphere.chord_of``."""
    cdef double angle = distance_m / (2 * RADIUS)
    return 2 * sin(angle if angle <= M_PI / 2 else M_PI / 2)


cdef inline void _put(object fields, Py_ssize_t i, object value):
    Py_INCREF(value)  # SET_ITEM steals a reference
    PyTuple_SET_ITEM(fields, i, value)


cdef void* _resized(void* block, size_t size) except NULL:
    """``realloc``, raising MemoryError where it fails (the block stays as it was)."""
    cdef void* grown = realloc(block, size)
    if grown is NULL:
        raise MemoryError()
    return grown


cdef object _hit(double distance_m, long long key, bint live):
    """A ``Hit``, made the way C makes a tuple (its Python-level ``__new__`` would cost
    more than the walk)."""
    cdef object hit = PyType_GenericAlloc(<PyTypeObject*>Hit, 3)
    _put(hit, 0, distance_m)
    _put(hit, 1, key)
    _put(hit, 2, True if live else False)
    return hit


cdef object _position(double lat, double lng, object fine, bint live):
    """A ``Position``, made the same way."""
    cdef object position = PyType_GenericAlloc(<PyTypeObject*>Position, 4)
    _put(position, 0, lat)
    _put(position, 1, lng)
    _put(position, 2, fine)
    _put(position, 3, True if live else False)
    return position


cdef double INNER_SHARE = 0.9  # of the inradius: a margin for cells bent across H3's faces


cdef _Point _corner(double lat, double lng):
    cdef _Point corner = _Point()
    corner.place(lat, lng)
    return corner


cdef double _to_great_circle(_Point p, _Point a, _Point b):
    """The chord from ``p`` to the great circle through ``a`` and ``b`` (an edge of an H3
    cell: edges are straight on H3's gnomonic faces, so arcs of great circles)."""
    cdef double nx = a.y * b.z - a.z * b.y, ny = a.z * b.x - a.x * b.z
    cdef double nz = a.x * b.y - a.y * b.x
    cdef double sine = abs(p.x * nx + p.y * ny + p.z * nz) / sqrt(nx * nx + ny * ny + nz * nz)
    return 2 * sin(asin(sine) / 2)


cdef class _Point:
    """A unit vector: a provider's, or a cell centre's (with the cell's circumradius)."""
    cdef double x, y, z, r

    cdef void place(self, double lat, double lng) noexcept:
        cdef double phi = lat * RADIANS, lam = lng * RADIANS
        cdef double c = cos(phi)
        self.x, self.y, self.z = c * cos(lam), c * sin(lam), sin(phi)

    cdef inline double to(self, _Point other) noexcept:
        return _chord(self.x, self.y, self.z, other.x, other.y, other.z)


cdef struct Member:  # a leaf's copy of what the walk reads of a provider
    double x, y, z
    long long key
    char live
    unsigned char state


cdef struct Kid:  # a parent's copy of what the walk reads of a child cell
    double x, y, z, reach
    void* data  # the child's array: its members, or its children
    Py_ssize_t count
    char leaf
    PyObject* node  # borrowed: the parent's ``_children`` owns it


cdef class _Cell(_Point):
    """A finest cell's centre, its circumradius ``r`` and ``inner``: a chord from the
    centre within which every point is surely in this cell (0 where unsure)."""
    cdef double inner


cdef class _Provider(_Point):
    """A provider, as its latest fix left it; the leaves it is in copy its vector."""
    cdef object pid  # the id as given
    cdef long long key  # the same, in C
    cdef double lat, lng
    cdef object fine  # finest cell
    cdef _Cell cell  # and its geometry
    cdef bint live
    cdef unsigned char state
    cdef _Node leaf  # the leaf of its first service's tree
    cdef list others  # of the others' trees, if any

    cdef object position(self):
        return _position(self.lat, self.lng, self.fine, self.live)

    cdef void copy_to_leaves(self) noexcept:
        """A fix that stays in its finest cell: the leaves' copies, and nothing else."""
        cdef _Node leaf = self.leaf
        if leaf is not None:
            leaf.set_member(leaf.find(self.key), self)
            if self.others:
                for leaf in self.others:
                    leaf.set_member(leaf.find(self.key), self)

    cdef int joined(self, _Node leaf) except -1:
        if self.leaf is None:
            self.leaf = leaf
        elif self.others is None:
            self.others = [leaf]
        else:
            self.others.append(leaf)
        return 0

    cdef int left(self, _Node leaf) except -1:
        if self.leaf is leaf:
            self.leaf = self.others.pop() if self.others else None
        else:
            self.others.remove(leaf)
        return 0


cdef class _Positions:
    """``SpatialIndex.positions``: each provider's ``Position``, read off its record (one
    table to update per fix, not two)."""
    cdef dict _records

    def __getitem__(self, provider_id):
        return (<_Provider>self._records[provider_id]).position()

    def get(self, provider_id, default=None):
        cdef _Provider record = self._records.get(provider_id)
        return default if record is None else record.position()

    def __contains__(self, provider_id):
        return provider_id in self._records

    def __iter__(self):
        return iter(self._records)

    def __len__(self):
        return len(self._records)

    def keys(self):
        return self._records.keys()

    def values(self):
        return [(<_Provider>record).position() for record in self._records.values()]

    def items(self):
        return [(pid, (<_Provider>record).position()) for pid, record in self._records.items()]


Mapping.register(_Positions)


cdef class _Node(_Point):
    """A cell of one service's tree: a leaf (``members_``), or a parent (``kids``, and
    ``_children`` by cell) once it split.  Its parent keeps a copy of what a walk needs
    of it (``Kid``), brought up to date by ``sync``."""
    cdef readonly object cell
    cdef readonly int res
    cdef readonly _Node parent
    cdef readonly double reach
    cdef Py_ssize_t slot  # its place in its parent's ``kids``
    cdef dict _children  # cell -> _Node (owns them); None for a leaf
    cdef Kid* kids
    cdef Member* members_
    cdef Py_ssize_t count, room  # members of a leaf, children of a parent

    def __cinit__(self, object cell, int res, _Node parent):
        self.cell, self.res, self.parent = cell, res, parent
        lat, lng = h3.cell_to_latlng(cell)
        self.place(lat, lng)

    def __dealloc__(self):
        free(self.kids)
        free(self.members_)

    @property
    def members(self):
        if self._children is not None:
            return None
        return {self.members_[i].key for i in range(self.count)}

    @property
    def children(self):
        return self._children

    cdef inline void* data(self) noexcept:
        return <void*>self.members_ if self._children is None else <void*>self.kids

    cdef void sync(self) noexcept:
        """Bring the parent's copy up to date (after a change of count or array)."""
        if self.parent is None:
            return
        cdef Kid* kid = &self.parent.kids[self.slot]
        kid.data, kid.count, kid.leaf = self.data(), self.count, self._children is None

    cdef int _reserve(self) except -1:
        """Room for one more member or child."""
        if self.count < self.room:
            return 0
        cdef Py_ssize_t room = 2 * self.room if self.room else 8
        if self._children is None:
            self.members_ = <Member*>_resized(self.members_, room * sizeof(Member))
        else:
            self.kids = <Kid*>_resized(self.kids, room * sizeof(Kid))
        self.room = room
        return 0

    cdef Py_ssize_t find(self, long long key) noexcept:
        cdef Py_ssize_t i
        for i in range(self.count):
            if self.members_[i].key == key:
                return i
        return -1

    cdef int add_member(self, _Provider record) except -1:
        self._reserve()
        self.members_[self.count].key = record.key
        self.count += 1
        self.set_member(self.count - 1, record)
        self.sync()
        return 0

    cdef void set_member(self, Py_ssize_t i, _Provider record) noexcept:
        cdef Member* member = &self.members_[i]
        member.x, member.y, member.z, member.live = record.x, record.y, record.z, record.live
        member.state = record.state

    cdef void drop_member(self, long long key) noexcept:
        cdef Py_ssize_t i = self.find(key)
        if i >= 0:
            self.count -= 1
            self.members_[i] = self.members_[self.count]
            self.sync()

    cdef int add_child(self, _Node child) except -1:
        self._reserve()
        cdef Kid* kid = &self.kids[self.count]
        kid.x, kid.y, kid.z, kid.reach = child.x, child.y, child.z, child.reach
        kid.node = <PyObject*>child
        child.slot = self.count
        self.count += 1
        child.sync()
        self.sync()
        return 0

    cdef void drop_child(self, _Node child) noexcept:
        self.count -= 1
        if child.slot != self.count:
            self.kids[child.slot] = self.kids[self.count]
            (<_Node>self.kids[child.slot].node).slot = child.slot
        self.sync()

    cdef void become_parent(self) noexcept:
        free(self.members_)
        self.members_ = NULL
        self.count = self.room = 0
        self._children = {}
        self.sync()

    cdef void grow(self, double span) noexcept:
        """Make the reach cover ``span`` (a chord), and the ancestors' theirs."""
        cdef _Node node = self, parent
        while span > node.reach:
            node.reach = span
            parent = node.parent
            if parent is None:
                return
            parent.kids[node.slot].reach = span
            span = parent.to(node) + node.reach
            node = parent


cdef class _Tree:
    cdef readonly dict roots
    cdef readonly dict leaf_of

    def __cinit__(self):
        self.roots, self.leaf_of = {}, {}


cdef class SpatialIndex:
    cdef readonly int resolution, top
    cdef readonly _Positions positions  # id -> Position
    cdef readonly dict services  # id -> frozenset of services
    cdef readonly dict states  # id -> state flags, where any
    cdef readonly dict trees  # service -> _Tree
    cdef dict _records  # id -> _Provider
    cdef dict _fine  # finest cell -> _Cell
    cdef _Walk _spare  # the walk queries reuse
    cdef size_t _version  # bumped by every update: a walk's frontier points into the trees

    def __init__(self, int resolution=9):
        if not DEPTH <= resolution <= 15:
            raise ValueError(f"leaf resolution must be {DEPTH}..15, got {resolution}")
        self.resolution, self.top = resolution, resolution - DEPTH
        self.services, self.trees, self._records, self._fine = {}, {}, {}, {}
        self.states = {}
        self.positions = _Positions()
        self.positions._records = self._records
        self._spare = _Walk()

    # --- updates -------------------------------------------------------------------------

    def set_services(self, provider_id, services):
        self._version += 1
        new = frozenset(services)
        old = self.services.get(provider_id, frozenset())
        self.services[provider_id] = new
        record = self._records.get(provider_id)
        if record is not None:
            for service in old - new:
                self._leave(self.trees[service], record)
            for service in new - old:
                self._enter(self._tree(service), record, None)

    def set_state(self, provider_id, int state):
        if not 0 <= state <= 255:
            raise ValueError(f"state flags are bits 0-7, got {state}")
        self._version += 1
        if state:
            self.states[provider_id] = state
        else:
            self.states.pop(provider_id, None)
        cdef _Provider record = self._records.get(provider_id)
        if record is not None:
            record.state = state
            record.copy_to_leaves()

    def move(self, provider_id, double lat, double lng, bint live=True):
        self._version += 1
        cdef _Provider record = self._records.get(provider_id)
        cdef object was = None
        if record is None:
            record = self._records[provider_id] = _Provider()
            record.pid, record.key = provider_id, provider_id
            record.state = self.states.get(provider_id, 0)
        else:
            was = record.fine
        record.place(lat, lng)
        record.lat, record.lng, record.live = lat, lng, live
        if was is not None and record.to(record.cell) < record.cell.inner:
            record.copy_to_leaves()  # most fixes: still well inside the cell, H3 not asked
            return
        fine = h3.latlng_to_cell(lat, lng, self.resolution)
        if was is not None and was == fine:
            record.copy_to_leaves()
            return
        record.fine, record.cell = fine, self._geometry(fine)
        cdef _Node leaf
        cdef _Tree tree
        for service in self.services.get(provider_id, ()):
            tree = self._tree(service)
            leaf = tree.leaf_of.get(provider_id)
            if leaf is None:
                self._enter(tree, record, None)
            elif (fine if leaf.res == self.resolution
                  else h3.cell_to_parent(fine, leaf.res)) == leaf.cell:
                leaf.set_member(leaf.find(record.key), record)
                leaf.grow(self._covering(leaf, record.cell))
            else:
                self._relocate(tree, record, leaf)

    def remove(self, provider_id):
        self._version += 1
        record = self._records.pop(provider_id, None)
        if record is not None:
            for service in self.services.get(provider_id, ()):
                self._leave(self.trees[service], record)
        self.services.pop(provider_id, None)
        self.states.pop(provider_id, None)

    cdef _Tree _tree(self, service):
        cdef _Tree tree = self.trees.get(service)
        if tree is None:
            tree = self.trees[service] = _Tree()
        return tree

    cdef int _relocate(self, _Tree tree, _Provider record, _Node old) except -1:
        cdef _Node anchor = old.parent
        while anchor is not None and h3.cell_to_parent(record.fine, anchor.res) != anchor.cell:
            anchor = anchor.parent
        self._enter(tree, record, anchor)
        self._drop(tree, record, old)
        return 0

    cdef int _enter(self, _Tree tree, _Provider record, _Node node) except -1:
        fine = record.fine
        cdef int res
        cdef _Node child
        if node is None:
            cell = h3.cell_to_parent(fine, self.top)
            node = tree.roots.get(cell)
            if node is None:
                node = tree.roots[cell] = _Node(cell, self.top, None)
        while node._children is not None:
            res = node.res + 1
            cell = fine if res == self.resolution else h3.cell_to_parent(fine, res)
            child = node._children.get(cell)
            if child is None:
                child = node._children[cell] = _Node(cell, res, node)
                node.add_child(child)
            node = child
        return self._put(tree, node, record)

    cdef int _put(self, _Tree tree, _Node leaf, _Provider record) except -1:
        leaf.add_member(record)
        tree.leaf_of[record.pid] = leaf
        record.joined(leaf)
        leaf.grow(self._covering(leaf, record.cell))
        if leaf.count > CAPACITY and leaf.res < self.resolution:
            self._split(tree, leaf)
        return 0

    cdef int _split(self, _Tree tree, _Node leaf) except -1:
        """A leaf past capacity becomes the parent of its members' cells one finer."""
        cdef int res = leaf.res + 1
        cdef _Provider record
        cdef _Node child
        members = [self._records[leaf.members_[i].key] for i in range(leaf.count)]
        for record in members:
            record.left(leaf)
        leaf.become_parent()
        for record in members:
            fine = record.fine
            cell = fine if res == self.resolution else h3.cell_to_parent(fine, res)
            child = leaf._children.get(cell)
            if child is None:
                child = leaf._children[cell] = _Node(cell, res, leaf)
                leaf.add_child(child)
            self._put(tree, child, record)
        return 0

    cdef double _covering(self, _Node leaf, _Cell cell) noexcept:
        """A chord from the leaf's centre that covers all of a finest cell."""
        return leaf.to(cell) + cell.r + SLACK

    cdef _Cell _geometry(self, fine):
        cdef _Cell cell = self._fine.get(fine)
        if cell is None:
            if len(self._fine) >= CACHED_CELLS:
                self._fine.clear()
            cell = self._fine[fine] = _Cell()
            lat, lng = h3.cell_to_latlng(fine)
            cell.place(lat, lng)
            corners = [_corner(lat, lng) for lat, lng in h3.cell_to_boundary(fine)]
            for corner in corners:
                cell.r = max(cell.r, cell.to(corner))
            if len(corners) == 6 and not h3.is_pentagon(fine):
                cell.inner = INNER_SHARE * min(
                    _to_great_circle(cell, corners[i - 1], corners[i]) for i in range(6)
                )
        return cell

    cdef int _leave(self, _Tree tree, _Provider record) except -1:
        return self._drop(tree, record, tree.leaf_of.pop(record.pid))

    cdef int _drop(self, _Tree tree, _Provider record, _Node leaf) except -1:
        """Take a provider out of a leaf; cells left empty leave the tree."""
        leaf.drop_member(record.key)
        record.left(leaf)
        cdef _Node node = leaf, parent
        while node is not None and node.count == 0:  # no members, or no children
            parent = node.parent
            if parent is None:
                del tree.roots[node.cell]
            else:
                parent.drop_child(node)
                del parent._children[node.cell]
            node = parent
        return 0

    # --- queries -------------------------------------------------------------------------

    def nearest(self, service, double lat, double lng, Py_ssize_t k, double radius_m,
                accept=None, int exclude=0):
        cdef _Tree tree = self.trees.get(service)
        if tree is None or k <= 0:
            return []
        cdef _Walk walk = self._spare
        if walk.busy:  # ``accept`` asked the index again
            walk = _Walk()
        walk.start(k)
        try:
            self._walk(walk, tree, lat, lng, radius_m, accept, exclude)
            return [
                _hit(_arc_m(walk.spans[i]), walk.keys[i], walk.lives[i])
                for i in range(walk.found)
            ]
        finally:
            walk.busy = False

    cdef int _walk(self, _Walk walk, _Tree tree, double lat, double lng, double radius_m,
                   accept, int exclude) except -1:
        cdef _Point origin = _Point()
        origin.place(lat, lng)
        cdef double ox = origin.x, oy = origin.y, oz = origin.z
        cdef double edge = _chord_of(radius_m)
        cdef double near_edge = edge * (1 - 1e-9)  # past this, the radius is checked in metres
        cdef double bound = edge * (1 + 1e-9) + SLACK  # chords beyond cannot matter
        cdef _Node root
        cdef Py_ssize_t i
        cdef double low, span
        cdef Kid* kid
        cdef Member* member
        cdef Entry entry
        cdef Entry* into
        cdef Py_ssize_t run
        cdef size_t version = self._version
        run = walk.used
        for root in tree.roots.values():
            into = walk.add()
            into.low, into.data, into.n = origin.to(root) - root.reach, root.data(), root.count
            into.kind, into.live = LEAF if root._children is None else PARENT, 0
        walk.close_run(run)
        while walk.frontier and walk.first().low <= bound:
            entry = walk.first()[0]
            walk.advance()
            if entry.kind == PROVIDER:  # the nearest left: every other one is farther
                if accept is not None:
                    accepted = accept(entry.n)
                    if self._version != version:  # the frontier may point at freed arrays
                        raise RuntimeError("the spatial index changed during a query")
                    if not accepted:
                        continue
                walk.keep(entry)
                if walk.found == walk.k:
                    return 0
                continue
            run = walk.used
            if entry.kind == PARENT:
                for i in range(entry.n):
                    kid = &(<Kid*>entry.data)[i]
                    low = _chord(ox, oy, oz, kid.x, kid.y, kid.z) - kid.reach
                    if low <= bound:
                        prefetch(kid.data)  # by the time it is visited, if it is
                        into = walk.add()
                        into.low, into.data, into.n = low, kid.data, kid.count
                        into.kind, into.live = LEAF if kid.leaf else PARENT, 0
            else:
                for i in range(entry.n):
                    member = &(<Member*>entry.data)[i]
                    if member.state & exclude:
                        continue
                    span = _chord(ox, oy, oz, member.x, member.y, member.z)
                    if span <= bound and (span <= near_edge or _arc_m(span) <= radius_m):
                        into = walk.add()
                        into.low, into.data, into.n = span, NULL, member.key
                        into.kind, into.live = PROVIDER, member.live
            walk.close_run(run)
        return 0


cdef enum:  # kinds of frontier entry
    PARENT, LEAF, PROVIDER


cdef struct Entry:  # on a walk's frontier: a cell, or a provider
    double low  # a cell's lower bound, a provider's chord
    void* data  # a cell's array
    long long n  # a cell's count, a provider's id
    char kind
    char live


cdef inline bint _before(Entry* a, Entry* b) noexcept nogil:
    """Frontier order: by bound, cells before providers (a cell may hold one as near
    but with a lower id), providers by id."""
    if a.low != b.low:
        return a.low < b.low
    if (a.kind == PROVIDER) != (b.kind == PROVIDER):
        return b.kind == PROVIDER
    return a.n < b.n


cdef int _compare(const void* a, const void* b) noexcept nogil:
    if _before(<Entry*>a, <Entry*>b):
        return -1
    return 1 if _before(<Entry*>b, <Entry*>a) else 0


cdef struct Run:  # a sorted stretch of a walk's entries, not yet all visited
    Py_ssize_t next, end


cdef class _Walk:
    """One query's state in C arrays, reused by the next: the entries of every cell it
    opened, each cell's sorted (a *run*); the frontier, a binary min-heap of runs by
    their next entry; and the providers accepted, nearest first.

    Providers go on the frontier with their exact chord, so ``accept`` is asked in order
    of distance and the walk ends at the k-th yes: no provider's eligibility is judged
    that a nearer one would have displaced.  A run stands on the heap for all its cell's
    entries, so a visit costs one sift, not one per entry of the cell."""
    cdef Entry* entries
    cdef Py_ssize_t used, entries_room
    cdef Run* runs
    cdef Py_ssize_t frontier, room
    cdef double* spans
    cdef long long* keys
    cdef char* lives
    cdef Py_ssize_t found, k, kept_room
    cdef bint busy

    def __dealloc__(self):
        free(self.entries)
        free(self.runs)
        free(self.spans)
        free(self.keys)
        free(self.lives)

    cdef int start(self, Py_ssize_t k) except -1:
        if k > self.kept_room:
            self.spans = <double*>_resized(self.spans, k * sizeof(double))
            self.keys = <long long*>_resized(self.keys, k * sizeof(long long))
            self.lives = <char*>_resized(self.lives, k * sizeof(char))
            self.kept_room = k
        self.k, self.found, self.used, self.frontier, self.busy = k, 0, 0, 0, True
        return 0

    cdef Entry* add(self) except NULL:
        """A new entry of the run being written (valid until the next ``add``)."""
        cdef Py_ssize_t room
        if self.used == self.entries_room:
            room = 2 * self.entries_room or 256
            self.entries = <Entry*>_resized(self.entries, room * sizeof(Entry))
            self.entries_room = room
        self.used += 1
        return &self.entries[self.used - 1]

    cdef inline Entry* first(self) noexcept:
        return &self.entries[self.runs[0].next]

    cdef int close_run(self, Py_ssize_t start) except -1:
        """Sort the entries written since ``start`` and put them on the frontier."""
        cdef Py_ssize_t n = self.used - start, i, j, room
        cdef Entry* run = &self.entries[start]
        cdef Entry entry
        if n == 0:
            return 0
        if n > 32:
            qsort(run, n, sizeof(Entry), _compare)
        else:
            for i in range(1, n):
                entry = run[i]
                j = i
                while j > 0 and _before(&entry, &run[j - 1]):
                    run[j] = run[j - 1]
                    j -= 1
                run[j] = entry
        if self.frontier == self.room:
            room = 2 * self.room or 64
            self.runs = <Run*>_resized(self.runs, room * sizeof(Run))
            self.room = room
        cdef Run fresh
        fresh.next, fresh.end = start, self.used
        i = self.frontier
        self.frontier += 1
        while i > 0:
            j = (i - 1) >> 1
            if not _before(&self.entries[start], &self.entries[self.runs[j].next]):
                break
            self.runs[i] = self.runs[j]
            i = j
        self.runs[i] = fresh
        return 0

    cdef void advance(self) noexcept:
        """Past the first entry: its run's next takes its place, or the run leaves."""
        cdef Run moving = self.runs[0]
        moving.next += 1
        if moving.next == moving.end:
            self.frontier -= 1
            moving = self.runs[self.frontier]
        cdef Py_ssize_t n = self.frontier, i = 0, child
        cdef Entry* entries = self.entries
        while True:
            child = 2 * i + 1
            if child >= n:
                break
            if child + 1 < n and _before(
                &entries[self.runs[child + 1].next], &entries[self.runs[child].next]
            ):
                child += 1
            if not _before(&entries[self.runs[child].next], &entries[moving.next]):
                break
            self.runs[i] = self.runs[child]
            i = child
        if n:
            self.runs[i] = moving

    cdef void keep(self, Entry entry) noexcept:
        self.spans[self.found], self.keys[self.found] = entry.low, entry.n
        self.lives[self.found] = entry.live
        self.found += 1
