"""The bounded outbox: order, ack coalescing, the byte cap."""

import asyncio

from hub.channels.outbox import Outbox
from hub.errors import Close


async def test_frames_go_in_order_then_only_the_newest_ack():
    sent: list[bytes] = []

    async def send(data: bytes, binary: bool) -> None:
        sent.append(data)

    box = Outbox(send, 1024, lambda code: None)
    box.push(b"a")
    box.push(b"b")
    box.push_ack(b"ack1")
    box.push_ack(b"ack2")
    await box.flush(1)
    assert sent == [b"a", b"b", b"ack2"]


async def test_over_the_cap_the_consumer_is_cut_off_once():
    blocked = asyncio.Event()
    overflows: list[Close] = []

    async def send(data: bytes, binary: bool) -> None:
        await blocked.wait()  # a client that does not read

    box = Outbox(send, 100, overflows.append)
    for _ in range(10):
        box.push(b"x" * 30)
    assert overflows == [Close.SLOW_CONSUMER]
    assert box.closed
    box.stop()


async def test_a_failed_send_stops_the_outbox():
    async def send(data: bytes, binary: bool) -> None:
        raise OSError("peer gone")

    box = Outbox(send, 1024, lambda code: None)
    box.push(b"a")
    await box.flush(1)
    assert box.closed
