"""One request budget per external system, shared by every process of the hub.

Actionstep throttles per user session, org and IP, with limits it does not publish and
that change with load (docs.actionstep.com/api-limits); a hub with several workers must
spend one allowance, not one each. The budget is a token bucket kept where every process
sees it: in Redis when `REDIS_URL` is set (one Lua script, atomic, on Redis's clock), in
the database otherwise (one row per system, drawn under a row lock).

The bucket refills at `(per_minute - burst) / 60` a second and holds at most `burst`
(a second's worth), so no 60-second window ever sees more than `per_minute` requests.
A process draws a few tokens at a time when the rate is high (one draw per second's worth
at most) and lets unspent ones lapse after a second, so a draw never saves tokens for a
later burst.
"""

from __future__ import annotations

import abc
import threading
import time
from functools import lru_cache

from django.conf import settings
from django.db import transaction

from .models import RequestBudget, System

# A drawn token not spent within this many seconds lapses.
DRAW_LIFETIME = 1.0

_REDIS_DRAW = """
local rate = tonumber(ARGV[1])
local capacity = tonumber(ARGV[2])
local wanted = tonumber(ARGV[3])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local held = redis.call('HMGET', KEYS[1], 'tokens', 'updated')
local tokens = tonumber(held[1]) or capacity
local updated = tonumber(held[2]) or now
tokens = math.min(capacity, tokens + math.max(0, now - updated) * rate)
local granted = math.min(wanted, math.floor(tokens))
tokens = tokens - granted
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'updated', tostring(now))
redis.call('EXPIRE', KEYS[1], 3600)
return {granted, tostring(tokens)}
"""


def bucket_shape(per_minute: int) -> tuple[float, float]:
    """(refill per second, capacity) for a budget of `per_minute` in any 60 seconds."""
    per_minute = max(1, per_minute)
    burst = max(1.0, float(per_minute // 60))
    rate = max(per_minute - burst, 0.5) / 60.0
    return rate, burst


class SharedBudget(abc.ABC):
    """Draws from a store shared between processes; `acquire()` before each request."""

    def __init__(self, system: str, per_minute: int):
        self.system = system
        self.per_minute = per_minute
        self.rate, self.capacity = bucket_shape(per_minute)
        self.draw_size = max(1, int(self.capacity))
        self.lock = threading.Lock()
        self.held = 0
        self.held_until = 0.0
        self.waited = 0.0  # seconds spent waiting for the budget, for benchmarks

    def acquire(self) -> None:
        with self.lock:
            while True:
                now = time.monotonic()
                if self.held and now < self.held_until:
                    self.held -= 1
                    return
                granted, tokens = self.draw(self.draw_size)
                if granted:
                    self.held = granted - 1
                    self.held_until = time.monotonic() + DRAW_LIFETIME
                    return
                wait = max(0.01, (1 - tokens) / self.rate)
                self.waited += wait
                time.sleep(wait)

    @abc.abstractmethod
    def draw(self, wanted: int) -> tuple[int, float]:
        """Take up to `wanted` tokens; answers (granted, tokens left)."""


class RedisBudget(SharedBudget):
    def __init__(self, system: str, per_minute: int, *, url: str, namespace: str):
        super().__init__(system, per_minute)
        import redis

        self.redis = redis.Redis.from_url(url)
        self.key = f"{namespace}:request-budget:{system}"
        self.script = self.redis.register_script(_REDIS_DRAW)

    def draw(self, wanted: int) -> tuple[int, float]:
        granted, tokens = self.script(keys=[self.key], args=[self.rate, self.capacity, wanted])
        return int(granted), float(tokens)


class DatabaseBudget(SharedBudget):
    def draw(self, wanted: int) -> tuple[int, float]:
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
            granted = min(wanted, int(tokens))
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

    def draw(self, wanted: int) -> tuple[int, float]:
        now = time.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        granted = min(wanted, int(self.tokens))
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
