"""Login throttling, pure (a fake clock): lockouts after the attempts, doubling, capped,
cleared by a success; and over real HTTP: 429 with Retry-After, the right password
refused while locked, accepted after."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from hub.throttle import MAX_LOCKOUT_S, LoginThrottle, TooManyAttempts
from tests.api.test_auth import add_user, log_in
from tests.conftest import engine_settings, serve


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_name_is_locked_after_the_attempts_and_each_lockout_doubles_up_to_the_cap():
    clock = Clock()
    throttle = LoginThrottle(3, 30, clock=clock)
    for _ in range(2):
        throttle.check("login:ana")
        throttle.failed("login:ana")
    throttle.check("login:ana")  # two failures: still let in
    throttle.failed("login:ana")
    with pytest.raises(TooManyAttempts) as locked:
        throttle.check("login:ana", "addr:1.2.3.4")
    assert locked.value.retry_after_s == 30 and locked.value.headers() == {"Retry-After": "30"}
    throttle.check("login:bia")  # others are not held
    waits = []
    for _ in range(6):
        clock.now += 400
        for _ in range(3):
            throttle.failed("login:ana")
        with pytest.raises(TooManyAttempts) as again:
            throttle.check("login:ana")
        waits.append(again.value.retry_after_s)
    assert waits == [60, 120, 240, MAX_LOCKOUT_S, MAX_LOCKOUT_S, MAX_LOCKOUT_S]
    clock.now += MAX_LOCKOUT_S
    throttle.succeeded("login:ana")
    throttle.check("login:ana")
    assert "login:ana" not in throttle.records


def test_failures_spread_beyond_the_window_do_not_add_up():
    clock = Clock()
    throttle = LoginThrottle(3, 30, window_s=60, clock=clock)
    for _ in range(10):
        throttle.failed("addr:x")
        throttle.failed("addr:x")
        clock.now += 61
        throttle.check("addr:x")


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
