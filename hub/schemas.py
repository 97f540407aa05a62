"""JSON Schema components of msgspec types, for the AsyncAPI and OpenAPI documents.

A type's description is its docstring cleaned as ``inspect.cleandoc`` does, here rather
than left to msgspec: 0.23 cleans docstrings where earlier versions kept their indentation,
and the committed documents must not change with the installed version.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterable
from typing import Any

import msgspec

REF_TEMPLATE = "#/components/schemas/{name}"


def components(types: Iterable[Any]) -> dict[str, Any]:
    """Each type's schema by name, ``$ref``s pointing into ``#/components/schemas``."""
    _, schemas = msgspec.json.schema_components(list(types), ref_template=REF_TEMPLATE)
    for schema in schemas.values():
        if "description" in schema:
            schema["description"] = inspect.cleandoc(schema["description"])
    return dict(schemas)
