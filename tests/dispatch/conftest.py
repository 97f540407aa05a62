"""The dispatch tests' default scene: a hub on the engine pair with a client set up in it
(a module with other rules or settings defines its own ``scene``)."""

import pytest

from tests.dispatch.scene import scene_on


@pytest.fixture
async def scene(engine_kind, tmp_path):
    async with scene_on(engine_kind, tmp_path) as s:
        yield s
