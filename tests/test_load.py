"""A headless locust run (bench/locustfile.py) against `hub cluster` for ~20 s: the hub's
latencies land in locust's statistics (acks, offers, assignments, console updates) and
nothing fails."""

from __future__ import annotations

import asyncio
import csv
import sys

import pytest

from tests.conftest import engine_settings, need_program
from tests.processes import environment
from tests.test_cluster import ROOT, hub_cluster

SECRET = "load-test-secret-" + "k" * 40


@pytest.mark.postgres
@pytest.mark.timeout(120)
async def test_locust_drives_a_cluster_with_no_failures(tmp_path):
    need_program("nginx", "Debian's nginx (apt-get install nginx)")
    async with (
        engine_settings("distributed", tmp_path, token_secret=SECRET) as settings,
        hub_cluster(settings, HUB_TOKEN_SECRET=SECRET) as cluster,
    ):
        run = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "locust",
            "-f",
            str(ROOT / "bench" / "locustfile.py"),
            "--host",
            f"http://127.0.0.1:{cluster.port}",
            "--headless",
            "--users",
            "24",
            "--spawn-rate",
            "12",
            "--run-time",
            "20s",
            "--only-summary",
            "--csv",
            str(tmp_path / "load"),
            env=environment(settings, HUB_TOKEN_SECRET=SECRET),
            cwd=tmp_path,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        _, err = await run.communicate()
        assert run.returncode == 0, err.decode()[-3000:]
    with (tmp_path / "load_stats.csv").open() as stats:
        rows = {(r["Type"], r["Name"]): r for r in csv.DictReader(stats)}
    count = {key: int(r["Request Count"]) for key, r in rows.items()}
    for needed in ("fix->ack", "connect->welcome", "offer delivery", "update delivery"):
        assert count.get(("WS", needed), 0) > 0, (needed, count)
    assert count[("POST", "/attendances/{id}/auto")] > 0
    assert rows[("", "Aggregated")]["Failure Count"] == "0", rows
