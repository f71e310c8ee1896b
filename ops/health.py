"""Whether this hub can do its work now: the checks behind `/readyz`.

Each check answers ok or not with a short reason that names no host, address or secret
(the endpoint answers anyone who can reach it). A check that raises is a failed check,
never a failed page.

- **database**: a `SELECT 1` on the hub's database.
- **broker**: django-q2's broker — a Redis PING when `REDIS_URL` is set, else a read of the
  ORM broker's queue table.
- **pm**: the Practice Management connection as stored (sync/services/connection.py): it
  must be connected. No request is made: the engine keeps the state current.
- **la**: one authenticated request to Legal Accounting (`GET settings`, a single small
  row), with `READYZ_TIMEOUT`. Its answer is kept `READYZ_CACHE_SECONDS` in the cache
  (shared by every process when `REDIS_URL` is set), so probes every second cost LA one
  request per period, not one per probe. It does not draw on the request budget: a probe
  must not wait behind the engine's queue, and its few requests a minute are far below
  LA's limit.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass
from urllib.parse import urljoin

import requests
from django.conf import settings
from django.core.cache import cache
from django.db import connections

logger = logging.getLogger(__name__)

LA_CACHE_KEY = "ops:readyz:la"


@dataclass(frozen=True)
class CheckResult:
    name: str
    ok: bool
    detail: str

    def as_json(self) -> dict:
        return {key: value for key, value in asdict(self).items() if key != "name"}


def database_check() -> CheckResult:
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return CheckResult("database", True, connections["default"].vendor)


def broker_check() -> CheckResult:
    if settings.REDIS_URL:
        import redis

        client = redis.Redis.from_url(
            settings.REDIS_URL,
            socket_connect_timeout=settings.READYZ_TIMEOUT,
            socket_timeout=settings.READYZ_TIMEOUT,
        )
        try:
            client.ping()
        finally:
            client.close()
        return CheckResult("broker", True, "redis")
    from django_q.models import OrmQ

    alias = settings.Q_CLUSTER.get("orm", "default")
    OrmQ.objects.using(alias).order_by().exists()
    return CheckResult("broker", True, "orm")


def pm_check() -> CheckResult:
    from sync.models import PmConnection
    from sync.services.connection import pm_connection_read

    state = pm_connection_read().state
    return CheckResult("pm", state == PmConnection.State.CONNECTED, state)


def la_check() -> CheckResult:
    try:
        known = cache.get(LA_CACHE_KEY)
    except Exception:  # the cache is Redis when the broker is: its own check says so
        known = None
    if known is not None:
        return CheckResult("la", *known)
    result = _la_answer()
    with contextlib.suppress(Exception):  # without a cache the next probe asks again
        cache.set(LA_CACHE_KEY, (result.ok, result.detail), settings.READYZ_CACHE_SECONDS)
    return result


def _la_answer() -> CheckResult:
    try:
        response = requests.get(
            urljoin(settings.LA_API_URL, "settings"),
            headers={
                "Authorization": f"Bearer {settings.LA_API_TOKEN}",
                "Accept": "application/json",
            },
            timeout=settings.READYZ_TIMEOUT,
            allow_redirects=False,
        )
    except requests.Timeout:
        return CheckResult("la", False, "no answer in time")
    except requests.RequestException:
        return CheckResult("la", False, "unreachable")
    if response.status_code == 200:
        return CheckResult("la", True, "answered")
    if response.status_code in (401, 403):
        return CheckResult("la", False, f"refused the hub's token (HTTP {response.status_code})")
    return CheckResult("la", False, f"answered HTTP {response.status_code}")


CHECKS: list[tuple[str, Callable[[], CheckResult]]] = [
    ("database", database_check),
    ("broker", broker_check),
    ("pm", pm_check),
    ("la", la_check),
]


def readiness() -> list[CheckResult]:
    """Every check, each on its own: one failing does not stop the others."""
    results = []
    for name, check in CHECKS:
        try:
            results.append(check())
        except Exception as error:
            logger.warning("Readiness check %s failed: %s", name, type(error).__name__)
            results.append(CheckResult(name, False, f"failed ({type(error).__name__})"))
    return results
