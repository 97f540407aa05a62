"""Locust users written for this hub (docs/load-testing.md): provider apps on websockets, consoles
watching the panels, and operators on the REST API.

    locust -f bench/locustfile.py --host http://127.0.0.1:8080 --headless -u 300 -r 30 -t 2m

Credentials: ``HUB_LOAD_ADMIN_TOKEN`` (from ``hub admin token``), or ``HUB_TOKEN_SECRET`` (the
cluster's shared secret) to sign one here.  Every simulated provider registers its own provider
and uses its own token (``load-<worker>-<n>``), so users of any number of ``--processes`` never
take each other's session over.  The hub's latencies go into locust's own statistics:

==========  ======================  ===========================================================
type        name                    what
==========  ======================  ===========================================================
WS          connect->welcome        socket opened to ``welcome`` received
WS          fix->ack                a batch of fixes sent to the ``ack`` covering it (durable)
WS          offer delivery          the hub's ``server_time`` on an offer to its arrival
WS          accept->assignment      ``accept`` sent to ``assignment`` received
WS          update delivery         an attendance log line's time to its arrival on a console
close       <code> <name>           sockets the hub closed, by code (failures: codes a healthy
                                    hub does not send, like 4004 or 1011)
error       <code>                  ``error`` frames the hub answered (all failures)
==========  ======================  ===========================================================

Knobs (environment): ``LOAD_FIX_BATCH`` fixes per frame (2), ``LOAD_BATCH_EVERY_S`` (2.0: one
fix a second), ``LOAD_ACCEPT`` the share of offers accepted (0.8).
"""

from __future__ import annotations

import contextlib
import itertools
import json
import math
import os
import random
import time
from typing import Any

import gevent
import websocket  # websocket-client: blocking sockets that gevent makes cooperative
from gevent.lock import Semaphore
from locust import HttpUser, User, between, constant_pacing, task

CENTER = (-23.5614, -46.6559)  # São Paulo, Avenida Paulista
SPREAD_DEG = 0.04  # providers and breakdowns within ~4 km of it
FIX_BATCH = int(os.environ.get("LOAD_FIX_BATCH", "2"))
BATCH_EVERY_S = float(os.environ.get("LOAD_BATCH_EVERY_S", "2.0"))
ACCEPT_SHARE = float(os.environ.get("LOAD_ACCEPT", "0.8"))
UNHEALTHY_CLOSES = {
    1011: "internal_error",
    4001: "auth_failed",
    4002: "token_revoked",
    4003: "provider_inactive",
    4004: "session_replaced",
    4008: "slow_consumer",
}
COVERAGE = {"light_tow": {}}
# An assigned job's steps, each from the state it applies to (docs/provider-protocol.md).
STEPS = (
    ("depart", "assigned"),
    ("arrive", "en_route"),
    ("start", "on_site"),
    ("complete", "in_service"),
)
ENDED = {"completed", "cancelled", "gone_on_arrival", "unsuccessful"}
GARAGE = {
    "address": {"street": "Rua Augusta", "number": "900", "city": "São Paulo"},
    "lat": -23.556,
    "lng": -46.66,
}
_names = itertools.count(1)


def now_ms() -> int:
    return int(time.time() * 1000)


def admin_token() -> str:
    given = os.environ.get("HUB_LOAD_ADMIN_TOKEN")
    if given:
        return given
    secret = os.environ.get("HUB_TOKEN_SECRET")
    if not secret:
        raise SystemExit("set HUB_LOAD_ADMIN_TOKEN (hub admin token) or HUB_TOKEN_SECRET")
    from hub.tokens import TokenIssuer

    issuer = TokenIssuer(secret, provider_ttl_s=86400, admin_ttl_s=86400)
    return issuer.admin_token("locust", int(time.time()))


class Shared:
    """What every user of a process uses: the admin token and the operators' beneficiary,
    made once (under a lock: users start concurrently)."""

    lock = Semaphore()
    token: str | None = None
    beneficiary_id: int | None = None

    @classmethod
    def ready(cls, http: Any) -> tuple[str, int]:
        with cls.lock:
            if cls.token is None or cls.beneficiary_id is None:
                cls.token = admin_token()
                auth = {"Authorization": f"Bearer {cls.token}"}
                client = http.post("/clients", json={"name": "Carga"}, headers=auth).json()
                plan = http.post(
                    "/plans",
                    json={"client_id": client["id"], "name": "Carga", "coverage": COVERAGE},
                    headers=auth,
                ).json()
                made = http.post(
                    "/beneficiaries",
                    json={
                        "client_id": client["id"],
                        "plan_id": plan["id"],
                        "name": "Maria Carga",
                        "cpf": "52998224725",
                    },
                    headers=auth,
                ).json()
                cls.beneficiary_id = made["beneficiary"]["id"]
            return cls.token, cls.beneficiary_id


def near_center() -> tuple[float, float]:
    return (
        CENTER[0] + random.uniform(-SPREAD_DEG, SPREAD_DEG),
        CENTER[1] + random.uniform(-SPREAD_DEG, SPREAD_DEG),
    )


def read_frames(ws: websocket.WebSocket, on_frame: Any) -> int | None:
    """Hand every JSON frame to ``on_frame`` until the socket ends; the close code the hub
    sent, or None when the link dropped without one."""
    try:
        while True:
            opcode, data = ws.recv_data(control_frame=True)
            if opcode == websocket.ABNF.OPCODE_CLOSE:
                return int.from_bytes(data[:2], "big") if len(data) >= 2 else None
            if opcode in (websocket.ABNF.OPCODE_TEXT, websocket.ABNF.OPCODE_BINARY):
                on_frame(json.loads(data))
    except (OSError, websocket.WebSocketException):
        return None


def ws_url(host: str, path: str) -> str:
    return host.replace("https://", "wss://").replace("http://", "ws://").rstrip("/") + path


class HubSocket:
    """A socket's sample reporting into locust's statistics."""

    def __init__(self, user: User) -> None:
        self.events = user.environment.events

    def sample(self, kind: str, name: str, ms: float, error: str | None = None) -> None:
        self.events.request.fire(
            request_type=kind,
            name=name,
            response_time=ms,
            response_length=0,
            exception=Exception(error) if error else None,
            context={},
        )

    def closed(self, code: int | None) -> None:
        code = code or 1006  # no close frame: the link dropped
        bad = UNHEALTHY_CLOSES.get(code)
        self.sample(
            "close", f"{code} {bad or ''}".strip(), 0, f"closed with {code}" if bad else None
        )


class ProviderApp(User):
    """A provider's app: registers its provider, connects, goes on duty, streams GPS in batches,
    keeps unacked fixes and sends them again after a reconnect (jittered back-off), and accepts
    or refuses offers after a think time."""

    wait_time = constant_pacing(BATCH_EVERY_S)
    weight = 10

    def on_start(self) -> None:
        import requests

        self.report = HubSocket(self)
        http = _Http(requests.Session(), self.host)
        token, _ = Shared.ready(http)
        auth = {"Authorization": f"Bearer {token}"}
        worker = getattr(self.environment.runner, "worker_index", 0)
        created = http.post(
            "/admin/providers",
            json={
                "name": f"load-{worker}-{next(_names)}",
                "phone": "+5511988880000",
                "profile": {"services": ["light_tow"], "channels": ["app"]},
            },
            headers=auth,
        ).json()
        self.provider_id = created["id"]
        issued = http.post(f"/admin/providers/{self.provider_id}/token", headers=auth)
        self.token = issued.json()["token"]
        self.here = near_center()
        self.heading = random.uniform(0, 2 * math.pi)
        self.seq = 0
        self.unacked: dict[int, tuple[dict[str, Any], float]] = {}  # seq -> fix, sent at
        self.accepted: dict[int, float] = {}  # offer id -> accept sent at
        self.answered: set[int] = set()  # offer ids
        self.jobs: dict[int, str] = {}  # attendance id -> its state, as the hub last said
        self.ws: websocket.WebSocket | None = None
        self.backoff_s = 0.5
        self.connect()

    def on_stop(self) -> None:
        if self.ws is not None:
            self.ws.close()

    def connect(self) -> None:
        """Dial (again, after a jittered back-off when it fails), go on duty, send again the
        fixes not acked yet."""
        while True:
            started = time.perf_counter()
            try:
                ws = websocket.create_connection(
                    ws_url(self.host, "/ws/provider"),
                    header=[f"Authorization: Bearer {self.token}"],
                    timeout=10,
                )
                welcome = json.loads(ws.recv())
            except (OSError, websocket.WebSocketException) as exc:
                self.report.sample("WS", "connect->welcome", 0, str(exc) or type(exc).__name__)
                gevent.sleep(self.backoff_s * random.uniform(0.5, 1.5))
                self.backoff_s = min(self.backoff_s * 2, 10.0)
                continue
            if welcome.get("type") != "welcome":
                self.report.sample("WS", "connect->welcome", 0, f"got {welcome}")
                ws.close()
                gevent.sleep(self.backoff_s * random.uniform(0.5, 1.5))
                continue
            self.report.sample("WS", "connect->welcome", (time.perf_counter() - started) * 1000)
            self.backoff_s = 0.5
            ws.settimeout(None)
            self.ws = ws
            ws.send(json.dumps({"type": "duty", "on": True}))
            if self.unacked:
                self._send_fixes([fix for fix, _ in self.unacked.values()])
            gevent.spawn(self.receive, ws)
            return

    def receive(self, ws: websocket.WebSocket) -> None:
        code = read_frames(ws, self.on_frame)
        if ws is self.ws:
            self.ws = None
            self.report.closed(code)
            runner = self.environment.runner
            if runner is not None and runner.state not in ("stopping", "stopped"):
                gevent.sleep(self.backoff_s * random.uniform(0.5, 1.5))
                self.connect()

    def on_frame(self, frame: dict[str, Any]) -> None:
        kind = frame.get("type")
        if kind == "ack":
            done = [s for s in self.unacked if s <= frame["seq"]]
            if done:
                sent = max(self.unacked[s][1] for s in done)
                self.report.sample("WS", "fix->ack", (time.perf_counter() - sent) * 1000)
                for s in done:
                    del self.unacked[s]
        elif kind == "offer" and frame["offer_id"] not in self.answered:
            # An offer comes again after a reconnect while it is pending: answered once.
            self.answered.add(frame["offer_id"])
            self.report.sample("WS", "offer delivery", max(0, now_ms() - frame["server_time"]))
            gevent.spawn_later(random.uniform(1, 3), self.answer, frame["offer_id"])
        elif kind == "assignment":
            sent = self.accepted.pop(frame["offer_id"], None)
            if sent is not None:
                self.report.sample("WS", "accept->assignment", (time.perf_counter() - sent) * 1000)
            job = frame["attendance_id"]
            if job not in self.jobs:  # an assignment comes again after a reconnect
                gevent.spawn_later(random.uniform(5, 10), self.finish, job)
            self.jobs[job] = frame["state"]
        elif kind == "status" and frame["attendance_id"] in self.jobs:
            self.jobs[frame["attendance_id"]] = frame["state"]
        elif kind == "error" and frame.get("code") not in ("offer_closed", "offer_expired"):
            self.report.sample("error", frame.get("code", "?"), 0, frame.get("message", ""))

    def answer(self, offer_id: int) -> None:
        if self.ws is None:
            return
        if random.random() < ACCEPT_SHARE:
            self.accepted[offer_id] = time.perf_counter()
            self.ws.send(json.dumps({"type": "accept", "offer_id": offer_id, "eta_min": 15}))
        else:
            self.ws.send(json.dumps({"type": "refuse", "offer_id": offer_id, "reason": "busy"}))

    def finish(self, attendance_id: int) -> None:
        """The job done at once, so the provider is free again: each step still ahead (the
        hub may have seen the arrival itself, from the GPS), as the hub says the state is."""
        for step, before in STEPS:
            state = self.jobs.get(attendance_id)
            if self.ws is None or state in ENDED:
                break
            if state == before:
                self.ws.send(
                    json.dumps({"type": "step", "attendance_id": attendance_id, "step": step})
                )
                gevent.sleep(0.3)
        self.jobs.pop(attendance_id, None)

    @task
    def stream(self) -> None:
        """One batch of fixes along the provider's way (a second apart each)."""
        fixes = []
        for i in range(FIX_BATCH):
            self.heading += random.uniform(-0.3, 0.3)
            self.here = (
                self.here[0] + 0.00005 * math.cos(self.heading),
                self.here[1] + 0.00005 * math.sin(self.heading),
            )
            self.seq += 1
            at = now_ms() - (FIX_BATCH - 1 - i) * 1000
            fixes.append(
                {
                    "seq": self.seq,
                    "t": at,
                    "lat": round(self.here[0], 6),
                    "lng": round(self.here[1], 6),
                    "acc": 5.0,
                }
            )
        sent = time.perf_counter()
        for fix in fixes:
            self.unacked[fix["seq"]] = (fix, sent)
        if self.ws is not None:
            self._send_fixes(fixes)

    def _send_fixes(self, fixes: list[dict[str, Any]]) -> None:
        # On failure the receiver sees the close and reconnects; the fixes wait in unacked.
        with contextlib.suppress(OSError, websocket.WebSocketException):
            self.ws.send(json.dumps({"type": "fixes", "fixes": fixes}))  # type: ignore[union-attr]


class _Http:
    """The few calls Shared.ready makes, on a requests session with the host prefixed."""

    def __init__(self, session: Any, host: str) -> None:
        self.session, self.host = session, host

    def post(self, path: str, **kwargs: Any) -> Any:
        answer = self.session.post(self.host + path, **kwargs)
        answer.raise_for_status()
        return answer


class Console(User):
    """An operator's console: signs in, watches both panels and the newest attendances' logs,
    and measures how late each log line arrives (gaps: resyncs and offsets going back)."""

    weight = 1
    wait_time = constant_pacing(5)

    def on_start(self) -> None:
        import requests

        token, _ = Shared.ready(_Http(requests.Session(), self.host))
        self.report = HubSocket(self)
        self.ws = websocket.create_connection(ws_url(self.host, "/ws/dashboard"), timeout=10)
        self.ws.send(json.dumps({"type": "sign_in", "token": token}))
        for topic in ("dispatch", "tracking"):
            self.ws.send(json.dumps({"type": "subscribe", "topic": topic}))
        self.ws.settimeout(None)
        self.watched: list[str] = []
        self.offsets: dict[str, int] = {}
        gevent.spawn(self.receive)

    def on_stop(self) -> None:
        self.ws.close()

    def receive(self) -> None:
        self.report.closed(read_frames(self.ws, self.on_frame))

    def on_frame(self, frame: dict[str, Any]) -> None:
        kind, topic = frame.get("type"), frame.get("topic", "")
        if kind in ("snapshot", "update"):
            offset = int(str(frame["offset"]).split("-")[-1])
            if frame.get("resync") or offset < self.offsets.get(topic, 0):
                self.report.sample("WS", "update gap", 0, f"{topic}: resync or offset back")
            self.offsets[topic] = offset
        if kind == "update" and "line" in frame and frame["line"]:
            self.report.sample("WS", "update delivery", max(0, now_ms() - frame["line"]["at_ms"]))
        elif kind == "update" and frame.get("row"):
            self.watch(f"attendance:{frame['row']['attendance_id']}")
        elif kind == "error":
            self.report.sample("error", frame.get("code", "?"), 0, frame.get("message", ""))

    def watch(self, topic: str) -> None:
        """Follow the newest attendances' logs, five at a time."""
        if topic in self.watched:
            return
        self.watched.append(topic)
        self.ws.send(json.dumps({"type": "subscribe", "topic": topic}))
        if len(self.watched) > 5:
            self.ws.send(json.dumps({"type": "unsubscribe", "topic": self.watched.pop(0)}))

    @task
    def ping(self) -> None:
        self.ws.send(json.dumps({"type": "ping", "id": 1}))


class Operator(HttpUser):
    """An operator on the REST API: finds the beneficiary, opens an event, registers a tow
    and has it dispatched automatically."""

    weight = 1
    wait_time = between(2, 5)

    def on_start(self) -> None:
        token, self.beneficiary_id = Shared.ready(self.client)
        self.client.headers["Authorization"] = f"Bearer {token}"

    @task
    def assist(self) -> None:
        self.client.get("/beneficiaries/search?q=Maria", name="/beneficiaries/search")
        event = self.client.post(
            "/events", json={"beneficiary_id": self.beneficiary_id, "type": "mechanical_fault"}
        )
        if event.status_code != 201:
            return
        lat, lng = near_center()
        made = self.client.post(
            f"/events/{event.json()['event']['id']}/attendances",
            name="/events/{id}/attendances",
            json={
                "kind": "assistance",
                "service": "light_tow",
                "requester_name": "Maria",
                "requester_phone": "11999990000",
                "origin": {
                    "address": {"street": "Rua da Carga", "number": "1", "city": "São Paulo"},
                    "lat": lat,
                    "lng": lng,
                },
                "destination": GARAGE,
            },
        )
        if made.status_code == 201:
            self.client.post(
                f"/attendances/{made.json()['id']}/auto", name="/attendances/{id}/auto"
            )
