"""The flood guard: bucket refill, strikes, retry hint."""

from hub.ingest.flood import FloodGuard


def test_burst_then_rate():
    g = FloodGuard(rate_per_s=10, burst=20, max_strikes=3, now_s=0.0)
    assert g.take(20, 0.0)
    assert not g.take(1, 0.0)
    assert g.take(10, 1.0)  # refilled 10 in one second


def test_strikes_in_a_row_exhaust_and_success_resets():
    g = FloodGuard(rate_per_s=1, burst=5, max_strikes=2, now_s=0.0)
    g.take(5, 0.0)
    assert not g.take(5, 0.0)
    assert not g.exhausted
    assert g.take(1, 1.0)
    assert g.strikes == 0
    assert not g.take(5, 1.0)
    assert not g.take(5, 1.0)
    assert g.exhausted


def test_retry_after_tells_when_the_batch_fits():
    g = FloodGuard(rate_per_s=10, burst=20, max_strikes=3, now_s=0.0)
    g.take(20, 0.0)
    assert g.retry_after_s(5) == 0.5


def test_a_clock_reading_slightly_behind_the_start_costs_nothing():
    g = FloodGuard(rate_per_s=1, burst=5, max_strikes=3, now_s=100.0005)
    assert g.take(5, 100.0)  # now_ms truncation puts "now" before the start stamp
