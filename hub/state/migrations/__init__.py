"""SQL migrations per records engine, applied in file-name order and recorded by name."""

from __future__ import annotations

from importlib import resources


def scripts(engine: str) -> list[tuple[str, str]]:
    """(name, sql) of every migration of ``engine`` ("sqlite" or "postgres"), in order."""
    folder = resources.files(__package__).joinpath(engine)
    found = [(f.name.removesuffix(".sql"), f.read_text()) for f in folder.iterdir()]
    return sorted(item for item in found if not item[0].startswith("_"))
