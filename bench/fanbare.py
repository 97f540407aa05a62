"""The fan-out baseline: the fastest bare broadcast server we can write (picows on uvloop).

``python -m bench.fanbare PORT``: every socket that connects is a subscriber, except one
that sends ``{"type":"control"}`` first: whatever that one sends next is sent, as is, to
every subscriber.  No auth, no topics, no encoding: only the broadcast.
"""

from __future__ import annotations

import sys

import uvloop
from picows import WSFrame, WSListener, WSMsgType, WSTransport, WSUpgradeRequest, ws_create_server

CONTROL = b'{"type":"control"}'
SNAPSHOT = b'{"type":"snapshot","topic":"tracking","offset":"0-0","rows":[]}'


class Hub:
    def __init__(self) -> None:
        self.subscribers: set[WSTransport] = set()


class Peer(WSListener):
    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self.control = False
        self.greeted = False

    def on_ws_frame(self, transport: WSTransport, frame: WSFrame) -> None:
        if frame.msg_type == WSMsgType.CLOSE:
            transport.send_close(frame.get_close_code())
            transport.disconnect()
            return
        data = frame.get_payload_as_bytes()
        if data == CONTROL:
            self.control = True
            return
        if self.control:
            for subscriber in self.hub.subscribers:
                subscriber.send(WSMsgType.TEXT, data)
        elif not self.greeted and b'"subscribe"' in data:
            self.greeted = True
            self.hub.subscribers.add(transport)
            transport.send(WSMsgType.TEXT, SNAPSHOT)

    def on_ws_disconnected(self, transport: WSTransport) -> None:
        self.hub.subscribers.discard(transport)


async def main(port: int) -> None:
    hub = Hub()

    def factory(request: WSUpgradeRequest) -> WSListener:
        return Peer(hub)

    server = await ws_create_server(factory, "127.0.0.1", port)
    print("ready", flush=True)
    await server.serve_forever()


if __name__ == "__main__":
    uvloop.run(main(int(sys.argv[1])))
