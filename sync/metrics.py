"""The Prometheus metrics the sync engine and its connectors count as they work.

Counters and histograms live in the process that observes them (a task worker, mostly).
With `PROMETHEUS_MULTIPROC_DIR` set — `deploy/entrypoint.sh` sets one per role — every
process of a role writes its values there and the role's exporter adds them up: the web's
`/metrics`, the worker's `METRICS_PORT` (ops/metrics.py). What is read from the database
at scrape time (links by state, queue depth) is in ops/metrics.py. docs/deployment.md
lists every metric.

The engine calls in here with single lines:

- `sync_attempt_count(record_type=…, outcome=…)` where SyncEvent rows are written;
- `http_client_instrument(client)` on each connector client made (times every request
  and counts the seconds waited for the shared request budget, sync/budget.py).
"""

from __future__ import annotations

import threading
import time
import weakref
from typing import Any

import requests
from prometheus_client import Counter, Histogram
from requests.adapters import HTTPAdapter

SYNC_ATTEMPTS = Counter(
    "hub_sync_attempts",
    "Sync attempts recorded in the sync history, by record type and outcome.",
    ["record_type", "outcome"],
)
EXTERNAL_REQUEST_SECONDS = Histogram(
    "hub_external_request_duration_seconds",
    "Requests to PM and LA: seconds until the whole answer was read, by system and "
    "status class (2xx…5xx; timeout or error when no answer came).",
    ["system", "status"],
    buckets=(0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
BUDGET_WAIT_SECONDS = Counter(
    "hub_request_budget_wait_seconds",
    "Seconds spent waiting for the shared request budget before calling a system.",
    ["system"],
)


def sync_attempt_count(*, record_type: str, outcome: str, count: int = 1) -> None:
    """Count `count` sync attempts (SyncEvent rows) of `record_type` with `outcome`."""
    SYNC_ATTEMPTS.labels(record_type=str(record_type), outcome=str(outcome)).inc(count)


def labels_initialise(*, record_types: list[str], outcomes: list[str], systems: list[str]):
    """Show every series from the start at 0, so a rate is defined before the first
    event (ops app, at start)."""
    for record_type in record_types:
        for outcome in outcomes:
            SYNC_ATTEMPTS.labels(record_type=record_type, outcome=outcome)
    for system in systems:
        BUDGET_WAIT_SECONDS.labels(system=system)


# Requests to PM and LA --------------------------------------------------------------------


class TimedAdapter(HTTPAdapter):
    """requests' transport adapter, timing each request of one system's client.

    Mounted on the client's session by `http_client_instrument`, so the connectors stay
    as they are: every request they send passes through here. Before each one it also
    reports what the client's request budget waited since the last report.
    """

    def __init__(self, *, system: str, client: Any, **kwargs):
        super().__init__(**kwargs)
        self.system = system
        self.client = client

    def send(self, request, stream=False, **kwargs):
        budget_waits_report(self.system, getattr(self.client, "limiter", None))
        started = time.perf_counter()
        try:
            response = super().send(request, stream=stream, **kwargs)
            if not stream:
                response.content  # noqa: B018 - read the body inside the timing
        except requests.Timeout:
            self._observe("timeout", started)
            raise
        except requests.RequestException:
            self._observe("error", started)
            raise
        self._observe(f"{response.status_code // 100}xx", started)
        return response

    def _observe(self, status: str, started: float) -> None:
        EXTERNAL_REQUEST_SECONDS.labels(system=self.system, status=status).observe(
            time.perf_counter() - started
        )


def http_client_instrument(client):
    """Time every request `client` (a connector's JsonHttpClient) sends, and count its
    budget's waits; answers the client."""
    adapter = TimedAdapter(system=client.system, client=client)
    client.session.mount("https://", adapter)
    client.session.mount("http://", adapter)
    return client


_reported: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_reported_lock = threading.Lock()


def budget_waits_report(system: str, budget: Any) -> None:
    """Add to the wait counter what `budget.waited` (sync/budget.py SharedBudget: seconds
    this process waited on it) grew by since the last report. A budget without `waited`
    (a client's own RateLimiter) is not counted."""
    waited = getattr(budget, "waited", None)
    if waited is None:
        return
    with _reported_lock:
        grown = waited - _reported.get(budget, 0.0)
        if grown > 0:
            BUDGET_WAIT_SECONDS.labels(system=system).inc(grown)
            _reported[budget] = waited
