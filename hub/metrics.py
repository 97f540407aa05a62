"""Prometheus metrics of one hub app (own registry, so several apps can share a process)."""

from __future__ import annotations

from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from hub.errors import Close

PENDING_MAX = 4096  # ack latencies held before they are handed to the histogram
ACK_BUCKETS_S = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.connections = Gauge(
            "hub_provider_connections", "Provider websocket sessions open now.", registry=r
        )
        self.sessions = Counter(
            "hub_provider_sessions", "Provider sessions authenticated.", registry=r
        )
        self.closes = Counter(
            "hub_provider_closes",
            "Provider sockets closed by the hub, by code (its name: going_away,"
            " frame_too_large, invalid_payload, ...).",
            ["code"],
            registry=r,
        )
        self.auth_failures = Counter(
            "hub_auth_failures",
            "Authentications refused, by reason code.",
            ["reason"],
            registry=r,
        )
        self.fixes_accepted = Counter(
            "hub_fixes_accepted",
            "GPS fixes accepted, by kind (live, late, jump).",
            ["kind"],
            registry=r,
        )
        self.fixes_rejected = Counter(
            "hub_fixes_rejected",
            "GPS fixes or frames refused, by reason code.",
            ["reason"],
            registry=r,
        )
        self.ack_latency = Histogram(
            "hub_ack_latency_seconds",
            "Frame arrival to the ack covering it.",
            buckets=ACK_BUCKETS_S,
            registry=r,
        )
        self.track_batch = Histogram(
            "hub_track_batch_fixes",
            "Fixes per track-store transaction.",
            buckets=(1, 10, 100, 500, 1000, 5000, 20000),
            registry=r,
        )
        self.track_commit = Histogram(
            "hub_track_commit_seconds",
            "Duration of one track-store transaction.",
            buckets=ACK_BUCKETS_S,
            registry=r,
        )
        self.offers = Counter(
            "hub_offers",
            "Offers made and how they ended, by event (made, accepted, refused, expired,"
            " withdrawn).",
            ["event"],
            registry=r,
        )
        self.decisions = Counter(
            "hub_dispatch_decisions",
            "Dispatch decisions made, by how (snapshot: on a snapshot, in one trip;"
            " again: made again with the attendance locked, the snapshot being behind;"
            " swept: by the sweeper, locked).",
            ["path"],
            registry=r,
        )
        self.background_failures = Counter(
            "hub_background_failures",
            "Failed runs of a background task (it goes on), by task.",
            ["task"],
            registry=r,
        )
        self.after_commit_failures = Counter(
            "hub_after_commit_failures",
            "What a committed decision could not tell at once (a store down; it waits and is"
            " tried again), by what: status-stream, push, link, engaged, kpis.",
            ["what"],
            registry=r,
        )
        self.after_commit_waiting = Gauge(
            "hub_after_commit_waiting",
            "Steps of committed decisions waiting for a store to come back (this node).",
            registry=r,
        )
        self.after_commit_lost = Counter(
            "hub_after_commit_lost",
            "Steps of committed decisions never told: the queue was full, both stores were"
            " down, or the node stopped while they waited in memory alone; by what.",
            ["what"],
            registry=r,
        )
        self.after_commit_claimed = Counter(
            "hub_after_commit_claimed",
            "Journaled steps of committed decisions this node took over to tell: a dead"
            " node's, or its own from before a restart.",
            registry=r,
        )
        self.deadline_lag = Histogram(
            "hub_deadline_lag_seconds",
            "Due time of a dispatch deadline to the moment it was acted on.",
            buckets=ACK_BUCKETS_S,
            registry=r,
        )

        # Label children resolved once: .labels() takes a lock and a dict lookup per call.
        self.accepted_by_verdict = [self.fixes_accepted.labels(k) for k in ("live", "late", "jump")]
        self._rejected: dict[str, Any] = {}
        # What every ingested frame adds is tallied in plain Python and handed to the
        # collectors at scrape time (or once enough gathers): each .inc() or .observe()
        # takes a lock, and ingest makes tens of thousands a second.
        self._accepted = [0, 0, 0]
        self._ack_latencies: list[float] = []

    def closed(self, code: int) -> None:
        """A provider socket the hub (or its websocket layer) closed, by the code's name."""
        try:
            name = Close(code).name.lower()
        except ValueError:  # a protocol-level code the hub does not name (1002, say)
            name = str(code)
        self.closes.labels(name).inc()

    def rejected(self, code: str, count: int = 1) -> None:
        child = self._rejected.get(code)
        if child is None:
            child = self._rejected[code] = self.fixes_rejected.labels(code)
        child.inc(count)

    def accepted(self, by_verdict: list[int]) -> None:
        tally = self._accepted
        tally[0] += by_verdict[0]
        tally[1] += by_verdict[1]
        tally[2] += by_verdict[2]

    def ack_latency_s(self, seconds: float) -> None:
        """A frame's arrival to the ack covering it."""
        latencies = self._ack_latencies
        latencies.append(seconds)
        if len(latencies) >= PENDING_MAX:
            self.flush()

    def flush(self) -> None:
        """Hand what was tallied to the collectors."""
        for child, count in zip(self.accepted_by_verdict, self._accepted, strict=True):
            if count:
                child.inc(count)
        self._accepted = [0, 0, 0]
        latencies, self._ack_latencies = self._ack_latencies, []
        observe = self.ack_latency.observe
        for seconds in latencies:
            observe(seconds)

    def exposition(self) -> bytes:
        self.flush()
        return generate_latest(self.registry)
