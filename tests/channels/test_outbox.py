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


class Transport:
    """The end of the hub's own websocket protocol: what was written, what waits."""

    def __init__(self, waiting: int = 0) -> None:
        self.writes: list[bytes] = []
        self.waiting = waiting

    def write_frame(self, framed: bytes) -> int:
        self.writes.append(framed)
        return self.waiting


async def test_on_the_hubs_protocol_one_iteration_goes_out_in_one_write():
    transport = Transport()
    box = Outbox(_never, 1024, lambda code: None, transport)
    box.push(b"a")
    box.push(b"b")
    box.push_ack(b"ack1")
    box.push_ack(b"ack2")
    assert transport.writes == []  # not before the loop iteration ends
    await asyncio.sleep(0)
    assert transport.writes == [b"\x81\x01a\x81\x01b\x81\x04ack2"]
    box.binary = True
    box.push(b"c")
    await asyncio.sleep(0)
    assert transport.writes[-1] == b"\x82\x01c"


async def test_on_the_hubs_protocol_a_frame_that_cannot_wait_goes_at_once_with_the_queue():
    transport = Transport()
    box = Outbox(_never, 1024, lambda code: None, transport)
    box.push(b"a")
    box.push_ack(b"ack1")
    box.push(b"offer", now=True)
    assert transport.writes == [b"\x81\x01a\x81\x05offer\x81\x04ack1"]
    await asyncio.sleep(0)  # the iteration's own write finds nothing left
    assert len(transport.writes) == 1
    box.push(b"b")
    await asyncio.sleep(0)
    assert transport.writes[-1] == b"\x81\x01b"


async def test_on_the_hubs_protocol_the_cap_is_on_what_the_transport_holds():
    overflows: list[Close] = []
    box = Outbox(_never, 100, overflows.append, Transport(waiting=101))
    box.push(b"x")
    await asyncio.sleep(0)
    assert overflows == [Close.SLOW_CONSUMER]
    assert box.closed
    box.push(b"y")  # nothing more once cut off


async def test_on_the_hubs_protocol_a_closing_socket_stops_the_outbox():
    transport = Transport(waiting=-1)
    box = Outbox(_never, 100, lambda code: None, transport)
    box.push(b"x")
    await box.flush(1)  # written at once, not at the end of the iteration
    assert transport.writes == [b"\x81\x01x"]
    assert box.closed


async def _never(data: bytes, binary: bool) -> None:
    raise AssertionError("the ASGI path is not taken on the hub's protocol")
