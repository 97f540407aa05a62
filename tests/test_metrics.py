"""Tallies gathered in plain Python reach the collectors at scrape time, or when enough wait."""

from hub.metrics import PENDING_MAX, Metrics


def count_of(metrics: Metrics, name: str) -> float:
    for family in metrics.registry.collect():
        for sample in family.samples:
            if sample.name == name:
                return float(sample.value)
    raise AssertionError(f"no sample {name}")


def test_tallies_reach_the_exposition():
    metrics = Metrics()
    metrics.accepted([3, 1, 0])
    metrics.accepted([2, 0, 1])
    metrics.ack_latency_s(0.004)
    text = metrics.exposition().decode()
    assert 'hub_fixes_accepted_total{kind="live"} 5.0' in text
    assert 'hub_fixes_accepted_total{kind="late"} 1.0' in text
    assert 'hub_fixes_accepted_total{kind="jump"} 1.0' in text
    assert 'hub_ack_latency_seconds_bucket{le="0.005"} 1.0' in text
    metrics.exposition()  # a second scrape adds nothing twice
    assert count_of(metrics, "hub_ack_latency_seconds_count") == 1


def test_ack_latencies_are_handed_over_once_enough_wait():
    metrics = Metrics()
    for _ in range(PENDING_MAX - 1):
        metrics.ack_latency_s(0.01)
    assert count_of(metrics, "hub_ack_latency_seconds_count") == 0
    metrics.ack_latency_s(0.01)
    assert count_of(metrics, "hub_ack_latency_seconds_count") == PENDING_MAX


async def test_metrics_behind_a_token_when_one_is_set(tmp_path):
    import httpx

    from tests.conftest import engine_settings, serve

    async with (
        engine_settings("embedded", tmp_path, metrics_token="m" * 24) as settings,
        serve(settings) as running,
        httpx.AsyncClient(base_url=running.http) as http,
    ):
        assert (await http.get("/metrics")).status_code == 401
        wrong = await http.get("/metrics", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401
        right = await http.get("/metrics", headers={"Authorization": "Bearer " + "m" * 24})
        assert right.status_code == 200 and "hub_provider_connections" in right.text
