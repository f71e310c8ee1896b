"""The request budget every process of the hub shares, per system (sync/budget.py)."""

import multiprocessing
import time
import uuid

import pytest
import redis

from sync import budget
from sync.budget import (
    DatabaseBudget,
    Priority,
    ProcessBudget,
    RedisBudget,
    bucket_shape,
    budget_priority,
)

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
    # and not much slower than that: the bucket refills at (60 - 5) a minute
    assert len(spent) >= 0.9 * 300


@pytest.mark.django_db(transaction=True)
def test_two_processes_draw_from_one_database_budget():
    first, second = DatabaseBudget("pm", 60), DatabaseBudget("pm", 60)

    # The bucket holds five seconds' worth (five tokens at 60 a minute).
    assert first.draw(5)[0] == 5
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

    assert first.draw(5)[0] == 5
    assert second.draw(1)[0] == 0


@pytest.mark.parametrize(
    ("priority", "drawable"),
    [(Priority.LIVE, 5), (Priority.RETRY, 4), (Priority.BACKFILL, 3), (Priority.BACKGROUND, 2)],
)
def test_each_priority_leaves_a_reserve_for_the_more_urgent(clock, priority, drawable):
    handle = ProcessBudget("pm", 60)  # five tokens

    granted = 0
    with budget_priority(priority):
        while handle.draw(1, handle.reserve(priority))[0]:
            granted += 1

    assert granted == drawable


def test_a_live_request_is_served_at_once_while_a_backfill_spends_the_budget(clock):
    handle = ProcessBudget("pm", 60)
    with budget_priority(Priority.BACKFILL):
        for _ in range(30):  # the backfill has run the bucket down to its reserve
            handle.acquire()
    waited_by_backfill = handle.waited

    handle.acquire()  # a live change, at the default priority

    assert handle.waited == waited_by_backfill
    assert waited_by_backfill > 20  # the backfill itself was held to the budget


def _spend(namespace: str, per_minute: int, count: int, moments) -> None:
    handle = RedisBudget("pm", per_minute, url=REDIS_URL, namespace=namespace)
    for _ in range(count):
        handle.acquire()
        moments.put(time.time())


def test_processes_sharing_a_redis_budget_together_keep_to_it():
    redis_or_skip()
    namespace, per_minute = f"test-{uuid.uuid4()}", 600  # 10 a second, bursts of 50
    moments = multiprocessing.Queue()
    workers = [
        multiprocessing.Process(target=_spend, args=(namespace, per_minute, 30, moments))
        for _ in range(3)
    ]
    started = time.time()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    spent = sorted(moments.get(timeout=5) for _ in range(90))

    rate, capacity = bucket_shape(per_minute)
    # Every prefix of the run stays within the bucket: a burst, then the refill rate.
    for index, moment in enumerate(spent):
        assert index + 1 <= capacity + rate * (moment - started) + 1
    assert spent[-1] - started >= (90 - capacity) / rate - 0.5


def test_live_work_gets_a_task_and_work_that_can_wait_goes_to_the_runners(monkeypatch):
    from sync import services

    tasks, due = [], []
    monkeypatch.setattr(services.transaction, "on_commit", lambda run: run())
    monkeypatch.setattr(services, "async_task", lambda *args, **kwargs: tasks.append(args))
    monkeypatch.setattr(services, "link_due_now", due.append)

    with budget_priority(Priority.BACKFILL):
        services.link_task_queue(7)
    with budget_priority(Priority.RETRY):
        services.link_task_queue(8)
    services.link_task_queue(9)

    assert due == [7, 8]
    assert tasks == [("sync.tasks.link_sync_task", 9)]
