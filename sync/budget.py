"""One request budget per external system, shared by every process of the hub.

Actionstep throttles per user session, org and IP, with limits it does not publish and
that change with load (docs.actionstep.com/api-limits); a hub with several workers must
spend one allowance, not one each. The budget is a token bucket kept where every process
sees it: in Redis when `REDIS_URL` is set (one Lua script, atomic, on Redis's clock), in
the database otherwise (one row per system, drawn under a row lock).

The bucket refills at `(per_minute - capacity) / 60` a second and holds at most
`capacity` (a few seconds' worth), so no 60-second window ever sees more than
`per_minute` requests. A process draws one token at a time and lets none lapse unspent.

The budget is spent in priority order (`Priority`): a request of a lower priority may
draw only while the bucket keeps a reserve for the higher ones, so a long backfill, which
runs the bucket down to its reserve, never makes a person's resync or a live change wait
for more than a token's refill.
"""

from __future__ import annotations

import abc
import contextlib
import enum
import threading
import time
from collections.abc import Iterator
from contextvars import ContextVar
from functools import lru_cache

from django.conf import settings
from django.db import transaction

from .models import RequestBudget, System

# The bucket holds this many seconds of the budget: room for the reserves below.
CAPACITY_SECONDS = 5


class Priority(enum.IntEnum):
    """Who is asking, most urgent first, and the share of the bucket each leaves for the
    more urgent (docs/decisions.md)."""

    LIVE = 0  # a person's resync, a change announced by a webhook, an API write
    RETRY = 1  # a retry after a failure, a poll looking for changes
    BACKFILL = 2  # records new to the hub, taken in bulk
    BACKGROUND = 3  # balance refreshes, reconciliation

    @property
    def reserve_share(self) -> float:
        return {0: 0.0, 1: 0.2, 2: 0.4, 3: 0.6}[self.value]


_priority: ContextVar[Priority] = ContextVar("request_priority", default=Priority.LIVE)


@contextlib.contextmanager
def budget_priority(priority: Priority) -> Iterator[None]:
    """Requests made inside the block draw at `priority`."""
    token = _priority.set(priority)
    try:
        yield
    finally:
        _priority.reset(token)


def current_priority() -> Priority:
    return _priority.get()


_REDIS_DRAW = """
local rate = tonumber(ARGV[1])
local capacity = tonumber(ARGV[2])
local wanted = tonumber(ARGV[3])
local reserve = tonumber(ARGV[4])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local held = redis.call('HMGET', KEYS[1], 'tokens', 'updated')
local tokens = tonumber(held[1]) or capacity
local updated = tonumber(held[2]) or now
tokens = math.min(capacity, tokens + math.max(0, now - updated) * rate)
local granted = math.max(0, math.min(wanted, math.floor(tokens - reserve)))
tokens = tokens - granted
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'updated', tostring(now))
redis.call('EXPIRE', KEYS[1], 3600)
return {granted, tostring(tokens)}
"""


def bucket_shape(per_minute: int) -> tuple[float, float]:
    """(refill per second, capacity) for a budget of `per_minute` in any 60 seconds."""
    per_minute = max(1, per_minute)
    capacity = min(max(1.0, float(per_minute * CAPACITY_SECONDS // 60)), per_minute / 2)
    capacity = max(1.0, capacity)
    rate = max(per_minute - capacity, 0.5) / 60.0
    return rate, capacity


class SharedBudget(abc.ABC):
    """Draws from a store shared between processes; `acquire()` before each request."""

    def __init__(self, system: str, per_minute: int):
        self.system = system
        self.per_minute = per_minute
        self.rate, self.capacity = bucket_shape(per_minute)
        self.lock = threading.Lock()
        self.waited = 0.0  # seconds spent waiting for the budget, for benchmarks

    def reserve(self, priority: Priority) -> float:
        """Tokens a draw at `priority` must leave in the bucket."""
        return int(self.capacity * priority.reserve_share)

    def acquire(self) -> None:
        priority = current_priority()
        reserve = self.reserve(priority)
        with self.lock:
            while True:
                granted, tokens = self.draw(1, reserve)
                if granted:
                    return
                wait = max(0.01, (reserve + 1 - tokens) / self.rate)
                self.waited += wait
                time.sleep(wait)

    @abc.abstractmethod
    def draw(self, wanted: int, reserve: float = 0) -> tuple[int, float]:
        """Take up to `wanted` tokens, leaving at least `reserve`; answers (granted,
        tokens left)."""


class RedisBudget(SharedBudget):
    def __init__(self, system: str, per_minute: int, *, url: str, namespace: str):
        super().__init__(system, per_minute)
        import redis

        self.redis = redis.Redis.from_url(url)
        self.key = f"{namespace}:request-budget:{system}"
        self.script = self.redis.register_script(_REDIS_DRAW)

    def draw(self, wanted: int, reserve: float = 0) -> tuple[int, float]:
        granted, tokens = self.script(
            keys=[self.key], args=[self.rate, self.capacity, wanted, reserve]
        )
        return int(granted), float(tokens)


class DatabaseBudget(SharedBudget):
    def draw(self, wanted: int, reserve: float = 0) -> tuple[int, float]:
        # The row lock lasts as long as the draw's transaction. The hub makes no call to
        # PM or LA inside a transaction of its own (token refreshes, which do, draw
        # nothing), so it is never held across an HTTP call.
        with transaction.atomic():
            row, _ = RequestBudget.objects.select_for_update().get_or_create(
                system=self.system,
                defaults={"tokens": self.capacity, "updated": time.time()},
            )
            now = time.time()
            tokens = min(self.capacity, row.tokens + max(0.0, now - row.updated) * self.rate)
            granted = max(0, min(wanted, int(tokens - reserve)))
            tokens -= granted
            RequestBudget.objects.filter(pk=row.pk).update(tokens=tokens, updated=now)
        return granted, tokens


class ProcessBudget(SharedBudget):
    """The same bucket inside this process only: for a hub of one process, and for tests
    that count database queries."""

    def __init__(self, system: str, per_minute: int):
        super().__init__(system, per_minute)
        self.tokens = self.capacity
        self.updated = time.monotonic()

    def draw(self, wanted: int, reserve: float = 0) -> tuple[int, float]:
        now = time.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        granted = max(0, min(wanted, int(self.tokens - reserve)))
        self.tokens -= granted
        return granted, self.tokens


@lru_cache(maxsize=8)
def _budget(system: str, per_minute: int, store: str, redis_url: str) -> SharedBudget:
    if store == "redis":
        return RedisBudget(system, per_minute, url=redis_url, namespace=settings.Q_CLUSTER["name"])
    if store == "database":
        return DatabaseBudget(system, per_minute)
    return ProcessBudget(system, per_minute)


def request_budget(system: str) -> SharedBudget:
    """This process's handle on the shared budget of `system` ("pm" or "la")."""
    per_minute = (
        settings.PM_REQUESTS_PER_MINUTE if system == System.PM else settings.LA_REQUESTS_PER_MINUTE
    )
    return _budget(system, per_minute, budget_store(), settings.REDIS_URL)


def budget_store() -> str:
    """`REQUEST_BUDGET_STORE`, else Redis when the hub has one, else the database."""
    chosen = getattr(settings, "REQUEST_BUDGET_STORE", "")
    if chosen:
        return chosen
    return "redis" if settings.REDIS_URL else "database"


def budgets_reset() -> None:
    _budget.cache_clear()
