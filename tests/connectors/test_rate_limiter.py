"""The per-system token bucket, on a fake clock (no real sleeping)."""

import pytest
import responses

from sync.connectors import base
from sync.connectors.base import JsonHttpClient, RateLimiter


class FakeClock:
    """Stands in for the `time` module inside sync.connectors.base."""

    def __init__(self):
        self.now = 1000.0
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


@pytest.fixture
def clock(monkeypatch):
    fake = FakeClock()
    monkeypatch.setattr(base, "time", fake)
    return fake


def test_a_burst_within_its_capacity_does_not_wait(clock):
    limiter = RateLimiter(per_minute=60)  # one a second, bursts of six

    for _ in range(6):
        limiter.acquire()

    assert clock.slept == []


def test_a_burst_bigger_than_its_capacity_waits_for_the_next_token(clock):
    limiter = RateLimiter(per_minute=60)

    for _ in range(8):
        limiter.acquire()

    assert clock.slept == pytest.approx([1.0, 1.0])
    assert clock.now == pytest.approx(1002.0)


def test_tokens_refill_over_time(clock):
    limiter = RateLimiter(per_minute=60)
    for _ in range(6):
        limiter.acquire()

    clock.now += 3
    for _ in range(3):
        limiter.acquire()

    assert clock.slept == []
    limiter.acquire()
    assert clock.slept == pytest.approx([1.0])


def test_tokens_never_pile_up_beyond_its_capacity(clock):
    limiter = RateLimiter(per_minute=60)

    clock.now += 3600
    for _ in range(7):
        limiter.acquire()

    assert clock.slept == pytest.approx([1.0])


def test_every_http_call_takes_a_token(clock):
    client = JsonHttpClient(
        base_url="https://system.example.test/", timeout=1, requests_per_minute=10
    )
    with responses.RequestsMock() as http:
        http.get("https://system.example.test/things", json={})
        for _ in range(2):
            client.send("GET", "things")

    # Ten a minute allows a burst of one; the second call waits six seconds.
    assert clock.slept == pytest.approx([6.0])
