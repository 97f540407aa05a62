"""``python -m bench sessions``: how many idle-but-alive provider sessions one hub holds.

The load generator opens N sessions (each sends a fix every 4 s), and the hub's resident
memory is read from /proc while all of them are open; the cost per session is the growth
over the idle hub divided by N.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path
from typing import Any

import msgspec

from bench.common import engines, free_port, hub_process, providers_with_tokens, rss_kib, say


async def run(count: int, hold_s: float) -> dict[str, Any]:
    async with engines("memory") as eng:
        say(f"registering {count} providers")
        providers = await providers_with_tokens(eng.env, count)
        port = free_port()
        with tempfile.TemporaryDirectory(prefix="hub-bench-") as folder:
            report = str(Path(folder) / "held.json")
            config = Path(folder) / "config.json"
            config.write_bytes(
                msgspec.json.encode(
                    {
                        "url": f"ws://127.0.0.1:{port}/ws/provider",
                        "providers": providers,
                        "mode": "hold",
                        "seconds": hold_s,
                        "interval_s": 4.0,
                        "report_file": report,
                        "history_s": 10,
                        "step_ms": 4000,
                    }
                )
            )
            with hub_process(eng.env, port) as hub:
                await asyncio.sleep(1.0)
                idle = rss_kib(hub.pid)
                say(f"idle hub: {idle} KiB; opening {count} sessions")
                child = await asyncio.create_subprocess_exec(
                    sys.executable,
                    "-m",
                    "bench.loadgen",
                    str(config),
                    stdout=asyncio.subprocess.PIPE,
                )
                while not Path(report).exists():
                    if child.returncode is not None:
                        raise RuntimeError("load generator exited early")
                    await asyncio.sleep(0.2)
                held = msgspec.json.decode(Path(report).read_bytes())
                loaded = rss_kib(hub.pid)
                say(f"{held['open']} sessions open; hub at {loaded} KiB")
                Path(report + ".done").write_text("")
                out, _ = await child.communicate()
    final = msgspec.json.decode(out.decode().strip().splitlines()[-1])
    sessions_held = min(held["open"], held["welcomed"])
    return {
        "scenario": "sessions",
        "sessions_requested": count,
        "sessions_held": sessions_held,
        "hub_rss_idle_kib": idle,
        "hub_rss_loaded_kib": loaded,
        "rss_per_session_kib": round((loaded - idle) / max(1, sessions_held), 2),
        "fixes_acked_while_holding": final["acked_fixes"],
        "errors": final["errors"],
    }


def main(count: int, quick: bool) -> dict[str, Any]:
    return asyncio.run(run(count if not quick else min(count, 1000), 8.0 if quick else 20.0))
