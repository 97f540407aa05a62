"""The baseline: the fastest bare websocket server we can write (picows on uvloop).

It only decodes each frame with the hub's own msgspec schema and acks the highest sequence
number (or answers a ping): no auth, no filter, no state, no storage.
``python -m bench.bare PORT``.
"""

from __future__ import annotations

import sys

import uvloop
from picows import WSFrame, WSListener, WSMsgType, WSTransport, WSUpgradeRequest, ws_create_server

from hub import wire


class Bare(WSListener):
    def on_ws_frame(self, transport: WSTransport, frame: WSFrame) -> None:
        if frame.msg_type == WSMsgType.CLOSE:
            transport.send_close(frame.get_close_code())
            transport.disconnect()
            return
        if frame.msg_type != WSMsgType.TEXT:
            return
        decoded = wire.decode(frame.get_payload_as_utf8_text())
        if isinstance(decoded, wire.Fixes):
            seq = decoded.fixes[-1].seq
        elif isinstance(decoded, wire.Fix):
            seq = decoded.seq
        elif isinstance(decoded, wire.Ping):  # the echo of bench offer's baseline
            pong = wire.Pong(id=decoded.id, server_time=0)
            transport.send(WSMsgType.TEXT, wire.encode_json(pong))
            return
        else:
            return
        transport.send(WSMsgType.TEXT, wire.encode_json(wire.Ack(seq=seq)))


async def main(port: int) -> None:
    def factory(request: WSUpgradeRequest) -> WSListener:
        return Bare()

    server = await ws_create_server(factory, "127.0.0.1", port)
    print("ready", flush=True)
    await server.serve_forever()


if __name__ == "__main__":
    uvloop.run(main(int(sys.argv[1])))
