"""The import graph of hub/ (docs/architecture.md draws it): no cycle among modules, and
every import between packages goes down the layers below, never up.

Imports under ``if TYPE_CHECKING`` count too: a cycle hidden from the interpreter is still
one in the design."""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from pathlib import Path

HUB = Path(__file__).parents[1] / "hub"

# Top to bottom.  A package (hub/<name>/) or top-level module may import from its own layer
# and the layers below it.
LAYERS: list[tuple[str, set[str]]] = [
    (
        "entry points",
        {"hub.__main__", "hub.cli", "hub.cluster", "hub.asyncapi", "hub.readme", "hub.serving"},
    ),
    ("the ASGI app", {"hub.app"}),
    ("the composition root", {"hub.lifespan", "hub.engines", "hub.demo"}),
    ("REST routes", {"hub.api"}),
    ("what routes and sockets reach", {"hub.services"}),
    ("sockets", {"hub.channels"}),
    ("cross-node feeds, background work, draining", {"hub.feeds", "hub.background", "hub.drain"}),
    ("engines", {"hub.state"}),
    ("dispatch: pure decisions, and their shell over Protocols it owns", {"hub.dispatch"}),
    (
        "pure cores and outside boundaries",
        {"hub.matching", "hub.ingest", "hub.auth", "hub.geocoders"},
    ),
    ("the wire schema", {"hub.wire", "hub.schemas"}),
    ("the domain's values and rules", {"hub.operations"}),
    (
        "leaves",
        {
            "hub.tokens",
            "hub.passwords",
            "hub.metrics",
            "hub.presence",
            "hub.logs",
            "hub.throttle",
            "hub.tasks",
        },
    ),
    ("bottom", {"hub.errors", "hub.config", "hub.clock", "hub.geo", "hub"}),
]


def modules() -> dict[str, Path]:
    found = {}
    for path in HUB.rglob("*.py"):
        name = ".".join(path.relative_to(HUB.parent).with_suffix("").parts)
        found[name.removesuffix(".__init__")] = path
    return found


def imports() -> dict[str, set[str]]:
    """module -> the hub modules it imports."""
    known = modules()
    graph: dict[str, set[str]] = defaultdict(set)
    for name, path in known.items():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                wanted = [
                    f"{node.module}.{alias.name}"
                    if f"{node.module}.{alias.name}" in known
                    else node.module
                    for alias in node.names
                ]
            elif isinstance(node, ast.Import):
                wanted = [alias.name for alias in node.names]
            else:
                continue
            graph[name].update(w for w in wanted if w in known and w != name)
    return graph


def unit(module: str) -> str:
    """The package a module belongs to (hub/<name>/), or the top-level module itself."""
    parts = module.split(".")
    if len(parts) > 1 and (HUB / parts[1]).is_dir():
        return f"hub.{parts[1]}"
    return module


def layer(module: str) -> int:
    for depth, (_, members) in enumerate(LAYERS):
        if unit(module) in members:
            return depth
    raise AssertionError(f"{unit(module)} is in no layer: add it to LAYERS (and the picture)")


def test_every_package_has_a_layer():
    for module in modules():
        layer(module)


def test_no_module_imports_one_above_its_layer():
    upward = [
        f"{a} ({LAYERS[layer(a)][0]}) imports {b} ({LAYERS[layer(b)][0]})"
        for a, targets in imports().items()
        for b in targets
        if layer(b) < layer(a)
    ]
    assert upward == []


def test_the_import_graph_has_no_cycle():
    graph = imports()
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(module: str) -> list[str] | None:
        state[module] = 1
        path.append(module)
        for target in sorted(graph.get(module, ())):
            if state.get(target) == 1:
                return [*path[path.index(target) :], target]
            if target not in state and (cycle := visit(target)) is not None:
                return cycle
        path.pop()
        state[module] = 2
        return None

    for module in sorted(modules()):
        if module not in state:
            cycle = visit(module)
            assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_packages_that_once_imported_each_other_import_one_way():
    graph = imports()
    pairs = {(unit(a), unit(b)) for a, targets in graph.items() for b in targets}
    for one, other in [
        ("hub.api", "hub.channels"),
        ("hub.state", "hub.dispatch"),
        ("hub.state", "hub.operations"),
        ("hub.state", "hub.matching"),
    ]:
        assert not ((one, other) in pairs and (other, one) in pairs), f"{one} <-> {other}"


def test_the_lifespan_state_is_read_in_one_typed_place():
    """Routes and sockets reach what the lifespan built through ``services_of`` (typed, so
    mypy checks every call they make); nothing else reads the ASGI state."""
    pattern = re.compile(r"""scope\[["']state["']\]|\.state\.(hub|services)\b""")
    readers = sorted(
        str(path.relative_to(HUB.parent))
        for path in HUB.rglob("*.py")
        if pattern.search(path.read_text())
    )
    assert readers == ["hub/services.py"]
