"""``python -m bench ingest``: GPS ingest throughput and ack latency versus a bare server.

The same load generator (its own process) drives, in one run: the bare picows server
(decode + ack only) and then the real hub (auth, filter, live state, track store, acks after
commit).  ``ratio_vs_bare`` prices exactly what the hub adds.  After the run every acked fix
is looked up in the track store: ``lost_acked_fixes`` must be 0.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import msgspec

from bench.common import (
    bench_records,
    cpu_s,
    engines,
    free_port,
    hub_process,
    providers_with_tokens,
    run_child,
    say,
)


async def drive(url: str, providers: list[tuple[int, str]], opts: dict[str, Any]) -> dict[str, Any]:
    with tempfile.NamedTemporaryFile("wb", suffix=".json", delete=False) as f:
        f.write(msgspec.json.encode({"url": url, "providers": providers, "mode": "stream", **opts}))
    try:
        return dict(msgspec.json.decode(await run_child("bench.loadgen", f.name)))
    finally:
        Path(f.name).unlink()


async def bare_baseline(providers: list[tuple[int, str]], opts: dict[str, Any]) -> dict[str, Any]:
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "bench.bare", str(port)], stdout=subprocess.PIPE
    )
    try:
        assert server.stdout is not None
        server.stdout.readline()  # "ready"
        return await drive(f"ws://127.0.0.1:{port}/", providers, opts)
    finally:
        server.terminate()
        server.wait(10)


async def run(engine: str, quick: bool) -> dict[str, Any]:
    sessions, seconds = (50, 5.0) if quick else (200, 15.0)
    opts = {"seconds": seconds, "batch": 20, "window": 2, "step_ms": 1, "history_s": 100}
    async with engines(engine) as eng:
        env = {
            **eng.env,
            "HUB_MAX_FIXES_PER_S": "1000000",
            "HUB_FIX_BURST": "1000000",
        }
        say(f"engine {engine}: registering {sessions} providers")
        providers = await providers_with_tokens(env, sessions)
        say(f"baseline: bare picows server, {sessions} sessions x {seconds} s")
        bare = await bare_baseline(providers, opts)
        say(f"bare: {bare['acked_fixes'] / bare['elapsed_s']:.0f} fixes/s")
        port = free_port()
        with hub_process(env, port) as process:
            say(f"hub ({engine}): {sessions} sessions x {seconds} s")
            cpu_before = cpu_s(process.pid), cpu_s(process.pid, process.pid)
            hub = await drive(f"ws://127.0.0.1:{port}/ws/provider", providers, opts)
            cpu_after = cpu_s(process.pid), cpu_s(process.pid, process.pid)
        say(f"hub: {hub['acked_fixes'] / hub['elapsed_s']:.0f} fixes/s; checking the store")
        async with bench_records(env) as records:
            stored_by = {pid: await records.tracks.count([pid]) for pid, _ in providers}
    acked_by = {int(k): v for k, v in hub["acked_by_provider"].items()}
    lost = sum(max(0, acked - stored_by.get(pid, 0)) for pid, acked in acked_by.items())
    fixes_per_s = hub["acked_fixes"] / hub["elapsed_s"]
    bare_fixes_per_s = bare["acked_fixes"] / bare["elapsed_s"]
    return {
        "scenario": "ingest",
        "engine": engine,
        "sessions": sessions,
        "seconds": seconds,
        "batch": opts["batch"],
        "fixes_per_s": round(fixes_per_s),
        "bare_fixes_per_s": round(bare_fixes_per_s),
        "ratio_vs_bare": round(fixes_per_s / bare_fixes_per_s, 3),
        "ack_p50_ms": hub["ack_p50_ms"],
        "ack_p99_ms": hub["ack_p99_ms"],
        "bare_ack_p50_ms": bare["ack_p50_ms"],
        "acked_fixes": hub["acked_fixes"],
        "stored_fixes": sum(stored_by.values()),
        "lost_acked_fixes": lost,
        # What a fix costs the hub in CPU (connecting included), all threads and the event
        # loop's thread alone: steadier than throughput on a noisy machine.
        "hub_cpu_us_per_fix": round(1e6 * (cpu_after[0] - cpu_before[0]) / hub["acked_fixes"], 2),
        "loop_cpu_us_per_fix": round(1e6 * (cpu_after[1] - cpu_before[1]) / hub["acked_fixes"], 2),
        "hub_errors": hub["errors"],
    }


def main(engine: str, quick: bool) -> dict[str, Any]:
    return asyncio.run(run(engine, quick))
