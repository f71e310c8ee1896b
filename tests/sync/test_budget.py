"""The request budget every process of the hub shares, per system (sync/budget.py)."""

import multiprocessing
import time
import uuid

import pytest
import redis

from sync import budget
from sync.budget import DatabaseBudget, ProcessBudget, RedisBudget, bucket_shape

REDIS_URL = "redis://127.0.0.1:6379/0"


class FakeClock:
    def __init__(self):
        self.now = 1000.0

    def monotonic(self):
        return self.now

    def time(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


@pytest.fixture
def clock(monkeypatch):
    fake = FakeClock()
    monkeypatch.setattr(budget, "time", fake)
    return fake


def most_in_any_minute(moments: list[float]) -> int:
    moments = sorted(moments)
    most, start = 0, 0
    for end, moment in enumerate(moments):
        while moment - moments[start] >= 60:
            start += 1
        most = max(most, end - start + 1)
    return most


@pytest.mark.parametrize("per_minute", [1, 30, 60, 120, 600, 6000])
def test_the_bucket_never_allows_more_than_the_budget_in_sixty_seconds(per_minute):
    rate, capacity = bucket_shape(per_minute)

    assert capacity + rate * 60 <= per_minute + 1e-9 or per_minute == 1


def test_a_process_budget_spends_at_most_its_allowance_in_any_minute(clock):
    spent = []
    handle = ProcessBudget("pm", 60)

    while clock.now < 1000 + 300:
        handle.acquire()
        spent.append(clock.now)

    assert most_in_any_minute(spent) <= 60
    assert len(spent) >= 0.97 * 300  # and not much slower than that


@pytest.mark.django_db(transaction=True)
def test_two_processes_draw_from_one_database_budget():
    first, second = DatabaseBudget("pm", 60), DatabaseBudget("pm", 60)

    assert first.draw(1)[0] == 1
    # The bucket holds one second's worth (one token at 60 a minute): it is spent.
    assert second.draw(1)[0] == 0


def redis_or_skip() -> redis.Redis:
    connection = redis.Redis.from_url(REDIS_URL)
    try:
        connection.ping()
    except redis.ConnectionError:
        pytest.skip("Redis is not running on 127.0.0.1:6379")
    return connection


def test_two_processes_draw_from_one_redis_budget():
    redis_or_skip()
    namespace = f"test-{uuid.uuid4()}"
    first = RedisBudget("pm", 60, url=REDIS_URL, namespace=namespace)
    second = RedisBudget("pm", 60, url=REDIS_URL, namespace=namespace)

    assert first.draw(1)[0] == 1
    assert second.draw(1)[0] == 0


def _spend(namespace: str, per_minute: int, count: int, moments) -> None:
    handle = RedisBudget("pm", per_minute, url=REDIS_URL, namespace=namespace)
    for _ in range(count):
        handle.acquire()
        moments.put(time.time())


def test_processes_sharing_a_redis_budget_together_keep_to_it():
    redis_or_skip()
    namespace, per_minute = f"test-{uuid.uuid4()}", 600  # 10 a second, bursts of 10
    moments = multiprocessing.Queue()
    workers = [
        multiprocessing.Process(target=_spend, args=(namespace, per_minute, 15, moments))
        for _ in range(3)
    ]
    started = time.time()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    spent = sorted(moments.get(timeout=5) for _ in range(45))

    rate, capacity = bucket_shape(per_minute)
    # Every prefix of the run stays within the bucket: a burst, then the refill rate.
    for index, moment in enumerate(spent):
        assert index + 1 <= capacity + rate * (moment - started) + 1
    assert spent[-1] - started >= (45 - capacity) / rate - 0.5
