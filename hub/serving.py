"""uvicorn's server, stopping as a drain (hub/drain.py).

On the first SIGTERM or SIGINT the hub drains for ``HUB_DRAIN_S``: readiness answers 503
``draining`` at once, and the open sockets are closed with 1001 at an even pace.  Then
uvicorn stops as it always does (the listening socket closed, requests under way given
``timeout_graceful_shutdown``, the lifespan's shutdown).  A second signal stops at once.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from types import FrameType

import uvicorn

from hub.services import STATE_KEY, Services

log = logging.getLogger(__name__)


class HubServer(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, drain_s: float) -> None:
        super().__init__(config)
        self.drain_s = drain_s
        self.loop: asyncio.AbstractEventLoop | None = None
        self.draining: asyncio.Task[None] | None = None

    async def serve(self, sockets: list[socket.socket] | None = None) -> None:
        self.loop = asyncio.get_running_loop()
        await super().serve(sockets)

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        """A signal: the first starts the drain, another stops at once."""
        if self.draining is not None or self.should_exit or self.loop is None:
            super().handle_exit(sig, frame)
            if self.draining is not None:
                self.force_exit = True
            return
        self._captured_signals.append(sig)  # raised again once stopped, as uvicorn does
        self.loop.call_soon_threadsafe(self._start_draining)

    def _start_draining(self) -> None:
        services = self.lifespan.state.get(STATE_KEY) if self.started else None
        if not isinstance(services, Services):
            self.should_exit = True  # still starting: nothing to drain
            return
        self.draining = asyncio.get_running_loop().create_task(self._drain(services))

    async def _drain(self, services: Services) -> None:
        try:
            sessions = services.sessions
            await services.drain.run(self.drain_s, lambda: list(sessions.local.values()))
        except Exception:  # a drain that fails must not keep the process up
            log.exception("draining failed; stopping now")
        finally:
            self.should_exit = True
