"""A loop stops when cancelled even if a library it awaits swallows the cancellation
(redis-py's pipelines can): its ``await task`` must not hang, as a CI run once did."""

import asyncio
import contextlib

from hub.tasks import stop_if_cancelled
from tests.conftest import redis_live, redis_prefix


async def swallowing_call(seconds: float = 0.01) -> None:
    with contextlib.suppress(asyncio.CancelledError):  # what the library does wrong
        await asyncio.sleep(seconds)


async def test_a_loop_ends_when_its_cancellation_was_swallowed():
    async def loop() -> None:
        while True:
            await swallowing_call()
            stop_if_cancelled()

    task = asyncio.create_task(loop())
    await asyncio.sleep(0.05)
    task.cancel()
    async with asyncio.timeout(2):
        while not task.done():
            await asyncio.sleep(0.01)
    assert task.cancelled()


async def test_redis_live_closes_though_a_flush_swallowed_the_cancellation():
    async with redis_prefix() as prefix:
        live = redis_live(prefix, "test-node")
        await live.start()
        flush = live.positions.flush

        async def swallowing_flush() -> None:
            await flush()
            await swallowing_call(0.5)  # where the cancellation lands, nearly always

        live.positions.flush = swallowing_flush  # type: ignore[method-assign]
        await asyncio.sleep(0.2)
        async with asyncio.timeout(5):
            await live.close()
