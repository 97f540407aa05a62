"""The track writer: group commit of GPS fixes into the records store.

Sessions hand over the fixes of one frame, as a chunk (a row of the track store), and get
a future that resolves once the transaction holding it is committed; only then is the ack
sent.  While a transaction runs, new chunks gather, so batches grow with load and latency
stays low when idle.  A failed commit is retried with backoff (nothing is acked meanwhile);
when too many fixes wait, ``room()`` (and ``submit``) waits too, and a session stops taking
frames straight from the protocol, which slows the sockets down through TCP instead of
dropping fixes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque

from hub.errors import StoreUnavailable
from hub.ingest.tracks import Chunk, TrackRecords
from hub.metrics import Metrics

log = logging.getLogger(__name__)

_RETRY_S = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0)


class TrackWriter:
    def __init__(
        self, tracks: TrackRecords, metrics: Metrics, *, batch_max: int, queue_max: int
    ) -> None:
        self.tracks = tracks
        self.metrics = metrics
        self.batch_max = batch_max
        self.queue_max = queue_max
        # Built inside the running loop; kept, as asyncio.get_running_loop() makes a
        # getpid() system call on Python 3.11, a cost per frame on the ingest path.
        self._loop = asyncio.get_running_loop()
        self._queue: deque[tuple[Chunk, asyncio.Future[None]]] = deque()
        self._queued = 0
        self._wake = asyncio.Event()
        self._room = asyncio.Event()
        self._room.set()
        self._task: asyncio.Task[None] | None = None
        self._idle = asyncio.Event()  # set while nothing is queued or being committed
        self._idle.set()

    def start(self) -> None:
        self._task = self._loop.create_task(self._run(), name="track-writer")

    @property
    def has_room(self) -> bool:
        return self._queued < self.queue_max

    async def room(self) -> None:
        """Wait while the queue is full."""
        while self._queued >= self.queue_max:
            self._room.clear()
            await self._room.wait()

    async def submit(self, chunk: Chunk) -> asyncio.Future[None]:
        """Queue a chunk for the next transaction, once there is room; the future resolves
        when it is committed."""
        await self.room()
        return self.put(chunk)

    def put(self, chunk: Chunk) -> asyncio.Future[None]:
        """Queue a chunk now: for a caller that saw ``has_room`` or awaited ``room()``."""
        future: asyncio.Future[None] = self._loop.create_future()
        self._queue.append((chunk, future))
        self._queued += chunk.count
        self._idle.clear()
        self._wake.set()
        return future

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            batch, fixes, futures = self._take()
            attempt = 0
            while True:
                started = time.perf_counter()
                try:
                    await self.tracks.append(batch)
                    break
                except StoreUnavailable as exc:
                    delay = _RETRY_S[min(attempt, len(_RETRY_S) - 1)]
                    log.error(
                        "track commit failed; retrying",
                        extra={"err": exc.message, "fixes": fixes, "retry_s": delay},
                    )
                    attempt += 1
                    await asyncio.sleep(delay)
            self.metrics.track_commit.observe(time.perf_counter() - started)
            self.metrics.track_batch.observe(fixes)
            if not self._queue:
                self._idle.set()
            for future in futures:
                if not future.done():
                    future.set_result(None)

    def _take(self) -> tuple[list[Chunk], int, list[asyncio.Future[None]]]:
        """The next batch: its chunks, how many fixes they hold, their futures."""
        queue, fixes = self._queue, 0
        batch: list[Chunk] = []
        futures: list[asyncio.Future[None]] = []
        while queue and (not batch or fixes + queue[0][0].count <= self.batch_max):
            chunk, future = queue.popleft()
            batch.append(chunk)
            fixes += chunk.count
            futures.append(future)
        self._queued -= fixes
        if not self._queue:
            self._wake.clear()
        if self._queued < self.queue_max:
            self._room.set()
        return batch, fixes, futures

    async def close(self, timeout_s: float = 10.0) -> None:
        """Commit what is queued (waiting at most ``timeout_s``), then stop."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._idle.wait(), timeout_s)
        if self._task is not None:
            task, self._task = self._task, None
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for _, future in self._queue:
            if not future.done():
                future.set_exception(StoreUnavailable("hub stopped before the commit"))
