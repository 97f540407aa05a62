"""Login throttling: the rule (lockouts after the attempts, doubling, capped, failures
outside the window not adding up); the same tallies on every live engine (memory, Redis,
Redis Cluster); over real HTTP: 429 with Retry-After, the right password refused while
locked, accepted after; two nodes counting the same failures; and each node counting on its
own while Redis is down."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from hub.throttle import MAX_LOCKOUT_S, Rules, Tally, after_failure
from tests.api.test_auth import add_user, log_in
from tests.conftest import engine_settings, serve
from tests.faults import private_redis

RULES = Rules(attempts=3, lockout_ms=30_000, window_ms=60_000)


def test_a_key_is_locked_after_the_attempts_and_each_lockout_doubles_up_to_the_cap():
    now, tally = 1_000_000, None
    for _ in range(2):
        tally = after_failure(tally, now, RULES)
        assert tally.locked_until_ms == 0  # two failures: still let in
    tally = after_failure(tally, now, RULES)
    assert tally.locked_until_ms == now + 30_000
    waits = []
    for _ in range(6):
        now += 50_000  # within the window of the lockout's start
        for _ in range(3):
            tally = after_failure(tally, now, RULES)
        waits.append(tally.locked_until_ms - now)
    cap = int(MAX_LOCKOUT_S * 1000)
    assert waits == [60_000, 120_000, 240_000, cap, cap, cap]


def test_failures_spread_beyond_the_window_do_not_add_up():
    now, tally = 1_000_000, None
    for _ in range(10):
        tally = after_failure(tally, now, RULES)
        tally = after_failure(tally, now, RULES)
        now += 61_000
        assert tally.locked_until_ms == 0


async def test_every_live_engine_keeps_the_same_tallies(live):
    """The memory engine applies after_failure, Redis its Lua copy: the same figures."""
    now = 1_800_000_000_000
    keys = ("login:ana", "addr:10.0.0.1")
    expected: dict[str, Tally | None] = dict.fromkeys(keys)
    for step in range(12):
        now += 7_000 if step % 4 else 70_000
        await live.attempts.failed(keys[: 1 + step % 2], now, RULES)
        for key in keys[: 1 + step % 2]:
            expected[key] = after_failure(expected[key], now, RULES)
        latest = max(t.locked_until_ms for t in expected.values() if t is not None)
        assert await live.attempts.locked_until(keys) == latest
    assert await live.attempts.locked_until(("login:nobody",)) == 0
    await live.attempts.clear(keys)
    assert await live.attempts.locked_until(keys) == 0


async def test_two_nodes_count_the_same_failures(tmp_path):
    """Two hubs on one Redis: failures through either lock the name on both."""
    async with (
        engine_settings("distributed", tmp_path, login_attempts=4) as settings,
        serve(settings) as one,
        serve(settings) as two,
        httpx.AsyncClient() as http,
    ):
        body = {"login": "nobody", "password": "wrong-password"}
        for url in (one.http, two.http, one.http, two.http):
            assert (await http.post(url + "/auth/login", json=body)).status_code == 401
        for url in (one.http, two.http):
            answer = await http.post(url + "/auth/login", json=body)
            assert answer.json()["error"]["code"] == "too_many_attempts"


async def test_logins_stay_throttled_on_each_node_while_redis_is_down(tmp_path):
    async with (
        private_redis() as redis,
        engine_settings("distributed", tmp_path, login_attempts=2, redis_url=redis.url) as st,
        serve(st) as running,
        httpx.AsyncClient(base_url=running.http) as http,
    ):
        bootstrap = running.hub.tokens.admin_token("bootstrap", int(time.time()))
        http.bootstrap = {"Authorization": f"Bearer {bootstrap}"}
        await add_user(http, "ana", "operator")
        await redis.kill()
        assert (await log_in(http, "ana")).status_code == 200  # Redis down: logins still work
        for _ in range(2):
            assert (await log_in(http, "ana", "wrong-password")).status_code == 401
        assert (await log_in(http, "ana")).status_code == 429  # and are still throttled


@pytest.fixture
async def quick(tmp_path):
    async with (
        engine_settings("embedded", tmp_path, login_attempts=3, login_lockout_s=1) as settings,
        serve(settings) as running,
    ):
        bootstrap = running.hub.tokens.admin_token("bootstrap", int(time.time()))
        async with httpx.AsyncClient(base_url=running.http) as http:
            http.bootstrap = {"Authorization": f"Bearer {bootstrap}"}
            yield http


async def test_guessing_a_password_is_locked_out_with_429_and_the_user_gets_back_in(quick):
    await add_user(quick, "ana", "operator")
    for _ in range(3):
        assert (await log_in(quick, "ana", "wrong-password")).status_code == 401
    locked = await log_in(quick, "ana")  # the right password, while locked
    assert locked.status_code == 429
    assert locked.json()["error"]["code"] == "too_many_attempts"
    assert int(locked.headers["retry-after"]) == 1
    await asyncio.sleep(1.1)
    assert (await log_in(quick, "ana")).status_code == 200
    portal = {"phone": "11999990000", "key": "k" * 20}
    for _ in range(3):
        assert (await quick.post("/portal/login", json=portal)).status_code == 401
    refused = await quick.post("/portal/login", json=portal)
    assert (refused.status_code, refused.json()["error"]["code"]) == (429, "too_many_attempts")
