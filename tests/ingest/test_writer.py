"""The track writer: group commit, retry on a failing store, back-pressure, drain on close."""

from __future__ import annotations

import asyncio

from hub.ingest.tracks import Chunk, TrackPoint, chunk_of
from hub.ingest.writer import TrackWriter
from hub.metrics import Metrics
from hub.state.sqlite import SqliteRecords

NOW = 1_800_000_000_000


def chunk(pid: int, first: int, count: int) -> Chunk:
    return chunk_of(
        [
            TrackPoint(pid, NOW + i, 1.0, 2.0, None, None, None, 0, NOW)
            for i in range(first, first + count)
        ]
    )


async def store(tmp_path) -> SqliteRecords:
    records = await SqliteRecords(str(tmp_path / "w.sqlite3")).open()
    await records.migrate()
    return records


async def test_frames_queued_during_a_commit_share_the_next_one(tmp_path):
    records = await store(tmp_path)
    metrics = Metrics()
    writer = TrackWriter(records.tracks, metrics, batch_max=1000, queue_max=10_000)
    writer.start()
    futures = [await writer.submit(chunk(p, 0, 10)) for p in range(1, 21)]
    await asyncio.gather(*futures)
    assert await records.tracks.count() == 200
    batches = metrics.track_batch.collect()[0].samples
    count = next(s.value for s in batches if s.name.endswith("_count"))
    assert count < 20  # grouped, not one transaction per frame
    await writer.close()
    await records.close()


async def test_batches_respect_the_maximum(tmp_path):
    records = await store(tmp_path)
    metrics = Metrics()
    writer = TrackWriter(records.tracks, metrics, batch_max=25, queue_max=10_000)
    futures = [await writer.submit(chunk(1, i * 10, 10)) for i in range(10)]
    writer.start()
    await asyncio.gather(*futures)
    samples = {
        s.name: s.value
        for s in metrics.track_batch.collect()[0].samples
        if s.name.endswith(("_count", "_sum"))
    }
    assert samples["hub_track_batch_fixes_sum"] == 100
    assert samples["hub_track_batch_fixes_count"] >= 100 / 20  # at most 2 frames a batch
    await writer.close()
    await records.close()


async def test_a_failing_store_is_retried_and_nothing_resolves_before_the_commit(tmp_path):
    records = await store(tmp_path)
    writer = TrackWriter(records.tracks, Metrics(), batch_max=1000, queue_max=10_000)
    writer.start()
    await records.close()  # the store goes away
    future = await writer.submit(chunk(1, 0, 5))
    await asyncio.sleep(0.2)
    assert not future.done()  # not committed, so not acked
    await records.open()  # and comes back
    await asyncio.wait_for(future, 5)
    assert await records.tracks.count() == 5
    await writer.close()
    await records.close()


async def test_submit_waits_while_too_much_is_queued(tmp_path):
    records = await store(tmp_path)
    writer = TrackWriter(records.tracks, Metrics(), batch_max=1000, queue_max=10)
    first = await writer.submit(chunk(1, 0, 10))
    blocked = asyncio.create_task(writer.submit(chunk(1, 10, 5)))
    await asyncio.sleep(0.05)
    assert not blocked.done()  # the queue is full until the writer runs
    writer.start()
    second = await asyncio.wait_for(blocked, 5)
    await asyncio.gather(first, second)
    assert await records.tracks.count() == 15
    await writer.close()
    await records.close()


async def test_close_commits_what_is_queued(tmp_path):
    records = await store(tmp_path)
    writer = TrackWriter(records.tracks, Metrics(), batch_max=1000, queue_max=10_000)
    writer.start()
    futures = [await writer.submit(chunk(1, i * 3, 3)) for i in range(5)]
    await writer.close()
    assert all(f.done() and f.exception() is None for f in futures)
    assert await records.tracks.count() == 15
    await records.close()
