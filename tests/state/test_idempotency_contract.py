"""Idempotency keys, one contract for SQLite and PostgreSQL."""

from __future__ import annotations

NOW = 1_800_000_000_000


async def test_a_key_is_claimed_once_then_answers_what_it_kept(records):
    keys = records.idempotency
    assert await keys.claim("me", "k1", "req-a", NOW) is None  # free: run the request
    running = await keys.claim("me", "k1", "req-a", NOW + 5)
    assert (running.fingerprint, running.status, running.created_ms) == ("req-a", None, NOW)
    await keys.finish("me", "k1", 201, "application/json", b'{"id":7}')
    done = await keys.claim("me", "k1", "req-b", NOW + 10)
    assert (done.fingerprint, done.status, done.content_type, done.body) == (
        "req-a",
        201,
        "application/json",
        b'{"id":7}',
    )
    assert await keys.claim("you", "k1", "req-b", NOW) is None  # keys are per caller


async def test_a_failed_request_frees_its_key_and_a_stale_one_can_be_taken_over(records):
    keys = records.idempotency
    assert await keys.claim("me", "k2", "req", NOW) is None
    await keys.release("me", "k2")
    assert await keys.claim("me", "k2", "req", NOW + 1) is None  # free again
    # claimed at NOW + 1 and never finished (its node died)
    assert not await keys.take_over("me", "k2", NOW + 2, stale_before_ms=NOW)  # too fresh
    assert await keys.take_over("me", "k2", NOW + 90_000, stale_before_ms=NOW + 30_000)
    assert not await keys.take_over("me", "k2", NOW + 90_001, stale_before_ms=NOW + 30_000)
    await keys.finish("me", "k2", 200, "application/json", b"{}")
    await keys.release("me", "k2")  # a finished key is kept
    assert (await keys.claim("me", "k2", "req", NOW)).status == 200


async def test_old_keys_expire(records):
    keys = records.idempotency
    await keys.claim("me", "old", "req", NOW - 100)
    await keys.claim("me", "new", "req", NOW)
    assert await keys.expire(NOW - 50) == 1
    assert await keys.claim("me", "old", "req", NOW) is None
    assert (await keys.claim("me", "new", "req", NOW)).fingerprint == "req"
