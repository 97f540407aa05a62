"""An acked fix survives kill -9 of the hub process (the ack follows the commit)."""

from __future__ import annotations

import signal

from hub.engines import open_records, token_issuer
from hub.operations import registry
from hub.operations.providers import NewProvider
from tests.client import ProviderClient, fixes
from tests.conftest import engine_settings
from tests.processes import environment, free_port, start


async def test_acked_fixes_survive_kill_9(engine_kind, tmp_path):
    async with engine_settings(engine_kind, tmp_path) as settings:
        env, port = environment(settings), free_port()
        process = await start(env, port)
        try:
            records = await open_records(settings)
            provider = await registry.register(
                records, NewProvider(name="Guincho", phone="+5511999990000")
            )
            token = (
                await registry.issue_token(
                    records, await token_issuer(settings, records), provider.id
                )
            ).token
            url = f"ws://127.0.0.1:{port}/ws/provider"
            acked = 0
            async with ProviderClient.connect(url, token) as app:
                await app.welcome()
                stream = fixes(1, 400, step_s=0.1)
                for start_at in range(0, 400, 20):
                    await app.send({"type": "fixes", "fixes": stream[start_at : start_at + 20]})
                acked = (await app.acked(100))["seq"]
                process.send_signal(signal.SIGKILL)  # mid-stream, no shutdown at all
                await process.wait()
            assert acked >= 100
            restarted = await start(env, port)
            try:
                stored = await records.tracks.history(provider.id, limit=1000)
                assert len(stored) >= acked
                assert [p.t_ms for p in stored[:acked]] == [f["t"] for f in stream[:acked]]
            finally:
                restarted.terminate()
                await restarted.wait()
            await records.close()
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
